package ledger_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/allot-dev/allot/clock"
	"github.com/allot-dev/allot/ledger"
	"github.com/allot-dev/allot/store/memstore"
	"github.com/allot-dev/allot/store/storetest"
	"github.com/google/go-cmp/cmp"
	"github.com/shopspring/decimal"
	"pgregory.net/rapid"
)

// The model counts in minor units (int64) so its arithmetic is obviously
// right; the ledger counts in decimals.

type modelAccount struct {
	unit    string
	nonNeg  bool
	owner   string
	meta    string // the one metadata value, "" for none
	posted  int64
	created bool
}

type modelTransfer struct {
	debit, credit ledger.AccountID
	amount        int64
	code          string
	seq           int64
}

type modelHold struct {
	debit, credit ledger.AccountID
	amount        int64
	expires       time.Time
	status        ledger.HoldStatus
}

var scales = map[string]int32{"pass": 0, "credit": 2}

// accountIDs are the accounts the machine may name; "d" and "e" exist once
// ensured, "ghost" never.
var accountIDs = []ledger.AccountID{"issuer", "a", "b", "c", "credits", "d", "e", "ghost"}

type ledgerMachine struct {
	ctx      context.Context
	clock    *clock.Fake
	store    *memstore.Store
	l        *ledger.Ledger
	accounts map[ledger.AccountID]*modelAccount
	trans    map[ledger.TransferID]*modelTransfer
	holds    map[ledger.TransferID]*modelHold
}

func newLedgerMachine(t *rapid.T) *ledgerMachine {
	m := &ledgerMachine{
		ctx:   context.Background(),
		clock: clock.NewFake(time.Date(2026, 3, 29, 0, 0, 0, 0, time.UTC)),
		store: memstore.New(),
		accounts: map[ledger.AccountID]*modelAccount{
			"issuer":  {unit: "pass"},
			"a":       {unit: "pass", nonNeg: true},
			"b":       {unit: "pass", nonNeg: true},
			"c":       {unit: "pass"},
			"credits": {unit: "credit", nonNeg: true},
		},
		trans: map[ledger.TransferID]*modelTransfer{},
		holds: map[ledger.TransferID]*modelHold{},
	}
	m.l, _ = ledger.New(m.store, &ledger.Options{Clock: m.clock})
	for code, scale := range scales {
		if _, err := m.l.DefineUnit(m.ctx, ledger.Unit{Code: code, Scale: scale}); err != nil {
			t.Fatal(err)
		}
	}
	for id, a := range m.accounts {
		flags := ledger.Flags(0)
		if a.nonNeg {
			flags = ledger.FlagNonNegative
		}
		if _, err := m.l.CreateAccount(m.ctx, ledger.Account{ID: id, Unit: a.unit, Flags: flags}); err != nil {
			t.Fatal(err)
		}
		a.created = true
	}
	return m
}

func (m *ledgerMachine) held(id ledger.AccountID) int64 {
	var n int64
	now := m.clock.Now()
	for _, h := range m.holds {
		if h.debit == id && h.status == ledger.HoldPending && (h.expires.IsZero() || now.Before(h.expires)) {
			n += h.amount
		}
	}
	return n
}

// request is a transfer as drawn: the amount in minor units of the debit
// account's unit, plus extra decimal places that make it too fine.
type request struct {
	id            ledger.TransferID
	debit, credit ledger.AccountID
	minor         int64
	tooFine       bool
	code          string
}

func (r request) transfer(m *ledgerMachine) ledger.Transfer {
	scale := int32(0)
	if a, ok := m.accounts[r.debit]; ok {
		scale = scales[a.unit]
	}
	amount := decimal.New(r.minor, -scale)
	if r.tooFine {
		amount = amount.Add(decimal.New(1, -scale-1))
	}
	return ledger.Transfer{ID: r.id, Debit: r.debit, Credit: r.credit, Amount: amount, Code: r.code}
}

func drawRequest(t *rapid.T, label string) request {
	r := request{
		id:      ledger.TransferID(rapid.SampledFrom([]string{"", "t1", "t2", "t3", "t4", "t5", "t6", "t7", "h1", "h2"}).Draw(t, label+"ID")),
		debit:   rapid.SampledFrom(accountIDs).Draw(t, label+"Debit"),
		credit:  rapid.SampledFrom(accountIDs).Draw(t, label+"Credit"),
		minor:   rapid.Int64Range(-1, 30).Draw(t, label+"Amount"),
		tooFine: rapid.Float64Range(0, 1).Draw(t, label+"Fine") < 0.1,
		code:    rapid.SampledFrom([]string{"", "buy"}).Draw(t, label+"Code"),
	}
	// Only a positive amount is made too fine, so a zero or negative one
	// stays exactly that.
	r.tooFine = r.tooFine && r.minor > 0
	return r
}

// expect returns the sentinel the ledger must refuse r with, or nil, given
// the model's state plus pending (the effect of earlier members of the same
// group). It mirrors the order in which the ledger checks: the request itself,
// then its ID, then the move.
func (m *ledgerMachine) expect(r request, pending map[ledger.AccountID]int64) error {
	if err := staticErr(r); err != nil {
		return err
	}
	if err := m.idErr(r); err != nil {
		return err
	}
	return m.moveErr(r, pending)
}

func staticErr(r request) error {
	if r.id == "" || r.debit == r.credit || r.minor <= 0 {
		return ledger.ErrInvalid
	}
	return nil
}

// idErr is ErrConflict if r's ID was taken by something else.
func (m *ledgerMachine) idErr(r request) error {
	if p, ok := m.trans[r.id]; ok {
		if p.debit == r.debit && p.credit == r.credit && p.amount == r.minor && !r.tooFine && p.code == r.code {
			return nil
		}
		return ledger.ErrConflict
	}
	if _, ok := m.holds[r.id]; ok {
		return ledger.ErrConflict
	}
	return nil
}

func (m *ledgerMachine) moveErr(r request, pending map[ledger.AccountID]int64) error {
	if _, ok := m.trans[r.id]; ok {
		return nil // posted before: returned as it was
	}
	d, c := m.accounts[r.debit], m.accounts[r.credit]
	if d == nil || c == nil {
		return ledger.ErrNotFound
	}
	if d.unit != c.unit || r.tooFine {
		return ledger.ErrInvalid
	}
	if d.nonNeg && d.posted+pending[r.debit]-m.held(r.debit) < r.minor {
		return ledger.ErrInsufficientBalance
	}
	return nil
}

func (m *ledgerMachine) apply(r request) {
	if _, ok := m.trans[r.id]; ok {
		return
	}
	m.accounts[r.debit].posted -= r.minor
	m.accounts[r.credit].posted += r.minor
	m.trans[r.id] = &modelTransfer{debit: r.debit, credit: r.credit, amount: r.minor, code: r.code}
}

func sentinel(err error) error {
	for _, s := range []error{ledger.ErrInvalid, ledger.ErrNotFound, ledger.ErrConflict, ledger.ErrInsufficientBalance, ledger.ErrHoldNotPending} {
		if errors.Is(err, s) {
			return s
		}
	}
	return err
}

func (m *ledgerMachine) snapshot(t *rapid.T) storetest.State {
	st, err := storetest.Snapshot(m.ctx, m.store)
	if err != nil {
		t.Fatalf("Snapshot: %v", err)
	}
	return st
}

var decimalEqual = cmp.Comparer(func(a, b decimal.Decimal) bool { return a.Equal(b) })

// refused checks that err is want and, if it is an error, that nothing
// changed.
func (m *ledgerMachine) refused(t *rapid.T, op string, err, want error, before storetest.State) {
	if got := sentinel(err); got != want {
		t.Fatalf("%s: got %v, want %v", op, err, want)
	}
	if err != nil {
		if diff := cmp.Diff(before, m.snapshot(t), decimalEqual); diff != "" {
			t.Fatalf("%s was refused (%v) but changed the store (-before +after):\n%s", op, err, diff)
		}
	}
}

func (m *ledgerMachine) Post(t *rapid.T) {
	r := drawRequest(t, "")
	want := m.expect(r, nil)
	before := m.snapshot(t)
	_, reposted := m.trans[r.id]
	got, err := m.l.Post(m.ctx, r.transfer(m))
	m.refused(t, "Post", err, want, before)
	if err != nil {
		return
	}
	if reposted {
		if got.Seq != m.trans[r.id].seq {
			t.Fatalf("re-posting %s returned seq %d, first posted as %d", r.id, got.Seq, m.trans[r.id].seq)
		}
		if diff := cmp.Diff(before, m.snapshot(t), decimalEqual); diff != "" {
			t.Fatalf("re-posting %s changed the store:\n%s", r.id, diff)
		}
		return
	}
	m.apply(r)
	m.trans[r.id].seq = got.Seq
}

func (m *ledgerMachine) PostGroup(t *rapid.T) {
	n := rapid.IntRange(1, 3).Draw(t, "size")
	rs := make([]request, n)
	for i := range rs {
		rs[i] = drawRequest(t, fmt.Sprint(i))
	}
	// Expected: every member is checked in three passes (the request itself
	// and repeated IDs, then IDs taken by something else, then the moves in
	// order), and the first refusal fails the group.
	want := groupErr(m, rs)
	before := m.snapshot(t)
	ts := make([]ledger.Transfer, n)
	for i, r := range rs {
		ts[i] = r.transfer(m)
	}
	got, err := m.l.PostGroup(m.ctx, ts)
	m.refused(t, "PostGroup", err, want, before)
	if err != nil {
		return
	}
	for i, r := range rs {
		if _, ok := m.trans[r.id]; !ok {
			m.apply(r)
			m.trans[r.id].seq = got[i].Seq
		}
	}
}

func groupErr(m *ledgerMachine, rs []request) error {
	seen := map[ledger.TransferID]bool{}
	for _, r := range rs {
		if staticErr(r) != nil || seen[r.id] {
			return ledger.ErrInvalid
		}
		seen[r.id] = true
	}
	for _, r := range rs {
		if err := m.idErr(r); err != nil {
			return err
		}
	}
	pending := map[ledger.AccountID]int64{}
	for _, r := range rs {
		if err := m.moveErr(r, pending); err != nil {
			return err
		}
		if _, ok := m.trans[r.id]; !ok {
			pending[r.debit] -= r.minor
			pending[r.credit] += r.minor
		}
	}
	return nil
}

func (m *ledgerMachine) PostBatch(t *rapid.T) {
	n := rapid.IntRange(0, 4).Draw(t, "size")
	rs := make([]request, n)
	ts := make([]ledger.Transfer, n)
	for i := range rs {
		rs[i] = drawRequest(t, fmt.Sprint(i))
		ts[i] = rs[i].transfer(m)
	}
	res, err := m.l.PostBatch(m.ctx, ts)
	if err != nil {
		t.Fatalf("PostBatch: %v", err)
	}
	first := map[ledger.TransferID]int{}
	for i, r := range rs {
		var want error
		if j, ok := first[r.id]; ok && r.id != "" {
			same := rs[j].debit == r.debit && rs[j].credit == r.credit && rs[j].minor == r.minor && rs[j].tooFine == r.tooFine && rs[j].code == r.code
			if !same && !(r.debit == r.credit || r.minor <= 0) {
				want = ledger.ErrConflict
			} else if same {
				want = sentinel(res[j].Err)
			} else {
				want = ledger.ErrInvalid
			}
		} else {
			want = m.expect(r, nil)
			if r.id != "" && !(r.debit == r.credit || r.minor <= 0) {
				first[r.id] = i
			}
			if want == nil {
				m.apply(r)
				m.trans[r.id].seq = res[i].Transfer.Seq
			}
		}
		if got := sentinel(res[i].Err); got != want {
			t.Fatalf("PostBatch item %d (%+v): got %v, want %v", i, r, res[i].Err, want)
		}
	}
}

func (m *ledgerMachine) CreateHold(t *rapid.T) {
	r := drawRequest(t, "")
	r.code = ""
	var expires time.Time
	if rapid.Bool().Draw(t, "expires") {
		expires = m.clock.Now().Add(time.Duration(rapid.IntRange(1, 180).Draw(t, "minutes")) * time.Minute)
	}
	var want error
	switch {
	case r.id == "" || r.debit == r.credit || r.minor <= 0:
		want = ledger.ErrInvalid
	case m.accounts[r.credit] == nil:
		want = ledger.ErrNotFound
	case m.holds[r.id] != nil:
		h := m.holds[r.id]
		if h.debit != r.debit || h.credit != r.credit || h.amount != r.minor || r.tooFine || !h.expires.Equal(expires) {
			want = ledger.ErrConflict
		}
	case m.trans[r.id] != nil:
		want = ledger.ErrConflict
	case m.accounts[r.debit] == nil:
		want = ledger.ErrNotFound
	default:
		want = m.expect(r, nil)
	}
	before := m.snapshot(t)
	tr := r.transfer(m)
	_, err := m.l.CreateHold(m.ctx, ledger.Hold{ID: r.id, Debit: r.debit, Credit: r.credit, Amount: tr.Amount, ExpiresAt: expires})
	m.refused(t, "CreateHold", err, want, before)
	if err == nil && m.holds[r.id] == nil {
		m.holds[r.id] = &modelHold{debit: r.debit, credit: r.credit, amount: r.minor, expires: expires, status: ledger.HoldPending}
	}
}

func (m *ledgerMachine) settle(t *rapid.T, post bool) {
	id := ledger.TransferID(rapid.SampledFrom([]string{"h1", "h2", "t1"}).Draw(t, "hold"))
	minor := rapid.Int64Range(0, 30).Draw(t, "amount")
	h := m.holds[id]
	var want error
	switch {
	case post && minor <= 0:
		want = ledger.ErrInvalid
	case h == nil:
		want = ledger.ErrNotFound
	case h.status != ledger.HoldPending || (!h.expires.IsZero() && !m.clock.Now().Before(h.expires)):
		want = ledger.ErrHoldNotPending
	case post && minor > h.amount:
		want = ledger.ErrInvalid
	}
	before := m.snapshot(t)
	var err error
	if post {
		scale := int32(0)
		if h != nil {
			scale = scales[m.accounts[h.debit].unit]
		}
		_, err = m.l.PostHold(m.ctx, id, decimal.New(minor, -scale))
	} else {
		_, err = m.l.VoidHold(m.ctx, id)
	}
	m.refused(t, fmt.Sprintf("settle(post=%v)", post), err, want, before)
	if err != nil {
		return
	}
	if post {
		h.status = ledger.HoldPosted
		m.accounts[h.debit].posted -= minor
		m.accounts[h.credit].posted += minor
		m.trans[id] = &modelTransfer{debit: h.debit, credit: h.credit, amount: minor}
	} else {
		h.status = ledger.HoldVoided
	}
}

func (m *ledgerMachine) PostHold(t *rapid.T) { m.settle(t, true) }
func (m *ledgerMachine) VoidHold(t *rapid.T) { m.settle(t, false) }

// EnsureAccounts ensures one to three drawn accounts, existing or new, in
// a units that may not exist, repeated or not.
func (m *ledgerMachine) EnsureAccounts(t *rapid.T) {
	n := rapid.IntRange(1, 3).Draw(t, "n")
	type drawn struct {
		id                ledger.AccountID
		unit, owner, meta string
		nonNeg            bool
	}
	ds := make([]drawn, n)
	as := make([]ledger.Account, n)
	for i := range ds {
		d := drawn{
			id:     ledger.AccountID(rapid.SampledFrom([]string{"", "a", "c", "credits", "d", "e"}).Draw(t, fmt.Sprint("id", i))),
			unit:   rapid.SampledFrom([]string{"pass", "pass", "credit", "nope"}).Draw(t, fmt.Sprint("unit", i)),
			owner:  rapid.SampledFrom([]string{"", "", "acme"}).Draw(t, fmt.Sprint("owner", i)),
			meta:   rapid.SampledFrom([]string{"", "", "blue"}).Draw(t, fmt.Sprint("meta", i)),
			nonNeg: rapid.Bool().Draw(t, fmt.Sprint("nonNeg", i)),
		}
		if a := m.accounts[d.id]; a != nil && rapid.IntRange(0, 2).Draw(t, fmt.Sprint("same", i)) > 0 {
			d.unit, d.owner, d.meta, d.nonNeg = a.unit, a.owner, a.meta, a.nonNeg // mostly as it is
		}
		ds[i] = d
		as[i] = ledger.Account{ID: d.id, Unit: d.unit, Owner: d.owner}
		if d.nonNeg {
			as[i].Flags = ledger.FlagNonNegative
		}
		if d.meta != "" {
			as[i].Metadata = map[string]string{"team": d.meta}
		} else if rapid.Bool().Draw(t, fmt.Sprint("emptyMeta", i)) {
			as[i].Metadata = map[string]string{} // the same as none
		}
	}
	// The order the ledger checks in: every account's input, repeated IDs,
	// then each distinct account against the store, in order.
	var want error
	for _, d := range ds {
		if d.id == "" {
			want = ledger.ErrInvalid
		}
	}
	differ := func(d drawn, a *modelAccount) bool {
		return a.unit != d.unit || a.owner != d.owner || a.meta != d.meta || a.nonNeg != d.nonNeg
	}
	first := map[ledger.AccountID]drawn{}
	var distinct []drawn
	for _, d := range ds {
		if want != nil {
			break
		}
		if f, ok := first[d.id]; ok {
			if differ(d, &modelAccount{unit: f.unit, owner: f.owner, meta: f.meta, nonNeg: f.nonNeg}) {
				want = ledger.ErrConflict
			}
			continue
		}
		first[d.id] = d
		distinct = append(distinct, d)
	}
	for _, d := range distinct {
		if want != nil {
			break
		}
		if a := m.accounts[d.id]; a != nil {
			if differ(d, a) {
				want = ledger.ErrConflict
			}
		} else if _, ok := scales[d.unit]; !ok {
			want = ledger.ErrNotFound
		}
	}
	before := m.snapshot(t)
	var err error
	if n == 1 && rapid.Bool().Draw(t, "one") {
		err = m.l.EnsureAccount(m.ctx, as[0])
	} else {
		err = m.l.EnsureAccounts(m.ctx, as)
	}
	m.refused(t, "EnsureAccounts", err, want, before)
	if err != nil {
		return
	}
	for _, d := range distinct {
		if m.accounts[d.id] == nil {
			m.accounts[d.id] = &modelAccount{unit: d.unit, nonNeg: d.nonNeg, owner: d.owner, meta: d.meta, created: true}
		}
	}
	for _, d := range distinct {
		got, err := m.l.Account(m.ctx, d.id)
		if err != nil {
			t.Fatalf("Account(%s) after ensuring it: %v", d.id, err)
		}
		if a := m.accounts[d.id]; got.Unit != a.unit || got.Owner != a.owner || got.Metadata["team"] != a.meta || got.Flags.Has(ledger.FlagNonNegative) != a.nonNeg {
			t.Fatalf("Account(%s) = %+v, model %+v", d.id, got, *a)
		}
	}
}

func (m *ledgerMachine) Advance(t *rapid.T) {
	m.clock.Advance(time.Duration(rapid.IntRange(1, 120).Draw(t, "minutes")) * time.Minute)
}

// Check runs after every action.
func (m *ledgerMachine) Check(t *rapid.T) {
	totals := map[string]decimal.Decimal{}
	for id, a := range m.accounts {
		b, err := m.l.Balance(m.ctx, id)
		if err != nil {
			t.Fatalf("Balance(%s): %v", id, err)
		}
		scale := scales[a.unit]
		if want := decimal.New(a.posted, -scale); !b.Posted.Equal(want) {
			t.Fatalf("%s posted %s, model %s", id, b.Posted, want)
		}
		if want := decimal.New(m.held(id), -scale); !b.Held.Equal(want) {
			t.Fatalf("%s held %s, model %s", id, b.Held, want)
		}
		if a.nonNeg && b.Available.Sign() < 0 {
			t.Fatalf("non-negative %s has %s available", id, b.Available)
		}
		totals[a.unit] = totals[a.unit].Add(b.Posted)
	}
	for unit, total := range totals {
		if total.Sign() != 0 {
			t.Fatalf("unit %s sums to %s, want 0", unit, total)
		}
	}
	r, err := m.l.Verify(m.ctx)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if !r.OK() {
		t.Fatalf("Verify found %v", r.Discrepancies)
	}
	if r.Transfers != len(m.trans) {
		t.Fatalf("journal has %d transfers, model %d", r.Transfers, len(m.trans))
	}
}

func TestLedger_StateMachine(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		m := newLedgerMachine(t)
		t.Repeat(map[string]func(*rapid.T){
			"":           m.Check,
			"Post":       m.Post,
			"PostGroup":  m.PostGroup,
			"PostBatch":  m.PostBatch,
			"CreateHold": m.CreateHold,
			"PostHold":   m.PostHold,
			"VoidHold":   m.VoidHold,
			"Advance":    m.Advance,
			"Ensure":     m.EnsureAccounts,
		})
	})
}

// TestLedger_ConcurrentPosts draws a workload first, runs it from several
// goroutines at once, then checks what must hold whatever the order:
// conservation, no overdraft, one effect per ID, and a journal that replays to
// the stored balances.
func TestLedger_ConcurrentPosts(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		ctx := context.Background()
		store := memstore.New()
		l, _ := ledger.New(store, nil)
		ring := []ledger.AccountID{"r0", "r1", "r2", "r3"}
		l.DefineUnit(ctx, ledger.Unit{Code: "pass"})
		l.CreateAccount(ctx, ledger.Account{ID: "issuer", Unit: "pass"})
		for _, id := range ring {
			l.CreateAccount(ctx, ledger.Account{ID: id, Unit: "pass", Flags: ledger.FlagNonNegative})
		}
		funding := rapid.IntRange(0, 20).Draw(t, "funding")
		if funding > 0 {
			if _, err := l.Post(ctx, ledger.Transfer{ID: "fund", Debit: "issuer", Credit: "r0", Amount: decimal.NewFromInt(int64(funding))}); err != nil {
				t.Fatal(err)
			}
		}
		workers := rapid.IntRange(2, 6).Draw(t, "workers")
		type op struct {
			id     ledger.TransferID
			from   int
			amount int64
		}
		ops := make([][]op, workers)
		for w := range ops {
			ops[w] = rapid.SliceOfN(rapid.Custom(func(t *rapid.T) op {
				return op{
					// Few IDs, so workers collide on them.
					id:     ledger.TransferID(fmt.Sprintf("x%d", rapid.IntRange(0, 15).Draw(t, "id"))),
					from:   rapid.IntRange(0, len(ring)-1).Draw(t, "from"),
					amount: rapid.Int64Range(1, 5).Draw(t, "amount"),
				}
			}), 1, 20).Draw(t, fmt.Sprintf("ops%d", w))
		}
		// The same ID always carries the same contents, as a retry would.
		canon := map[ledger.TransferID]op{}
		for _, ws := range ops {
			for i, o := range ws {
				if c, ok := canon[o.id]; ok {
					ws[i] = c
				} else {
					canon[o.id] = o
				}
			}
		}

		var wg sync.WaitGroup
		errs := make(chan error, 1000)
		for _, ws := range ops {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for _, o := range ws {
					_, err := l.Post(ctx, ledger.Transfer{ID: o.id, Debit: ring[o.from], Credit: ring[(o.from+1)%len(ring)], Amount: decimal.NewFromInt(o.amount)})
					if err != nil && !errors.Is(err, ledger.ErrInsufficientBalance) {
						errs <- err
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatalf("unexpected error: %v", err)
		}

		total := decimal.Zero
		for _, id := range append([]ledger.AccountID{"issuer"}, ring...) {
			b, err := l.Balance(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if id != "issuer" && b.Posted.Sign() < 0 {
				t.Fatalf("%s overdrawn: %s", id, b.Posted)
			}
			total = total.Add(b.Posted)
		}
		if total.Sign() != 0 {
			t.Fatalf("balances sum to %s", total)
		}
		st, err := storetest.Snapshot(ctx, store)
		if err != nil {
			t.Fatal(err)
		}
		seen := map[ledger.TransferID]bool{}
		for _, tr := range st.Transfers {
			if seen[tr.ID] {
				t.Fatalf("transfer %s in the journal twice", tr.ID)
			}
			seen[tr.ID] = true
		}
		r, err := l.Verify(ctx)
		if err != nil || !r.OK() {
			t.Fatalf("Verify = %+v, %v", r, err)
		}
	})
}
