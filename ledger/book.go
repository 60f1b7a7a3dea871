package ledger

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/allot-dev/allot/internal/fastdecimal"
	"github.com/shopspring/decimal"
)

// Book is the ledger inside one transaction. Domain packages use it to post
// their transfers in the same transaction as their own records; Ledger uses it
// for each of its one-operation transactions. All of the ledger's rules live
// here, so they hold whatever store is underneath.
//
// A Book is given the time when it is made or Reset: every record it writes
// carries that instant. It is not safe for concurrent use, and is valid only
// while its transaction is.
type Book struct {
	tx  Tx
	now time.Time
	one scratch
	// alone says the transaction is this Book's one post (Ledger.Post):
	// the store may commit with its lock (see LockHint.Alone).
	alone bool
}

// scratch is a Book's working space for writes of one transfer or hold, the
// common case, so they allocate no slices of their own. Stores keep copies
// of what they are given, never the slices, so each write reuses it.
type scratch struct {
	ids      [1]TransferID
	first    [1]int
	accounts [2]AccountID
	posted   [1]Transfer
	found    [1]Transfer
	holds    [1]Hold
	states   [2]AccountState
}

// NewBook returns a Book over tx that acts at now (converted to UTC and
// truncated to microseconds, the precision stores keep). A Book carries
// about a kilobyte of working space; code that runs many transactions can
// keep one and Reset it for each instead.
func NewBook(tx Tx, now time.Time) *Book {
	b := new(Book)
	b.Reset(tx, now)
	return b
}

// Reset makes b a Book over tx that acts at now, as NewBook does, reusing
// its working space. The zero Book is ready for Reset. The working space
// keeps the last write's records until the next write overwrites them; a
// Book kept in a pool is best zeroed before it goes back.
func (b *Book) Reset(tx Tx, now time.Time) {
	b.tx, b.now, b.alone = tx, Instant(now), false
}

// Now returns the instant the Book acts at.
func (b *Book) Now() time.Time { return b.now }

// Tx returns the transaction the Book writes in.
func (b *Book) Tx() Tx { return b.tx }

// DefineUnit registers a unit. Defining a unit again with the same scale
// returns it unchanged; with another scale it is an error matching ErrConflict,
// because amounts already recorded depend on it.
func (b *Book) DefineUnit(ctx context.Context, u Unit) (Unit, error) {
	if err := validateUnit(u); err != nil {
		return Unit{}, fmt.Errorf("define unit %q: %w", u.Code, err)
	}
	got, err := b.tx.UnitGet(ctx, u.Code)
	switch {
	case err == nil:
		if got.Scale != u.Scale {
			return Unit{}, fmt.Errorf("define unit %q: %w", u.Code, &ConflictError{Kind: "unit", ID: u.Code, Field: "scale"})
		}
		return got, nil
	case !errors.Is(err, ErrNotFound):
		return Unit{}, fmt.Errorf("define unit %q: %w", u.Code, err)
	}
	if err := b.tx.UnitInsert(ctx, u); err != nil {
		if errors.Is(err, ErrAlreadyExists) {
			// A concurrent transaction defined it first: the same outcome as
			// finding it above.
			if got, gerr := b.tx.UnitGet(ctx, u.Code); gerr == nil {
				if got.Scale != u.Scale {
					return Unit{}, fmt.Errorf("define unit %q: %w", u.Code, &ConflictError{Kind: "unit", ID: u.Code, Field: "scale"})
				}
				return got, nil
			}
		}
		return Unit{}, fmt.Errorf("define unit %q: %w", u.Code, err)
	}
	return u, nil
}

// Unit returns the unit with the given code.
func (b *Book) Unit(ctx context.Context, code string) (Unit, error) {
	if err := checkID("Code", code); err != nil {
		return Unit{}, fmt.Errorf("get unit %q: %w", code, err)
	}
	u, err := b.tx.UnitGet(ctx, code)
	if err != nil {
		return Unit{}, fmt.Errorf("get unit %q: %w", code, notFound(err, "unit", code))
	}
	return u, nil
}

// CreateAccount opens an account with a zero balance. Creating it again with
// the same ID, unit, owner, flags and metadata returns the existing account;
// with anything else different it is an error matching ErrConflict.
func (b *Book) CreateAccount(ctx context.Context, a Account) (Account, error) {
	if err := validateAccount(a); err != nil {
		return Account{}, fmt.Errorf("create account %q: %w", a.ID, err)
	}
	if err := b.checkNow(); err != nil {
		return Account{}, fmt.Errorf("create account %q: %w", a.ID, err)
	}
	got, err := b.tx.AccountGet(ctx, a.ID)
	switch {
	case err == nil:
		if field := got.Account.DefinitionDiff(a); field != "" {
			return Account{}, fmt.Errorf("create account %q: %w", a.ID, &ConflictError{Kind: "account", ID: string(a.ID), Field: field})
		}
		return got.Account, nil
	case !errors.Is(err, ErrNotFound):
		return Account{}, fmt.Errorf("create account %q: %w", a.ID, err)
	}
	u, err := b.tx.UnitGet(ctx, a.Unit)
	if err != nil {
		return Account{}, fmt.Errorf("create account %q: %w", a.ID, notFound(err, "unit", a.Unit))
	}
	a.Metadata = cloneMetadata(a.Metadata)
	a.CreatedAt = b.now
	st := AccountState{Account: a, Scale: u.Scale}
	if err := b.tx.AccountInsert(ctx, st); err != nil {
		if errors.Is(err, ErrAlreadyExists) {
			// A concurrent transaction created it first: the same outcome as
			// finding it above.
			if got, gerr := b.tx.AccountGet(ctx, a.ID); gerr == nil {
				if field := got.Account.DefinitionDiff(a); field != "" {
					return Account{}, fmt.Errorf("create account %q: %w", a.ID, &ConflictError{Kind: "account", ID: string(a.ID), Field: field})
				}
				return got.Account, nil
			}
		}
		return Account{}, fmt.Errorf("create account %q: %w", a.ID, err)
	}
	return a, nil
}

// EnsureAccount makes sure an account exists with exactly this definition
// (unit, owner, flags and metadata): it opens it with a zero balance if its
// ID is free, and leaves an identical account as it is. An account stored
// with another definition is an error matching ErrConflict (the
// *ConflictError CreateAccount returns); an unknown unit matches
// ErrNotFound. It is CreateAccount for callers that need only the account to
// exist: a store may defer its write to the transaction's next statement or
// its commit, so that it costs no round trip of its own, and still reports
// its failure here.
func (b *Book) EnsureAccount(ctx context.Context, a Account) error {
	var one [1]Account
	one[0] = a
	if err := b.ensure(ctx, one[:]); err != nil {
		return fmt.Errorf("ensure account %q: %w", a.ID, err)
	}
	return nil
}

// EnsureAccounts is EnsureAccount for several accounts, all or none: if one
// is refused, none is opened. An ID may appear more than once with the same
// definition; with another, it is an error matching ErrConflict. Opening any
// number of accounts costs a store no more statements than one.
func (b *Book) EnsureAccounts(ctx context.Context, as []Account) error {
	if err := b.ensure(ctx, as); err != nil {
		return fmt.Errorf("ensure %d accounts: %w", len(as), err)
	}
	return nil
}

func (b *Book) ensure(ctx context.Context, as []Account) error {
	if len(as) == 0 {
		return nil
	}
	if err := b.checkNow(); err != nil {
		return err
	}
	for i := range as {
		if err := validateAccount(as[i]); err != nil {
			if len(as) > 1 {
				return fmt.Errorf("account %d (%q): %w", i, as[i].ID, err)
			}
			return err
		}
	}
	var one [1]AccountState
	var sts []AccountState
	if len(as) == 1 {
		sts = one[:0]
	} else {
		sts = make([]AccountState, 0, len(as))
	}
	var seen map[AccountID]int // index in sts, for more than a few accounts
	for i := range as {
		a := &as[i]
		k := -1
		if len(as) > idIndexLinear {
			if seen == nil {
				seen = make(map[AccountID]int, len(as))
			}
			if j, ok := seen[a.ID]; ok {
				k = j
			} else {
				seen[a.ID] = len(sts)
			}
		} else {
			for j := range sts {
				if sts[j].ID == a.ID {
					k = j
					break
				}
			}
		}
		if k >= 0 {
			if field := sts[k].Account.DefinitionDiff(*a); field != "" {
				return &ConflictError{Kind: "account", ID: string(a.ID), Field: field}
			}
			continue
		}
		st := AccountState{Account: *a}
		st.Metadata = cloneMetadata(a.Metadata)
		st.CreatedAt = b.now
		sts = append(sts, st)
	}
	return b.tx.AccountsEnsure(ctx, sts)
}

// Account returns the account with the given ID.
func (b *Book) Account(ctx context.Context, id AccountID) (Account, error) {
	if err := checkID("ID", string(id)); err != nil {
		return Account{}, fmt.Errorf("get account %q: %w", id, err)
	}
	st, err := b.tx.AccountGet(ctx, id)
	if err != nil {
		return Account{}, fmt.Errorf("get account %q: %w", id, notFound(err, "account", string(id)))
	}
	return st.Account, nil
}

// Balance returns the account's balance now. Holds past their expiry do not
// count, whether or not a write has released them yet.
func (b *Book) Balance(ctx context.Context, id AccountID) (Balance, error) {
	if err := checkID("ID", string(id)); err != nil {
		return Balance{}, fmt.Errorf("get balance of %q: %w", id, err)
	}
	st, err := b.tx.AccountGet(ctx, id)
	if err != nil {
		return Balance{}, fmt.Errorf("get balance of %q: %w", id, notFound(err, "account", string(id)))
	}
	if st.Held.Sign() != 0 {
		expired, err := b.expiredHolds(ctx, id)
		if err != nil {
			return Balance{}, fmt.Errorf("get balance of %q: %w", id, err)
		}
		for _, h := range expired {
			st.Held = fastdecimal.Diff(st.Held, h.Amount)
		}
	}
	return balanceOf(st), nil
}

// BalanceAt returns the account's posted balance as of t: after every
// transfer posted at or before t, and none after.
func (b *Book) BalanceAt(ctx context.Context, id AccountID, t time.Time) (decimal.Decimal, error) {
	if err := checkID("ID", string(id)); err != nil {
		return decimal.Decimal{}, fmt.Errorf("get balance of %q at %v: %w", id, t, err)
	}
	if err := checkTime("t", t); err != nil {
		return decimal.Decimal{}, fmt.Errorf("get balance of %q: %w", id, err)
	}
	if _, err := b.tx.AccountGet(ctx, id); err != nil {
		return decimal.Decimal{}, fmt.Errorf("get balance of %q at %v: %w", id, t, notFound(err, "account", string(id)))
	}
	last, err := b.tx.TransferList(ctx, TransferListParams{
		Account: id,
		To:      Instant(t).Add(time.Microsecond),
		Desc:    true,
		Limit:   1,
	})
	if err != nil {
		return decimal.Decimal{}, fmt.Errorf("get balance of %q at %v: %w", id, t, err)
	}
	if len(last) == 0 {
		return decimal.Zero, nil
	}
	return entryOf(last[0], id).Balance, nil
}

// Transfer returns the transfer with the given ID.
func (b *Book) Transfer(ctx context.Context, id TransferID) (Transfer, error) {
	if err := checkID("ID", string(id)); err != nil {
		return Transfer{}, fmt.Errorf("get transfer %q: %w", id, err)
	}
	b.one.ids[0] = id
	got, err := b.tx.TransfersGet(ctx, b.one.ids[:], b.one.found[:0])
	if err != nil {
		return Transfer{}, fmt.Errorf("get transfer %q: %w", id, err)
	}
	if len(got) == 0 {
		return Transfer{}, fmt.Errorf("get transfer %q: %w", id, &NotFoundError{Kind: "transfer", ID: string(id)})
	}
	return got[0], nil
}

// Post posts one transfer. Posting an ID that was already posted with the
// same contents returns the original transfer and changes nothing; with other
// contents it is an error matching ErrConflict.
func (b *Book) Post(ctx context.Context, t Transfer) (Transfer, error) {
	var one [1]BatchResult
	res, err := b.post(ctx, []Transfer{t}, true, one[:])
	if err != nil {
		return Transfer{}, fmt.Errorf("post transfer %q: %w", t.ID, err)
	}
	return res[0].Transfer, nil
}

// PostGroup posts transfers atomically: all of them or none. An ID may appear
// once in a group. Transfers of the group that were already posted with the
// same contents are returned as they were and not posted again.
func (b *Book) PostGroup(ctx context.Context, ts []Transfer) ([]Transfer, error) {
	res, err := b.post(ctx, ts, true, make([]BatchResult, len(ts)))
	if err != nil {
		return nil, fmt.Errorf("post group of %d transfers: %w", len(ts), err)
	}
	out := make([]Transfer, len(res))
	for i, r := range res {
		out[i] = r.Transfer
	}
	return out, nil
}

// BatchResult is the outcome of one transfer of a batch: the posted transfer,
// or the error that refused it.
type BatchResult struct {
	Transfer Transfer
	Err      error
}

// PostBatch posts independent transfers in one transaction and returns one
// result per transfer, in order: a refused transfer does not stop the others.
// An ID repeated in a batch with the same contents has the same result as its
// first occurrence; with other contents it is refused with ErrConflict. The
// returned error is for failures of the whole call.
func (b *Book) PostBatch(ctx context.Context, ts []Transfer) ([]BatchResult, error) {
	res, err := b.post(ctx, ts, false, make([]BatchResult, len(ts)))
	if err != nil {
		return nil, fmt.Errorf("post batch of %d transfers: %w", len(ts), err)
	}
	return res, nil
}

// post posts ts and fills res, one result per transfer. With atomic set, the
// first refusal fails the whole call; otherwise refusals are reported per
// item. Small requests keep their scratch space on the stack.
func (b *Book) post(ctx context.Context, ts []Transfer, atomic bool, res []BatchResult) ([]BatchResult, error) {
	if len(ts) == 0 {
		if atomic {
			return nil, invalid("transfers", "none given")
		}
		return nil, nil
	}
	if err := b.checkNow(); err != nil {
		return nil, err
	}
	refuse := func(i int, err error) error {
		if !atomic {
			res[i].Err = err
			return nil
		}
		if len(ts) > 1 {
			return fmt.Errorf("transfer %d (%q): %w", i, ts[i].ID, err)
		}
		return err
	}

	// Static checks, and each distinct ID with its first occurrence.
	var ix idIndex
	var accountIDs []AccountID
	if len(ts) == 1 {
		ix.ids, ix.first, accountIDs = b.one.ids[:0], b.one.first[:0], b.one.accounts[:0]
	} else {
		ix.ids, ix.first = make([]TransferID, 0, len(ts)), make([]int, 0, len(ts))
		accountIDs = make([]AccountID, 0, 2*len(ts))
	}
	for i := range ts {
		t := &ts[i]
		if err := validateTransfer(t); err != nil {
			if err := refuse(i, err); err != nil {
				return nil, err
			}
			continue
		}
		if _, ok := ix.find(t.ID); ok {
			if atomic {
				return nil, refuse(i, invalid("ID", "%q appears twice in the group; each transfer needs its own ID", t.ID))
			}
			continue // settled below, from its first occurrence
		}
		ix.add(t.ID, i)
		accountIDs = append(accountIDs, t.Debit, t.Credit)
	}

	// Lock first, then look for earlier posts: a concurrent post of the same
	// transfer locks the same accounts, so it is seen here once it commits.
	b.prefetch(LockHint{Now: b.now, Alone: b.alone && len(ts) == 1})
	if p, ok := b.tx.(TransfersPrefetcher); ok && len(ix.ids) > 0 {
		if len(ix.ids) == len(ts) {
			p.TransfersPrefetch(ts)
		} else {
			firsts := make([]Transfer, len(ix.first))
			for k, i := range ix.first {
				firsts[k] = ts[i]
			}
			p.TransfersPrefetch(firsts)
		}
	}
	var locked lockSet
	if err := b.lock(ctx, accountIDs, &locked); err != nil {
		return nil, err
	}
	var doneBuf [4]bool
	var done []bool // posted before, or taken by a hold
	if len(ix.ids) <= len(doneBuf) {
		done = doneBuf[:len(ix.ids)]
	} else {
		done = make([]bool, len(ix.ids))
	}
	ndone := 0
	if len(ix.ids) > 0 {
		var into []Transfer
		if len(ix.ids) == 1 {
			into = b.one.found[:0]
		}
		prior, err := b.tx.TransfersGet(ctx, ix.ids, into)
		if err != nil {
			return nil, err
		}
		for _, p := range prior {
			k, _ := ix.find(p.ID)
			i := ix.first[k]
			done[k] = true
			ndone++
			if field := transferDiff(p, ts[i]); field != "" {
				if err := refuse(i, &ConflictError{Kind: "transfer", ID: string(p.ID), Field: field}); err != nil {
					return nil, err
				}
				continue
			}
			res[i].Transfer = p
		}
	}
	if ndone < len(ix.ids) {
		var into []Hold
		if len(ix.ids) == 1 {
			into = b.one.holds[:0]
		}
		holds, err := b.tx.HoldsGet(ctx, ix.ids, into)
		if err != nil {
			return nil, err
		}
		for _, h := range holds {
			k, _ := ix.find(h.ID)
			done[k] = true
			if err := refuse(ix.first[k], &ConflictError{Kind: "transfer", ID: string(h.ID), Field: "kind (the ID belongs to a hold)"}); err != nil {
				return nil, err
			}
		}
	}

	at := b.postedAt(&locked)
	var posted []Transfer
	if len(ix.ids) == 1 {
		posted = b.one.posted[:0]
	} else {
		posted = make([]Transfer, 0, len(ix.ids))
	}
	var fromBuf [4]int
	postedFrom := fromBuf[:0] // index in ts of each posted transfer
	for k, i := range ix.first {
		if done[k] {
			continue
		}
		posted = append(posted, ts[i])
		p := &posted[len(posted)-1]
		p.Hold = ""
		if err := locked.move(p, at); err != nil {
			posted = posted[:len(posted)-1]
			if err := refuse(i, err); err != nil {
				return nil, err
			}
			continue
		}
		postedFrom = append(postedFrom, i)
	}

	if c := locked.changes(); len(c.Accounts) > 0 {
		c.Transfers = posted
		if err := b.tx.Apply(ctx, c); err != nil {
			return nil, applyErr(err, "transfer", ix.ids)
		}
	}
	// Apply numbered the transfers in place.
	for k, i := range postedFrom {
		res[i].Transfer = posted[k]
	}
	// A repeated ID shares its first occurrence's result if the contents
	// agree.
	if len(ix.ids) == len(ts) {
		return res, nil // no ID repeated
	}
	for i := range ts {
		k, ok := ix.find(ts[i].ID)
		if !ok || ix.first[k] == i || res[i].Err != nil {
			continue
		}
		j := ix.first[k]
		if field := transferDiff(ts[j], ts[i]); field != "" {
			res[i].Err = &ConflictError{Kind: "transfer", ID: string(ts[i].ID), Field: field}
			continue
		}
		res[i] = res[j]
	}
	return res, nil
}

// idIndex lists distinct transfer IDs in the order first seen, with the
// position of each first occurrence. Small requests, the common case, are
// searched linearly; large batches get a map.
type idIndex struct {
	ids   []TransferID
	first []int
	m     map[TransferID]int
}

const idIndexLinear = 16

func (x *idIndex) find(id TransferID) (int, bool) {
	if x.m != nil {
		k, ok := x.m[id]
		return k, ok
	}
	for k, v := range x.ids {
		if v == id {
			return k, true
		}
	}
	return 0, false
}

func (x *idIndex) add(id TransferID, i int) {
	x.ids = append(x.ids, id)
	x.first = append(x.first, i)
	switch {
	case x.m != nil:
		x.m[id] = len(x.ids) - 1
	case len(x.ids) > idIndexLinear:
		x.m = make(map[TransferID]int, 2*len(x.ids))
		for k, v := range x.ids {
			x.m[v] = k
		}
	}
}

// CreateHold reserves h.Amount on the debit account. Creating a hold again
// with the same ID and contents returns it as it is now; with other contents
// it is an error matching ErrConflict.
func (b *Book) CreateHold(ctx context.Context, h Hold) (Hold, error) {
	out, err := b.createHold(ctx, h)
	if err != nil {
		return Hold{}, fmt.Errorf("create hold %q: %w", h.ID, err)
	}
	return out, nil
}

func (b *Book) createHold(ctx context.Context, h Hold) (Hold, error) {
	if err := validateTransfer(&Transfer{ID: h.ID, Debit: h.Debit, Credit: h.Credit, Amount: h.Amount, Code: h.Code, Actor: h.Actor, Metadata: h.Metadata}); err != nil {
		return Hold{}, err
	}
	if err := checkTime("ExpiresAt", h.ExpiresAt); err != nil {
		return Hold{}, err
	}
	if err := b.checkNow(); err != nil {
		return Hold{}, err
	}
	if !h.ExpiresAt.IsZero() {
		h.ExpiresAt = Instant(h.ExpiresAt)
	}
	// Lock the debit account, then read the credit account (whose unit and
	// scale never change, so it needs no lock) and any earlier use of the ID.
	b.one.ids[0] = h.ID
	b.prefetch(LockHint{Now: b.now, Account: h.Credit, IDs: b.one.ids[:]})
	locked := new(lockSet)
	b.one.accounts[0] = h.Debit
	if err := b.lock(ctx, b.one.accounts[:1], locked); err != nil {
		return Hold{}, err
	}
	credit, err := b.tx.AccountGet(ctx, h.Credit)
	if err != nil {
		return Hold{}, notFound(err, "account", string(h.Credit))
	}
	prior, err := b.tx.HoldsGet(ctx, b.one.ids[:], b.one.holds[:0])
	if err != nil {
		return Hold{}, err
	}
	if len(prior) > 0 {
		if field := holdDiff(prior[0], h); field != "" {
			return Hold{}, &ConflictError{Kind: "hold", ID: string(h.ID), Field: field}
		}
		return prior[0].at(b.now), nil
	}
	if !h.ExpiresAt.IsZero() && !h.ExpiresAt.After(b.now) {
		return Hold{}, invalid("ExpiresAt", "%v is not after now (%v)", h.ExpiresAt, b.now)
	}
	if ts, err := b.tx.TransfersGet(ctx, b.one.ids[:], b.one.found[:0]); err != nil {
		return Hold{}, err
	} else if len(ts) > 0 {
		return Hold{}, &ConflictError{Kind: "hold", ID: string(h.ID), Field: "kind (the ID belongs to a transfer)"}
	}
	debit := locked.get(h.Debit)
	if debit == nil {
		return Hold{}, &NotFoundError{Kind: "account", ID: string(h.Debit)}
	}
	if err := checkPair(debit, &credit, h.Amount); err != nil {
		return Hold{}, err
	}
	if err := debit.cover(h.Amount); err != nil {
		return Hold{}, err
	}
	debit.Held = fastdecimal.Sum(debit.Held, h.Amount)
	locked.touch(debit)

	h.Metadata = cloneMetadata(h.Metadata)
	h.Unit = debit.Unit
	h.Status = HoldPending
	h.CreatedAt = b.now
	h.SettledAt = time.Time{}
	h.Posted = decimal.Zero
	c := locked.changes()
	b.one.holds[0] = h
	c.HoldsInsert = b.one.holds[:]
	if err := b.tx.Apply(ctx, c); err != nil {
		return Hold{}, applyErr(err, "hold", []TransferID{h.ID})
	}
	return h, nil
}

// Hold returns the hold with the given ID as it reads now: a pending hold
// past its expiry reads as expired.
func (b *Book) Hold(ctx context.Context, id TransferID) (Hold, error) {
	if err := checkID("ID", string(id)); err != nil {
		return Hold{}, fmt.Errorf("get hold %q: %w", id, err)
	}
	b.one.ids[0] = id
	got, err := b.tx.HoldsGet(ctx, b.one.ids[:], b.one.holds[:0])
	if err != nil {
		return Hold{}, fmt.Errorf("get hold %q: %w", id, err)
	}
	if len(got) == 0 {
		return Hold{}, fmt.Errorf("get hold %q: %w", id, &NotFoundError{Kind: "hold", ID: string(id)})
	}
	return got[0].at(b.now), nil
}

// PostHold posts amount of a pending hold, at most its whole amount, as a
// transfer that takes the hold's ID; the rest is released. A hold that was
// already posted, voided or has expired is an error matching
// ErrHoldNotPending, so two settlements of one hold never both succeed.
func (b *Book) PostHold(ctx context.Context, id TransferID, amount decimal.Decimal) (Transfer, error) {
	_, t, err := b.settle(ctx, id, amount, HoldPosted)
	if err != nil {
		return Transfer{}, fmt.Errorf("post hold %q: %w", id, err)
	}
	return t, nil
}

// VoidHold releases a pending hold without moving anything. A hold that was
// already posted, voided or has expired is an error matching
// ErrHoldNotPending.
func (b *Book) VoidHold(ctx context.Context, id TransferID) (Hold, error) {
	h, _, err := b.settle(ctx, id, decimal.Zero, HoldVoided)
	if err != nil {
		return Hold{}, fmt.Errorf("void hold %q: %w", id, err)
	}
	return h, nil
}

// settle posts (amount of) or voids the hold id.
func (b *Book) settle(ctx context.Context, id TransferID, amount decimal.Decimal, to HoldStatus) (Hold, Transfer, error) {
	if id == "" {
		return Hold{}, Transfer{}, invalid("ID", "empty; name the hold to settle")
	}
	if err := checkID("ID", string(id)); err != nil {
		return Hold{}, Transfer{}, err
	}
	if to == HoldPosted {
		if err := checkAmount(amount); err != nil {
			return Hold{}, Transfer{}, err
		}
	}
	if err := b.checkNow(); err != nil {
		return Hold{}, Transfer{}, err
	}
	// Every change to a hold happens under its debit account's lock: read the
	// hold to learn its accounts, lock them, then read it again.
	b.prefetch(LockHint{Settle: id, Post: to == HoldPosted, Amount: amount, Now: b.now})
	b.one.ids[0] = id
	got, err := b.tx.HoldsGet(ctx, b.one.ids[:], b.one.holds[:0])
	if err != nil {
		return Hold{}, Transfer{}, err
	}
	if len(got) == 0 {
		return Hold{}, Transfer{}, &NotFoundError{Kind: "hold", ID: string(id)}
	}
	ids := append(b.one.accounts[:0], got[0].Debit)
	if to == HoldPosted {
		ids = append(ids, got[0].Credit)
	}
	locked := new(lockSet)
	if err := b.lock(ctx, ids, locked); err != nil {
		return Hold{}, Transfer{}, err
	}
	if got, err = b.tx.HoldsGet(ctx, b.one.ids[:], b.one.holds[:0]); err != nil {
		return Hold{}, Transfer{}, err
	}
	h := got[0]
	if swept := locked.swept(id); swept != nil {
		h = *swept
	}
	if h.Status != HoldPending {
		return Hold{}, Transfer{}, &HoldStateError{Hold: id, Status: h.Status}
	}
	debit := locked.get(h.Debit)
	if to == HoldPosted {
		if amount.Cmp(h.Amount) > 0 {
			return Hold{}, Transfer{}, invalid("Amount", "%s is more than the %s held", amount, h.Amount)
		}
		if !fitsScale(amount, debit.Scale) {
			return Hold{}, Transfer{}, invalid("Amount", "%s has more than %d decimal places, the scale of unit %q", amount, debit.Scale, debit.Unit)
		}
	}
	// Release the hold first, so its own reservation covers the posting.
	debit.Held = fastdecimal.Diff(debit.Held, h.Amount)
	locked.touch(debit)
	h.Status = to
	h.SettledAt = b.now

	var posted []Transfer
	if to == HoldPosted {
		h.Posted = amount
		posted = b.one.posted[:]
		posted[0] = Transfer{
			ID: id, Debit: h.Debit, Credit: h.Credit, Amount: amount,
			Code: h.Code, Actor: h.Actor, Metadata: h.Metadata, Hold: id,
		}
		if err := locked.move(&posted[0], b.postedAt(locked)); err != nil {
			return Hold{}, Transfer{}, err
		}
		h.SettledAt = posted[0].PostedAt
	}
	c := locked.changes()
	c.Transfers = posted
	if c.HoldsUpdate == nil {
		c.HoldsUpdate = b.one.holds[:0]
	}
	c.HoldsUpdate = replaceHold(c.HoldsUpdate, h)
	if err := b.tx.Apply(ctx, c); err != nil {
		return Hold{}, Transfer{}, applyErr(err, "transfer", []TransferID{id})
	}
	var t Transfer
	if to == HoldPosted {
		t = c.Transfers[0]
	}
	return h, t, nil
}

func replaceHold(hs []Hold, h Hold) []Hold {
	for i := range hs {
		if hs[i].ID == h.ID {
			hs[i] = h
			return hs
		}
	}
	return append(hs, h)
}

// postedAt is the instant a write stamps on its transfers: now, or the latest
// transfer time of any locked account if the clock is behind it, so no
// account's history ever goes back in time.
func (b *Book) postedAt(l *lockSet) time.Time {
	t := b.now
	for i := range l.accounts {
		if at := l.accounts[i].LastPostedAt; at.After(t) {
			t = at
		}
	}
	return t
}

// prefetch tells a store that reads ahead what the write will read next.
func (b *Book) prefetch(h LockHint) {
	if p, ok := b.tx.(LockPrefetcher); ok {
		p.LockPrefetch(h)
	}
}

// expiredHolds returns the holds debiting id that are pending in the store but
// past their expiry.
func (b *Book) expiredHolds(ctx context.Context, id AccountID) ([]Hold, error) {
	return b.tx.HoldList(ctx, HoldListParams{Debit: id, Status: HoldPending, ExpiresBy: b.now})
}

// lock locks the accounts (sorted and deduplicated, the fixed order that
// keeps concurrent writers free of deadlocks) and releases their expired
// holds. Accounts that do not exist are left out; lookups report them. It
// sorts ids in place.
func (b *Book) lock(ctx context.Context, ids []AccountID, l *lockSet) error {
	slices.Sort(ids)
	ids = slices.Compact(ids)
	var into []AccountState
	if len(ids) <= len(b.one.states) {
		into = b.one.states[:0]
	}
	states, err := b.tx.AccountsLock(ctx, ids, into)
	if err != nil {
		return err
	}
	*l = lockSet{accounts: states}
	if len(states) > 64 {
		l.more = make([]bool, len(states))
	}
	for i := range l.accounts {
		a := &l.accounts[i]
		if a.Held.Sign() == 0 {
			continue
		}
		expired, err := b.expiredHolds(ctx, a.ID)
		if err != nil {
			return err
		}
		for _, h := range expired {
			a.Held = fastdecimal.Diff(a.Held, h.Amount)
			h.Status = HoldExpired
			h.SettledAt = h.ExpiresAt
			l.expired = append(l.expired, h)
		}
		if len(expired) > 0 {
			l.setDirty(i)
		}
	}
	return nil
}

// lockSet is the working copy of the accounts one write has locked.
type lockSet struct {
	accounts []AccountState // sorted by ID
	dirty    uint64         // bit i: accounts[i] was changed (i < 64)
	more     []bool         // the same, when more than 64 accounts are locked
	expired  []Hold         // holds this write releases because they expired
}

func (l *lockSet) setDirty(i int) {
	if l.more != nil {
		l.more[i] = true
		return
	}
	l.dirty |= 1 << i
}

func (l *lockSet) isDirty(i int) bool {
	if l.more != nil {
		return l.more[i]
	}
	return l.dirty&(1<<i) != 0
}

func (l *lockSet) get(id AccountID) *AccountState {
	if i, ok := l.index(id); ok {
		return &l.accounts[i]
	}
	return nil
}

func (l *lockSet) index(id AccountID) (int, bool) {
	if len(l.accounts) <= 8 {
		// A write locks a handful of accounts: comparing IDs for equality
		// beats ordering them.
		for i := range l.accounts {
			if l.accounts[i].ID == id {
				return i, true
			}
		}
		return 0, false
	}
	return slices.BinarySearchFunc(l.accounts, id, func(a AccountState, id AccountID) int {
		return strings.Compare(string(a.ID), string(id))
	})
}

// touch marks a locked account as changed by this write.
func (l *lockSet) touch(a *AccountState) {
	if i, ok := l.index(a.ID); ok {
		l.setDirty(i)
	}
}

func (l *lockSet) swept(id TransferID) *Hold {
	for i := range l.expired {
		if l.expired[i].ID == id {
			return &l.expired[i]
		}
	}
	return nil
}

// move applies t to the locked accounts if every rule allows it, and fills
// in the rest of t as posted. A refused move changes nothing but t.
func (l *lockSet) move(t *Transfer, at time.Time) error {
	di, ok := l.index(t.Debit)
	if !ok {
		return &NotFoundError{Kind: "account", ID: string(t.Debit)}
	}
	ci, ok := l.index(t.Credit)
	if !ok {
		return &NotFoundError{Kind: "account", ID: string(t.Credit)}
	}
	debit, credit := &l.accounts[di], &l.accounts[ci]
	if err := checkPair(debit, credit, t.Amount); err != nil {
		return err
	}
	if err := debit.cover(t.Amount); err != nil {
		return err
	}
	debit.Posted = fastdecimal.Diff(debit.Posted, t.Amount)
	credit.Posted = fastdecimal.Sum(credit.Posted, t.Amount)
	debit.LastPostedAt, credit.LastPostedAt = at, at
	l.setDirty(di)
	l.setDirty(ci)

	t.Metadata = cloneMetadata(t.Metadata)
	t.Seq = 0
	t.PostedAt = at
	t.Unit = debit.Unit
	t.DebitBalance = debit.Posted
	t.CreditBalance = credit.Posted
	return nil
}

// changes returns the account updates for every account this write touched,
// each one version up, and the holds it released as expired.
func (l *lockSet) changes() Changes {
	var c Changes
	all := true
	for i := range l.accounts {
		all = all && l.isDirty(i)
	}
	if all {
		c.Accounts = l.accounts // the common case: no copy
	}
	for i := range l.accounts {
		if l.isDirty(i) {
			st := &l.accounts[i]
			st.Version++
			if !all {
				c.Accounts = append(c.Accounts, *st)
			}
		}
	}
	if len(l.expired) > 0 {
		c.HoldsUpdate = slices.Clone(l.expired)
	}
	return c
}

// cover checks that a non-negative account can give amount.
func (a *AccountState) cover(amount decimal.Decimal) error {
	if !a.Flags.Has(FlagNonNegative) {
		return nil
	}
	avail := a.Posted
	if a.Held.Sign() != 0 {
		avail = fastdecimal.Diff(avail, a.Held)
	}
	if avail.Cmp(amount) < 0 {
		return &InsufficientBalanceError{Account: a.ID, Available: avail, Requested: amount}
	}
	return nil
}

func checkPair(debit, credit *AccountState, amount decimal.Decimal) error {
	if debit.Unit != credit.Unit {
		return invalid("Credit", "account %q counts %q but debit account %q counts %q; both sides of a transfer must count the same unit", credit.ID, credit.Unit, debit.ID, debit.Unit)
	}
	if !fitsScale(amount, debit.Scale) {
		return invalid("Amount", "%s has more than %d decimal places, the scale of unit %q", amount, debit.Scale, debit.Unit)
	}
	return nil
}

func fitsScale(d decimal.Decimal, scale int32) bool {
	if d.Exponent() >= -scale {
		return true
	}
	return d.Equal(d.Truncate(scale))
}

func balanceOf(st AccountState) Balance {
	return Balance{
		Account:   st.ID,
		Unit:      st.Unit,
		Posted:    st.Posted,
		Held:      st.Held,
		Available: fastdecimal.Diff(st.Posted, st.Held),
	}
}

func validateUnit(u Unit) error {
	if u.Code == "" {
		return invalid("Code", "empty; name the unit, e.g. \"seat\"")
	}
	if err := checkID("Code", u.Code); err != nil {
		return err
	}
	if u.Scale < 0 || u.Scale > MaxScale {
		return invalid("Scale", "%d is outside 0..%d", u.Scale, MaxScale)
	}
	return nil
}

func validateAccount(a Account) error {
	if a.ID == "" {
		return invalid("ID", "empty; choose an account ID")
	}
	if a.Unit == "" {
		return invalid("Unit", "empty; name the unit the account counts")
	}
	if a.Flags&^FlagNonNegative != 0 {
		return invalid("Flags", "unknown flags %#x", uint32(a.Flags&^FlagNonNegative))
	}
	if err := checkID("ID", string(a.ID)); err != nil {
		return err
	}
	if err := checkID("Unit", a.Unit); err != nil {
		return err
	}
	if a.Owner != "" {
		if err := checkIDLen("Owner", a.Owner, MaxOwnerLength); err != nil {
			return err
		}
	}
	return checkMetadata(a.Metadata)
}

func validateTransfer(t *Transfer) error {
	switch {
	case t.ID == "":
		return invalid("ID", "empty; choose an ID so the request can be retried safely")
	case t.Debit == "":
		return invalid("Debit", "empty")
	case t.Credit == "":
		return invalid("Credit", "empty")
	case t.Debit == t.Credit:
		return invalid("Credit", "%q is also the debit account; a transfer moves between two accounts", t.Credit)
	}
	if err := checkAmount(t.Amount); err != nil {
		return err
	}
	if err := checkID("ID", string(t.ID)); err != nil {
		return err
	}
	if err := checkID("Debit", string(t.Debit)); err != nil {
		return err
	}
	if err := checkID("Credit", string(t.Credit)); err != nil {
		return err
	}
	if err := checkText("Code", t.Code); err != nil {
		return err
	}
	if err := checkText("Actor", t.Actor); err != nil {
		return err
	}
	return checkMetadata(t.Metadata)
}

// SameRequest reports whether posted, a transfer read back, is what request
// asks to post: every field the caller sets is equal (amounts by value,
// nil and empty metadata alike) and posted did not settle a hold. It is the
// test Post applies to an ID that was posted before.
func SameRequest(posted, request Transfer) bool { return transferDiff(posted, request) == "" }

func transferDiff(got, want Transfer) string {
	switch {
	case got.Debit != want.Debit:
		return "debit account"
	case got.Credit != want.Credit:
		return "credit account"
	case !got.Amount.Equal(want.Amount):
		return "amount"
	case got.Code != want.Code:
		return "code"
	case got.Actor != want.Actor:
		return "actor"
	case !maps.Equal(got.Metadata, want.Metadata):
		return "metadata"
	case got.Hold != "":
		return "kind (the ID belongs to a hold)"
	}
	return ""
}

func holdDiff(got, want Hold) string {
	if field := transferDiff(
		Transfer{Debit: got.Debit, Credit: got.Credit, Amount: got.Amount, Code: got.Code, Actor: got.Actor, Metadata: got.Metadata},
		Transfer{Debit: want.Debit, Credit: want.Credit, Amount: want.Amount, Code: want.Code, Actor: want.Actor, Metadata: want.Metadata},
	); field != "" {
		return field
	}
	if !got.ExpiresAt.Equal(want.ExpiresAt) {
		return "expiry"
	}
	return ""
}

// notFound turns a store's bare ErrNotFound into a *NotFoundError naming the
// record.
func notFound(err error, kind, id string) error {
	var nf *NotFoundError
	if errors.Is(err, ErrNotFound) && !errors.As(err, &nf) {
		return &NotFoundError{Kind: kind, ID: id}
	}
	return err
}

// applyErr reports an insert that lost a race for its ID as a conflict: a
// concurrent request with the same contents would have locked the same
// accounts and been seen before the insert, so the winner had other contents.
func applyErr(err error, kind string, ids []TransferID) error {
	if !errors.Is(err, ErrAlreadyExists) {
		return err
	}
	id := ""
	if len(ids) == 1 {
		id = string(ids[0])
	}
	return fmt.Errorf("%w: %w", &ConflictError{Kind: kind, ID: id, Field: "contents (a concurrent request took the ID)"}, err)
}
