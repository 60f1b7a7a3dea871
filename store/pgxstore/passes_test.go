package pgxstore_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/clock"
	"github.com/allot-dev/allot/passes"
	"github.com/allot-dev/allot/store/memstore"
	"github.com/allot-dev/allot/store/pgxstore"
	"github.com/allot-dev/allot/store/storetest"
	"pgregory.net/rapid"
)

// passesSentinels are the error categories of the passes service.
var passesSentinels = []error{
	passes.ErrRefused, passes.ErrInsufficientPasses, passes.ErrDemoLocked, passes.ErrUnknownSession,
	passes.ErrMalformedGuest, passes.ErrUnknownField, passes.ErrMissingField,
	passes.ErrInvalid, passes.ErrSessionExists, passes.ErrFieldConflict, passes.ErrRequestConflict, passes.ErrPolicy,
}

var (
	passesModelWorkspaces = []string{"acme", "acme", "globex"}
	passesModelSessions   = []string{"s0", "s1", "s2", "s3", "nope"}
	passesModelTypes      = []passes.PassType{passes.DayPass, passes.MonthPass, passes.DemoPass, "weekly"}
	passesModelGuests     = []string{"ann@x.example", "Ann@X.example", "bob@x.example", "not-an-email"}
	passesModelFields     = []string{"Note", "Ref"}
	passesModelRequests   = []string{"r0", "r1", "r2", "r3", "r4", "r5", "r6", "r7", "r8", "r9"}
)

// TestModelPasses checks that the passes service on pgxstore behaves as on
// memstore: purchases, custom fields, sessions and logins give the same
// decisions and errors, and the same balances, usage logs and ledger state
// after every step, and Audit finds nothing on either store.
func TestModelPasses(t *testing.T) {
	ctx, start := context.Background(), modelStart
	checkModel(t, func(t *rapid.T, pgs *pgxstore.Store) {
		clk := clock.NewFake(start)
		memS := memstore.New()
		mem, _ := passes.New(memS.Passes(), &passes.Options{Clock: clk, Roles: passesRoles})
		pg, _ := passes.New(pgs.Passes(), &passes.Options{Clock: clk, Roles: passesRoles})
		svcs := [2]*passes.Service{mem, pg}
		t.Repeat(map[string]func(*rapid.T){
			"buy": func(t *rapid.T) {
				ws := rapid.SampledFrom(passesModelWorkspaces).Draw(t, "workspace")
				n := rapid.Int64Range(0, 4).Draw(t, "quantity")
				req := rapid.SampledFrom(passesModelRequests).Draw(t, "request")
				var got [2]allot.Purchase
				var errs [2]error
				for i, svc := range svcs {
					got[i], errs[i] = svc.Purchase(ctx, passes.PurchaseParams{Org: ws, Actor: passesVendor, Quantity: n, RequestID: req})
				}
				sameIn(t, passesSentinels, "Buy", got[0], errs[0], got[1], errs[1])
			},
			"defineField": func(t *rapid.T) {
				ws := rapid.SampledFrom(passesModelWorkspaces).Draw(t, "workspace")
				f := passes.FieldDef{Name: rapid.SampledFrom(passesModelFields).Draw(t, "field"), Required: rapid.Bool().Draw(t, "required")}
				var got [2][]passes.FieldDef
				var errs [2]error
				for i, svc := range svcs {
					got[i], errs[i] = svc.DefineFields(ctx, passes.DefineFieldsParams{Org: ws, Actor: passesAdmin, Fields: []passes.FieldDef{f}})
				}
				sameIn(t, passesSentinels, "DefineFields", got[0], errs[0], got[1], errs[1])
			},
			"createSession": func(t *rapid.T) {
				s := passes.CreateSessionParams{
					Actor:    passesAdmin,
					ID:       rapid.SampledFrom(passesModelSessions[:4]).Draw(t, "id"),
					Org:      rapid.SampledFrom(passesModelWorkspaces).Draw(t, "workspace"),
					Name:     "Session",
					Owner:    "o@acme.example",
					External: rapid.Bool().Draw(t, "external"),
					PassType: rapid.SampledFrom(passesModelTypes).Draw(t, "type"),
				}
				if rapid.Bool().Draw(t, "withField") {
					s.Fields = []passes.FieldValue{{Name: rapid.SampledFrom(passesModelFields).Draw(t, "field"), Value: "v"}}
				}
				var got [2]passes.Session
				var errs [2]error
				for i, svc := range svcs {
					got[i], errs[i] = svc.CreateSession(ctx, s)
				}
				sameIn(t, passesSentinels, "CreateSession", got[0], errs[0], got[1], errs[1])
			},
			"login": func(t *rapid.T) {
				r := passes.LoginParams{
					Org:       rapid.SampledFrom(passesModelWorkspaces).Draw(t, "workspace"),
					Session:   rapid.SampledFrom(passesModelSessions).Draw(t, "session"),
					Guest:     rapid.SampledFrom(passesModelGuests).Draw(t, "guest"),
					Location:  "Bern",
					RequestID: fmt.Sprint("l", rapid.IntRange(0, 39).Draw(t, "request")),
				}
				if rapid.Bool().Draw(t, "withField") {
					r.Fields = map[string]string{rapid.SampledFrom(passesModelFields).Draw(t, "field"): rapid.SampledFrom([]string{"", "x"}).Draw(t, "value")}
				}
				var got [2]passes.Decision
				var errs [2]error
				for i, svc := range svcs {
					got[i], errs[i] = svc.Login(ctx, r)
				}
				sameIn(t, passesSentinels, "Login", got[0], errs[0], got[1], errs[1])
			},
			"advance": func(t *rapid.T) {
				clk.Advance(time.Duration(rapid.IntRange(0, 30*60).Draw(t, "minutes")) * time.Minute)
			},
			"": func(t *rapid.T) {
				for _, ws := range []string{"acme", "globex"} {
					var bal [2]int64
					var rows [2][]passes.Usage
					var errs [2]error
					for i, svc := range svcs {
						if bal[i], errs[i] = svc.Balance(ctx, passes.BalanceParams{Org: ws, Actor: passesAdmin}); errs[i] != nil {
							t.Fatalf("Balance(%s): %v", ws, errs[i])
						}
						for u, err := range svc.Log(ctx, passes.LogParams{Actor: passesAdmin, Org: ws, Limit: 3}) {
							if err != nil {
								t.Fatalf("Usages(%s): %v", ws, err)
							}
							u.Seq = 0 // identity values are the database's
							rows[i] = append(rows[i], u)
						}
					}
					same(t, "Balance "+ws, bal[0], nil, bal[1], nil)
					same(t, "Usages "+ws, rows[0], nil, rows[1], nil)
					for i, svc := range svcs {
						fs, err := svc.Audit(ctx, ws)
						if err != nil || len(fs) != 0 {
							t.Fatalf("Audit(%s) on %s = %v, %v; want no findings", ws, [2]string{"memstore", "pgxstore"}[i], fs, err)
						}
					}
				}
				ms, merr := storetest.Snapshot(ctx, memS)
				ps, perr := storetest.Snapshot(ctx, pgs)
				same(t, "ledger state", ms, merr, ps, perr)
			},
		})
	})
}

// TestUsageCommitsInSeqOrder: while one transaction has written a usage row
// of a workspace and not committed, another row of that workspace waits, so
// the workspace's rows commit in Seq order and a reader paging its log by
// Seq never passes a row that commits later.
func TestUsageCommitsInSeqOrder(t *testing.T) {
	db := newTestDB(t)
	st, err := pgxstore.New(db.pool(t, 4), nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	row := func(req string) passes.Usage {
		return passes.Usage{Org: "acme", RequestID: req, At: at, Session: "s1", User: "a@x.example", PassType: passes.DayPass}
	}
	inserted, release := make(chan struct{}), make(chan struct{})
	first := make(chan error, 1)
	go func() {
		first <- st.Passes().InTx(ctx, func(tx passes.Tx) error {
			_, err := tx.UsageInsert(ctx, row("first"))
			close(inserted)
			if err != nil {
				return err
			}
			<-release
			return nil
		})
	}()
	<-inserted
	second := make(chan error, 1)
	go func() {
		second <- st.Passes().InTx(ctx, func(tx passes.Tx) error {
			_, err := tx.UsageInsert(ctx, row("second"))
			return err
		})
	}()
	select {
	case err := <-second:
		close(release)
		<-first
		t.Fatalf("a second row of the workspace committed (%v) while an earlier one was not", err)
	case <-time.After(300 * time.Millisecond):
	}
	close(release)
	if err := <-first; err != nil {
		t.Fatal(err)
	}
	if err := <-second; err != nil {
		t.Fatal(err)
	}
	var got []string
	err = st.Passes().InTx(ctx, func(tx passes.Tx) error {
		us, err := tx.UsageList(ctx, passes.UsageListParams{Org: "acme"})
		got = nil
		for _, u := range us {
			got = append(got, u.RequestID)
		}
		return err
	})
	if err != nil || len(got) != 2 || got[0] != "first" || got[1] != "second" {
		t.Errorf("log in Seq order = %v, %v; want first, second", got, err)
	}
}

// TestPasses_FirstLoginLocksTheSession checks that a session's first login
// in a transaction without a snapshot (here the caller's) reads the
// session locked, as it will write it: a concurrent UpdateSession can then
// neither be undone by the login's write nor undo its first login. A later
// login, which writes nothing to the session, leaves it unlocked.
func TestPasses_FirstLoginLocksTheSession(t *testing.T) {
	db := newTestDB(t)
	s := db.store(t, 2, nil)
	ctx := context.Background()
	svc, err := passes.New(s.Passes(), &passes.Options{Roles: passesRoles})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Purchase(ctx, passes.PurchaseParams{Org: "acme", Actor: passesVendor, Quantity: 10, RequestID: "buy"}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.CreateSession(ctx, passes.CreateSessionParams{Actor: passesAdmin, ID: "s", Org: "acme", Name: "S", Owner: "o@acme.example"}); err != nil {
		t.Fatal(err)
	}
	// load runs a login's load in a caller's transaction and reports
	// whether the session's row is locked right after it, before any write.
	load := func(guest string) (locked bool) {
		t.Helper()
		tx, err := db.pool(t, 1).Begin(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer tx.Rollback(ctx)
		err = s.WithTx(tx).Passes().InTx(ctx, func(ptx passes.Tx) error {
			var st passes.LoginState
			if err := ptx.LoginLoad(ctx, passes.LoginLoadParams{Org: "acme", Session: "s", Guest: guest, RequestID: guest}, &st); err != nil {
				return err
			}
			if !st.SessionFound {
				return errors.New("the load did not find the session")
			}
			locked = rowLockedElsewhere(t, db, "allot_pass_sessions", "workspace = $1 AND id = $2", "acme", "s")
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return locked
	}
	if !load("g1@x.example") {
		t.Error("the load of the session's first login in a caller's transaction did not lock the session")
	}
	if _, err := svc.Login(ctx, passes.LoginParams{Org: "acme", Session: "s", Guest: "g1@x.example", RequestID: "g1"}); err != nil {
		t.Fatal(err)
	}
	if load("g2@x.example") {
		t.Error("the load of a later login locked the session it does not write")
	}
}
