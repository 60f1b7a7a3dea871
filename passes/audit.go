package passes

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/allot-dev/allot/internal/errcode"
	"github.com/allot-dev/allot/ledger"
	"github.com/shopspring/decimal"
)

// auditPage is how many records Audit reads at a time.
const auditPage = 1000

// Audit recomputes, in one transaction, what passes keeps for a workspace
// from the ledger and the workspace's other records, and returns every
// disagreement as a ledger.Finding (none when the books agree). The error is
// only for failures to read. Audit is an operator's check of the books, not
// an act of the product, and checks no role: it takes the workspace alone.
//
// It checks that:
//   - the balance account's posted balance is purchased (the issuer
//     account's journal) minus spent (the spent account's journal), and the
//     issuer and spent accounts hold what their journals say;
//   - the usage log is in Seq order, its passes add up to what the spent
//     account holds, and every row that spent passes has the spend transfer
//     of its request (the amount it shows, from the balance account to the
//     spent account) while every spend has a row;
//   - the balance-after column is the running balance: a row that spent
//     shows the balance the journal gives right after its spend, spends come
//     in the log's order, and a row that spent nothing shows a balance the
//     workspace had before the next spending row's spend;
//   - each guest's access window to a session is the window the latest row
//     of that guest and session granted, and every such row has its window;
//   - each session with rows has its first login set, no later than its first
//     row, and no row logged under the demo pass type spent (a session's
//     pass type may change, see UpdateSession: each row is checked against
//     the type it was logged under).
func (s *Service) Audit(ctx context.Context, org string) ([]ledger.Finding, error) {
	if err := checkID("Org", org); err != nil {
		return nil, fmt.Errorf("audit workspace %q: %w", org, err)
	}
	var out []ledger.Finding
	err := s.store.InTx(ctx, func(tx Tx) error {
		a := &auditor{ctx: ctx, tx: tx, ws: org}
		if err := a.run(); err != nil {
			return err
		}
		out = a.findings
		return nil
	})
	if err != nil {
		return nil, errcode.Ensure(fmt.Errorf("audit workspace %q: %w", org, err))
	}
	return out, nil
}

// auditor is one run of Audit.
type auditor struct {
	ctx      context.Context
	tx       Tx
	ws       string
	findings []ledger.Finding

	// The balance account's journal, replayed: the running balance after
	// each of its transfers, and the spends among them by transfer ID.
	runs   []decimal.Decimal
	spends map[ledger.TransferID]*auditSpend
}

type auditSpend struct {
	pos    int // index in runs
	amount decimal.Decimal
	logged bool // a usage row shows it
}

type auditPair struct{ session, guest string }

func (a *auditor) report(record, field string, stored, derived any) {
	a.findings = append(a.findings, ledger.Finding{
		Tenant: a.ws, Record: record, Field: field, Stored: fmt.Sprint(stored), Derived: fmt.Sprint(derived),
	})
}

// account returns an account's posted balance, zero if it does not exist.
func (a *auditor) account(id ledger.AccountID) (decimal.Decimal, error) {
	st, err := a.tx.AccountGet(a.ctx, id)
	if errors.Is(err, ledger.ErrNotFound) {
		return decimal.Zero, nil
	}
	return st.Posted, err
}

// journal calls fn with each transfer of account id, in Seq order.
func (a *auditor) journal(id ledger.AccountID, fn func(t *ledger.Transfer)) error {
	var after int64
	for {
		ts, err := a.tx.TransferList(a.ctx, ledger.TransferListParams{Account: id, AfterSeq: after, Limit: auditPage})
		if err != nil {
			return err
		}
		for i := range ts {
			fn(&ts[i])
		}
		if len(ts) < auditPage {
			return nil
		}
		after = ts[len(ts)-1].Seq
	}
}

// net is what t adds to account id.
func net(t *ledger.Transfer, id ledger.AccountID) decimal.Decimal {
	switch id {
	case t.Credit:
		return t.Amount
	case t.Debit:
		return t.Amount.Neg()
	}
	return decimal.Zero
}

func (a *auditor) run() error {
	balanceID, issuerID, spentID := BalanceAccount(a.ws), IssuerAccount(a.ws), SpentAccount(a.ws)
	balance, err := a.account(balanceID)
	if err != nil {
		return err
	}
	issuer, err := a.account(issuerID)
	if err != nil {
		return err
	}
	spentPosted, err := a.account(spentID)
	if err != nil {
		return err
	}

	// Purchased and spent, from their accounts' journals.
	purchased, spent := decimal.Zero, decimal.Zero
	if err := a.journal(issuerID, func(t *ledger.Transfer) { purchased = purchased.Sub(net(t, issuerID)) }); err != nil {
		return err
	}
	if err := a.journal(spentID, func(t *ledger.Transfer) { spent = spent.Add(net(t, spentID)) }); err != nil {
		return err
	}
	if !issuer.Equal(purchased.Neg()) {
		a.report("issuer account", "balance", issuer, purchased.Neg())
	}
	if !spentPosted.Equal(spent) {
		a.report("spent account", "balance", spentPosted, spent)
	}
	if want := purchased.Sub(spent); !balance.Equal(want) {
		a.report("balance", "passes", balance, want.String()+" (purchased "+purchased.String()+" - spent "+spent.String()+")")
	}

	// The balance account's journal, replayed.
	a.spends = make(map[ledger.TransferID]*auditSpend)
	running := decimal.Zero
	if err := a.journal(balanceID, func(t *ledger.Transfer) {
		running = running.Add(net(t, balanceID))
		a.runs = append(a.runs, running)
		if t.Debit == balanceID && t.Credit == spentID {
			a.spends[t.ID] = &auditSpend{pos: len(a.runs) - 1, amount: t.Amount}
		}
	}); err != nil {
		return err
	}

	latest, err := a.usage(spent)
	if err != nil {
		return err
	}
	if err := a.windows(latest); err != nil {
		return err
	}
	ids := make([]ledger.TransferID, 0, len(a.spends))
	for id, sp := range a.spends {
		if !sp.logged {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	for _, id := range ids {
		a.report("spend "+string(id), "usage row", "none", fmt.Sprintf("a row of %s passes", a.spends[id].amount))
	}
	return nil
}

// auditSession is what the usage log says of a session.
type auditSession struct {
	first time.Time // At of its first row
}

// usage checks the usage log against the ledger and returns the window the
// latest row of each guest and session granted.
func (a *auditor) usage(spent decimal.Decimal) (map[auditPair]Access, error) {
	latest := make(map[auditPair]Access)
	sessions := make(map[string]*auditSession)
	logged := decimal.Zero
	var lastSeq int64
	lastSpend := -1 // index in runs of the last spend the log showed
	// Rows that spent nothing wait for the next spending row: their balance
	// is one the workspace had before its spend.
	var pending []Usage
	seen := map[string]bool{"0": true} // running balances up to next
	next := 0
	settle := func(upTo int) {
		for ; next < upTo && next < len(a.runs); next++ {
			seen[a.runs[next].String()] = true
		}
		for _, u := range pending {
			if !seen[fmt.Sprint(u.BalanceAfter)] {
				a.report("usage row "+u.RequestID, "balance after", u.BalanceAfter, "a balance the workspace had before the next spend")
			}
		}
		pending = pending[:0]
	}
	p := UsageListParams{Org: a.ws, Limit: auditPage}
	for {
		rows, err := a.tx.UsageList(a.ctx, p)
		if err != nil {
			return nil, err
		}
		for _, u := range rows {
			rec := "usage row " + u.RequestID
			if u.Seq <= lastSeq {
				a.report(rec, "seq", u.Seq, fmt.Sprintf("after %d", lastSeq))
			}
			lastSeq = u.Seq
			if u.Org != a.ws {
				a.report(rec, "workspace", u.Org, a.ws)
			}
			logged = logged.Add(decimal.NewFromInt(u.Passes))
			ss := sessions[u.Session]
			if ss == nil {
				ss = &auditSession{first: u.At}
				sessions[u.Session] = ss
			}
			latest[auditPair{u.Session, u.User}] = Access{Org: a.ws, Session: u.Session, Guest: u.User, Start: u.AccessFrom, Until: u.AccessUntil}
			if (u.Demo || u.PassType == DemoPass) && u.Passes != 0 {
				a.report(rec, "passes", u.Passes, "0: a demo session never spends")
			}
			switch {
			case u.Passes < 0:
				a.report(rec, "passes", u.Passes, "0 or more")
			case u.Passes == 0:
				if u.Transfer != "" {
					a.report(rec, "transfer", u.Transfer, "none: the row spent nothing")
				}
				pending = append(pending, u)
			default:
				id, _, _ := spendIDs(a.ws, u.RequestID)
				if u.Transfer != string(id) {
					a.report(rec, "transfer", u.Transfer, id)
				}
				sp := a.spends[id]
				if sp == nil {
					a.report(rec, "transfer", u.Transfer, "none: the ledger has no spend of this request")
					continue
				}
				sp.logged = true
				settle(sp.pos)
				if !sp.amount.Equal(decimal.NewFromInt(u.Passes)) {
					a.report(rec, "passes", u.Passes, sp.amount)
				}
				if run := a.runs[sp.pos]; !run.Equal(decimal.NewFromInt(u.BalanceAfter)) {
					a.report(rec, "balance after", u.BalanceAfter, run)
				}
				if sp.pos < lastSpend {
					a.report(rec, "order", "after the spend of a later row", "spends in the log's order")
				}
				lastSpend = max(lastSpend, sp.pos)
			}
		}
		if len(rows) < auditPage {
			break
		}
		p.AfterSeq = rows[len(rows)-1].Seq
	}
	settle(len(a.runs))
	if !logged.Equal(spent) {
		a.report("usage log", "passes used", logged, spent)
	}
	ids := make([]string, 0, len(sessions))
	for id := range sessions {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		ss := sessions[id]
		sess, err := a.tx.SessionGet(a.ctx, a.ws, id)
		if errors.Is(err, ledger.ErrNotFound) {
			a.report("session "+id, "existence", "none", "a session the log has rows of")
			continue
		}
		if err != nil {
			return nil, err
		}
		if sess.FirstLogin.IsZero() || sess.FirstLogin.After(ss.first) {
			a.report("session "+id, "first login", fmtTime(sess.FirstLogin), "at or before its first row, "+fmtTime(ss.first))
		}
	}
	return latest, nil
}

// windows checks each stored access window against the latest row of its
// guest and session.
func (a *auditor) windows(latest map[auditPair]Access) error {
	p := AccessListParams{Org: a.ws, Limit: auditPage}
	for {
		ws, err := a.tx.AccessList(a.ctx, p)
		if err != nil {
			return err
		}
		for _, w := range ws {
			k := auditPair{w.Session, w.Guest}
			rec := "access of " + w.Guest + " to session " + w.Session
			want, ok := latest[k]
			if !ok {
				a.report(rec, "window", fmtWindow(w), "none: no usage row granted it")
				continue
			}
			delete(latest, k)
			if !w.Start.Equal(want.Start) || !w.Until.Equal(want.Until) {
				a.report(rec, "window", fmtWindow(w), fmtWindow(want))
			}
		}
		if len(ws) < auditPage {
			break
		}
		last := ws[len(ws)-1]
		p.AfterSession, p.AfterGuest = last.Session, last.Guest
	}
	missing := make([]auditPair, 0, len(latest))
	for k := range latest {
		missing = append(missing, k)
	}
	slices.SortFunc(missing, func(x, y auditPair) int {
		if c := strings.Compare(x.session, y.session); c != 0 {
			return c
		}
		return strings.Compare(x.guest, y.guest)
	})
	for _, k := range missing {
		a.report("access of "+k.guest+" to session "+k.session, "window", "none", fmtWindow(latest[k]))
	}
	return nil
}

func fmtWindow(w Access) string { return "[" + fmtTime(w.Start) + ", " + fmtTime(w.Until) + ")" }
