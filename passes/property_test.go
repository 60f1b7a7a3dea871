package passes_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/allot-dev/allot/clock"
	"github.com/allot-dev/allot/passes"
	"github.com/allot-dev/allot/store/memstore"
	"github.com/allot-dev/allot/store/storetest"
	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"
)

// The sessions of the property tests: "theirs" belongs to another workspace
// and "nope" does not exist.
var propSessions = map[string]passes.PassType{"d1": passes.DayPass, "d2": passes.DayPass, "m1": passes.MonthPass, "x1": passes.DemoPass}

var (
	propSessionIDs = []string{"d1", "d2", "m1", "x1", "theirs", "nope"}
	propGuests     = []string{"a@x.example", "b@x.example", "C@X.example", "c@x.example", "not-an-email"}
)

type modelKey struct{ session, guest string }

type modelReq struct {
	session, guest string
	d              passes.Decision
}

type modelRow struct{ passes, balance int64 }

// model is the plain-Go account of a workspace's passes.
type model struct {
	purchased, spent int64
	buys             map[string]int64
	access           map[modelKey]time.Time // until
	first            map[string]time.Time
	requests         map[string]modelReq
	rows             []modelRow
}

func (m *model) balance() int64 { return m.purchased - m.spent }

type machine struct {
	f   *fixture
	m   model
	seq int
}

func newMachine(t *rapid.T) *machine {
	f := &fixture{t: nil, ctx: context.Background(), mem: memstore.New(), clock: clock.NewFake(t0)}
	svc, err := passes.New(f.mem.Passes(), &passes.Options{Clock: f.clock, Roles: testRoles})
	if err != nil {
		t.Fatal(err)
	}
	f.svc = svc
	for id, pt := range propSessions {
		if _, err := svc.CreateSession(f.ctx, passes.CreateSessionParams{Actor: admin, ID: id, Org: "acme", Name: id, Owner: "o@acme.example", PassType: pt}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := svc.CreateSession(f.ctx, passes.CreateSessionParams{Actor: admin, ID: "theirs", Org: "other", Name: "theirs", Owner: "o@other.example"}); err != nil {
		t.Fatal(err)
	}
	return &machine{f: f, m: model{
		buys: map[string]int64{}, access: map[modelKey]time.Time{}, first: map[string]time.Time{}, requests: map[string]modelReq{},
	}}
}

func (mc *machine) snapshot(t *rapid.T) any {
	ls, err := storetest.Snapshot(mc.f.ctx, mc.f.mem)
	if err != nil {
		t.Fatal(err)
	}
	var us []passes.Usage
	var ss []passes.Session
	err = mc.f.mem.Passes().InTx(mc.f.ctx, func(tx passes.Tx) error {
		var err error
		if us, err = tx.UsageList(mc.f.ctx, passes.UsageListParams{Org: "acme"}); err != nil {
			return err
		}
		for _, id := range propSessionIDs[:4] {
			s, err := tx.SessionGet(mc.f.ctx, "acme", id)
			if err != nil {
				return err
			}
			ss = append(ss, s)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return []any{ls, us, ss}
}

func (mc *machine) buy(t *rapid.T) {
	n := rapid.Int64Range(1, 4).Draw(t, "quantity")
	req := fmt.Sprint("o", rapid.IntRange(0, 5).Draw(t, "order"))
	got, err := mc.f.svc.Purchase(mc.f.ctx, passes.PurchaseParams{Org: "acme", Actor: vendor, Quantity: n, RequestID: req})
	if prior, ok := mc.m.buys[req]; ok && prior != n {
		if !errors.Is(err, passes.ErrRequestConflict) {
			t.Fatalf("Buy(%d, %s) reusing an order of %d = %v, want ErrRequestConflict", n, req, prior, err)
		}
		return
	} else if ok {
		if err != nil {
			t.Fatalf("Buy retried: %v", err)
		}
		return
	}
	if err != nil {
		t.Fatalf("Buy: %v", err)
	}
	mc.m.buys[req] = n
	mc.m.purchased += n
	if got.Available != mc.m.balance() || got.Purchased != mc.m.purchased {
		t.Fatalf("Purchase returned %+v, model balance %d, purchased %d", got, mc.m.balance(), mc.m.purchased)
	}
}

func (mc *machine) advance(t *rapid.T) {
	mc.f.clock.Advance(time.Duration(rapid.IntRange(0, 50*60).Draw(t, "minutes")) * time.Minute)
}

// expect is what the model says a new login decides.
func (mc *machine) expect(now time.Time, session, guest string) (passes.Decision, error) {
	g, ok := normalize(guest)
	if !ok {
		return passes.Decision{Reason: passes.ReasonMalformedGuest}, passes.ErrMalformedGuest
	}
	pt, ok := propSessions[session]
	switch {
	case !ok: // "theirs" is another workspace's: unknown in this one
		return passes.Decision{Reason: passes.ReasonUnknownSession}, passes.ErrUnknownSession
	}
	k := modelKey{session, g}
	until := mc.m.access[k]
	d := passes.Decision{Allowed: true, PassType: pt}
	switch pt {
	case passes.DemoPass:
		first, ok := mc.m.first[session]
		if !ok {
			first = now
		}
		d.Demo, d.LocksAt = true, first.Add(4*time.Hour)
		if !now.Before(d.LocksAt) {
			return passes.Decision{Reason: passes.ReasonDemoLocked, PassType: pt}, passes.ErrDemoLocked
		}
		d.InWindow = now.Before(until)
		d.AccessUntil = d.LocksAt
	default:
		if now.Before(until) {
			d.InWindow, d.AccessUntil = true, until
			break
		}
		d.Passes, d.AccessUntil = 1, now.Add(24*time.Hour)
		if pt == passes.MonthPass {
			d.Passes, d.AccessUntil = 2, now.Add(720*time.Hour)
		}
		if d.Passes > mc.m.balance() {
			return passes.Decision{Reason: passes.ReasonInsufficientPasses, PassType: pt}, passes.ErrInsufficientPasses
		}
	}
	d.Balance = mc.m.balance() - d.Passes
	return d, nil
}

func normalize(g string) (string, bool) {
	if g == "not-an-email" {
		return "", false
	}
	if g == "C@X.example" {
		return "c@x.example", true
	}
	return g, true
}

func (mc *machine) login(t *rapid.T) {
	session := rapid.SampledFrom(propSessionIDs).Draw(t, "session")
	guest := rapid.SampledFrom(propGuests).Draw(t, "guest")
	var req string
	if len(mc.m.requests) > 0 && rapid.IntRange(0, 4).Draw(t, "retry") == 0 {
		req = fmt.Sprint("r", rapid.IntRange(0, mc.seq-1).Draw(t, "prior"))
	} else {
		req = fmt.Sprint("r", mc.seq)
		mc.seq++
	}
	now := mc.f.clock.Now()
	before := mc.snapshot(t)
	d, err := mc.f.svc.Login(mc.f.ctx, passes.LoginParams{Org: "acme", Session: session, Guest: guest, RequestID: req})

	g, _ := normalize(guest)
	if prior, ok := mc.m.requests[req]; ok && (guest != "not-an-email") {
		if prior.session != session || prior.guest != g {
			if !errors.Is(err, passes.ErrRequestConflict) {
				t.Fatalf("reused request %s for another login = %v, want ErrRequestConflict", req, err)
			}
		} else if err != nil || !cmp.Equal(prior.d, d) {
			t.Fatalf("retry of %s = %v, %v, want the first decision %v", req, d, err, prior.d)
		}
		mc.unchanged(t, before)
		return
	}
	want, wantErr := mc.expect(now, session, guest)
	if wantErr != nil {
		if !errors.Is(err, wantErr) || d.Allowed || d.Reason != want.Reason || d.Passes != 0 {
			t.Fatalf("Login(%s, %s) = %v, %v, want refusal %v", session, guest, d, err, wantErr)
		}
		mc.unchanged(t, before)
		return
	}
	if err != nil {
		t.Fatalf("Login(%s, %s) = %v, want %v", session, guest, err, want)
	}
	if d.Passes != want.Passes || d.InWindow != want.InWindow || d.Demo != want.Demo || !d.AccessUntil.Equal(want.AccessUntil) ||
		!d.LocksAt.Equal(want.LocksAt) || d.Balance != want.Balance {
		t.Fatalf("Login(%s, %s) = %v, model wants %v", session, guest, d, want)
	}
	// A guest inside an open window is never charged; a demo never spends.
	if (want.InWindow || want.Demo) && d.Passes != 0 {
		t.Fatalf("charged %d inside a window or for a demo", d.Passes)
	}
	mc.m.spent += d.Passes
	mc.m.access[modelKey{session, g}] = d.AccessUntil
	if _, ok := mc.m.first[session]; !ok {
		mc.m.first[session] = now
	}
	mc.m.requests[req] = modelReq{session: session, guest: g, d: d}
	mc.m.rows = append(mc.m.rows, modelRow{d.Passes, d.Balance})
}

func (mc *machine) unchanged(t *rapid.T, before any) {
	if diff := cmp.Diff(before, mc.snapshot(t), cmpDecimal); diff != "" {
		t.Fatalf("a refused or repeated login changed the store (-before +after):\n%s", diff)
	}
}

func (mc *machine) check(t *rapid.T) {
	bal, err := mc.f.svc.Balance(mc.f.ctx, passes.BalanceParams{Org: "acme", Actor: admin})
	if err != nil {
		t.Fatal(err)
	}
	if bal != mc.m.balance() || bal < 0 {
		t.Fatalf("balance %d, model: purchased %d - spent %d", bal, mc.m.purchased, mc.m.spent)
	}
	var rows []modelRow
	var sum int64
	for u, err := range mc.f.svc.Log(mc.f.ctx, passes.LogParams{Actor: admin, Org: "acme", Limit: 7}) {
		if err != nil {
			t.Fatal(err)
		}
		rows = append(rows, modelRow{u.Passes, u.BalanceAfter})
		sum += u.Passes
	}
	if sum != mc.m.spent {
		t.Fatalf("the log's passes sum to %d, spent %d", sum, mc.m.spent)
	}
	if !cmp.Equal(rows, mc.m.rows, cmp.AllowUnexported(modelRow{})) {
		t.Fatalf("log rows (passes, balance after) %v, model %v", rows, mc.m.rows)
	}
	audit(t, mc.f.svc, "acme", "other")
}

// audit fails t if Audit finds anything in the workspaces.
func audit(t interface{ Fatalf(string, ...any) }, svc *passes.Service, workspaces ...string) {
	for _, ws := range workspaces {
		fs, err := svc.Audit(context.Background(), ws)
		if err != nil {
			t.Fatalf("Audit(%s): %v", ws, err)
		}
		if len(fs) > 0 {
			t.Fatalf("Audit(%s) found %v", ws, fs)
		}
	}
}

func TestPasses_Properties(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		mc := newMachine(t)
		t.Repeat(map[string]func(*rapid.T){
			"":        mc.check,
			"buy":     mc.buy,
			"login":   mc.login,
			"advance": mc.advance,
		})
	})
}

// TestPasses_ConcurrentProperties draws a workspace's balance and a burst of
// logins, runs the logins at once, and checks what must hold in any order.
func TestPasses_ConcurrentProperties(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		funded := rapid.Int64Range(0, 8).Draw(t, "funded")
		type login struct{ session, guest string }
		logins := rapid.SliceOfN(rapid.Custom(func(t *rapid.T) login {
			return login{rapid.SampledFrom([]string{"d1", "m1", "x1"}).Draw(t, "session"), rapid.SampledFrom(propGuests[:4]).Draw(t, "guest")}
		}), 1, 16).Draw(t, "logins")

		mc := newMachine(t)
		if funded > 0 {
			if _, err := mc.f.svc.Purchase(mc.f.ctx, passes.PurchaseParams{Org: "acme", Actor: vendor, Quantity: funded, RequestID: "o"}); err != nil {
				t.Fatal(err)
			}
		}
		ds := make([]passes.Decision, len(logins))
		errs := make([]error, len(logins))
		var wg sync.WaitGroup
		for i, l := range logins {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ds[i], errs[i] = mc.f.svc.Login(mc.f.ctx, passes.LoginParams{Org: "acme", Session: l.session, Guest: l.guest, RequestID: fmt.Sprint(i)})
			}()
		}
		wg.Wait()

		var spent int64
		charged := map[modelKey]int{}
		for i, l := range logins {
			switch {
			case errs[i] == nil:
				spent += ds[i].Passes
				g, _ := normalize(l.guest)
				if ds[i].Passes > 0 {
					charged[modelKey{l.session, g}]++
				}
				if l.session == "x1" && ds[i].Passes != 0 {
					t.Fatalf("demo login spent %d", ds[i].Passes)
				}
			case !errors.Is(errs[i], passes.ErrInsufficientPasses):
				t.Fatalf("login %d: %v", i, errs[i])
			}
		}
		for k, n := range charged {
			if n > 1 {
				t.Fatalf("%v charged %d times at one instant", k, n)
			}
		}
		bal, _ := mc.f.svc.Balance(mc.f.ctx, passes.BalanceParams{Org: "acme", Actor: admin})
		if bal != funded-spent || bal < 0 {
			t.Fatalf("balance %d, funded %d, spent %d", bal, funded, spent)
		}
		running, sum := funded, int64(0)
		for u, err := range mc.f.svc.Log(mc.f.ctx, passes.LogParams{Actor: admin, Org: "acme"}) {
			if err != nil {
				t.Fatal(err)
			}
			running -= u.Passes
			sum += u.Passes
			if u.BalanceAfter != running {
				t.Fatalf("row %d: balance after %d, running balance %d", u.Seq, u.BalanceAfter, running)
			}
		}
		if sum != spent {
			t.Fatalf("log passes %d, spent %d", sum, spent)
		}
		audit(t, mc.f.svc, "acme")
	})
}
