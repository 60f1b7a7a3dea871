package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/ledger"
	"github.com/allot-dev/allot/passes"
	"github.com/google/go-cmp/cmp"
)

func runPasses(t *testing.T, newStore Factory) {
	t.Run("Sentinels", func(t *testing.T) { testPassesSentinels(t, newStore) })
	t.Run("RoundTrip", func(t *testing.T) { testPassesRoundTrip(t, newStore) })
	t.Run("TimePrecision", func(t *testing.T) { testPassesTimePrecision(t, newStore) })
	t.Run("Rollback", func(t *testing.T) { testPassesRollback(t, newStore) })
	t.Run("CopySafety", func(t *testing.T) { testPassesCopySafety(t, newStore) })
	t.Run("UsageListing", func(t *testing.T) { testPassesUsageListing(t, newStore) })
	t.Run("OneGuestConcurrently", func(t *testing.T) { testPassesOneGuestConcurrently(t, newStore) })
	t.Run("NoOversell", func(t *testing.T) { testPassesNoOversell(t, newStore) })
	t.Run("SameRequestConcurrently", func(t *testing.T) { testPassesSameRequestConcurrently(t, newStore) })
	t.Run("TenantKeys", func(t *testing.T) { testPassesTenantKeys(t, newStore) })
	t.Run("AccessList", func(t *testing.T) { testPassesAccessList(t, newStore) })
	t.Run("DefineFieldsConcurrently", func(t *testing.T) { testPassesDefineFieldsConcurrently(t, newStore) })
	t.Run("DefineFieldsRetriedConcurrently", func(t *testing.T) { testPassesDefineFieldsRetriedConcurrently(t, newStore) })
	t.Run("UpdateSession", func(t *testing.T) { testPassesUpdateSession(t, newStore) })
	t.Run("SessionList", func(t *testing.T) { testPassesSessionList(t, newStore) })
	t.Run("PurchaseRetry", func(t *testing.T) { testPassesPurchaseRetry(t, newStore) })
	t.Run("LoginLoad", func(t *testing.T) { testPassesLoginLoad(t, newStore) })
	t.Run("LoginWrites", func(t *testing.T) { testPassesLoginWrites(t, newStore) })
	t.Run("DemoLockMark", func(t *testing.T) { testPassesDemoLockMark(t, newStore) })
	t.Run("DemoLockedOnce", func(t *testing.T) { testPassesDemoLockedOnce(t, newStore) })
}

// ptx runs fn in a passes transaction and fails the test on error.
func ptx(t *testing.T, s passes.Store, fn func(ctx context.Context, tx passes.Tx) error) {
	t.Helper()
	ctx := context.Background()
	if err := s.InTx(ctx, func(tx passes.Tx) error { return fn(ctx, tx) }); err != nil {
		t.Fatalf("InTx: %v", err)
	}
}

func sampleSession(id string) passes.Session {
	return passes.Session{
		ID: id, Org: "acme", Name: "Session " + id, Owner: "o@acme.example", External: true,
		PassType: passes.MonthPass, Fields: []passes.FieldValue{{Name: "Note", Value: "n"}}, CreatedAt: start,
	}
}

func sampleUsage(req string, at time.Time) passes.Usage {
	return passes.Usage{
		Org: "acme", RequestID: req, At: at, Session: "s1", SessionName: "One", External: true,
		Location: "Bern", User: "a@x.example", Owner: "o@acme.example", PassType: passes.DayPass,
		Passes: 1, BalanceAfter: 4, Transfer: "t-" + req,
		Fields:   []passes.FieldValue{{Name: "Note", Value: "n"}, {Name: "Ref", Value: ""}},
		InWindow: false, AccessFrom: at, AccessUntil: at.Add(24 * time.Hour), Demo: true, LocksAt: at.Add(4 * time.Hour),
	}
}

func testPassesSentinels(t *testing.T, newStore Factory) {
	s := newStore(t).Passes()
	ptx(t, s, func(ctx context.Context, tx passes.Tx) error {
		if err := tx.SessionInsert(ctx, sampleSession("s1")); err != nil {
			return err
		}
		if err := tx.FieldInsert(ctx, passes.FieldDef{Org: "acme", Name: "Note"}); err != nil {
			return err
		}
		if err := tx.AccessInsert(ctx, passes.Access{Org: "acme", Session: "s1", Guest: "a@x.example", Start: start, Until: start.Add(time.Hour)}); err != nil {
			return err
		}
		_, err := tx.UsageInsert(ctx, sampleUsage("r1", start))
		return err
	})
	ptx(t, s, func(ctx context.Context, tx passes.Tx) error {
		if _, err := tx.SessionGet(ctx, "acme", "nope"); !errors.Is(err, ledger.ErrNotFound) {
			t.Errorf("SessionGet(missing) = %v, want ErrNotFound", err)
		}
		if err := tx.SessionUpdate(ctx, sampleSession("nope")); !errors.Is(err, ledger.ErrNotFound) {
			t.Errorf("SessionUpdate(missing) = %v, want ErrNotFound", err)
		}
		if _, err := tx.AccessLock(ctx, "acme", "s1", "b@x.example"); !errors.Is(err, ledger.ErrNotFound) {
			t.Errorf("AccessLock(missing) = %v, want ErrNotFound", err)
		}
		if err := tx.AccessUpdate(ctx, passes.Access{Org: "acme", Session: "s1", Guest: "b@x.example"}); !errors.Is(err, ledger.ErrNotFound) {
			t.Errorf("AccessUpdate(missing) = %v, want ErrNotFound", err)
		}
		if _, err := tx.UsageGetByRequest(ctx, "acme", "nope"); !errors.Is(err, ledger.ErrNotFound) {
			t.Errorf("UsageGetByRequest(missing) = %v, want ErrNotFound", err)
		}
		if _, err := tx.UsageGetByRequest(ctx, "other", "r1"); !errors.Is(err, ledger.ErrNotFound) {
			t.Errorf("UsageGetByRequest(other workspace) = %v, want ErrNotFound", err)
		}
		if fs, err := tx.FieldList(ctx, "other"); err != nil || len(fs) != 0 {
			t.Errorf("FieldList(no fields) = %v, %v, want nothing", fs, err)
		}
		return nil
	})
	// Each taken key in a transaction of its own: some databases abort a
	// transaction on a constraint violation.
	taken := []struct {
		name string
		fn   func(ctx context.Context, tx passes.Tx) error
	}{
		{"SessionInsert", func(ctx context.Context, tx passes.Tx) error { return tx.SessionInsert(ctx, sampleSession("s1")) }},
		{"FieldInsertName", func(ctx context.Context, tx passes.Tx) error {
			return tx.FieldInsert(ctx, passes.FieldDef{Org: "acme", Name: "Note", Position: 1})
		}},
		{"FieldInsertPosition", func(ctx context.Context, tx passes.Tx) error {
			return tx.FieldInsert(ctx, passes.FieldDef{Org: "acme", Name: "Other", Position: 0})
		}},
		{"AccessInsert", func(ctx context.Context, tx passes.Tx) error {
			return tx.AccessInsert(ctx, passes.Access{Org: "acme", Session: "s1", Guest: "a@x.example"})
		}},
		{"AccessInsertAfterMiss", func(ctx context.Context, tx passes.Tx) error {
			// Not there when looked up, as at a guest's first login, then
			// inserted twice: the second insert finds it taken.
			if _, err := tx.AccessLock(ctx, "acme", "s1", "c@x.example"); !errors.Is(err, ledger.ErrNotFound) {
				return fmt.Errorf("AccessLock(missing) = %v, want ErrNotFound", err)
			}
			if err := tx.AccessInsert(ctx, passes.Access{Org: "acme", Session: "s1", Guest: "c@x.example"}); err != nil {
				return err
			}
			return tx.AccessInsert(ctx, passes.Access{Org: "acme", Session: "s1", Guest: "c@x.example"})
		}},
		{"UsageInsert", func(ctx context.Context, tx passes.Tx) error {
			_, err := tx.UsageInsert(ctx, sampleUsage("r1", start))
			return err
		}},
		{"UsageInsertAfterMiss", func(ctx context.Context, tx passes.Tx) error {
			// Likewise a login request.
			if _, err := tx.UsageGetByRequest(ctx, "acme", "r2"); !errors.Is(err, ledger.ErrNotFound) {
				return fmt.Errorf("UsageGetByRequest(missing) = %v, want ErrNotFound", err)
			}
			if _, err := tx.UsageInsert(ctx, sampleUsage("r2", start)); err != nil {
				return err
			}
			_, err := tx.UsageInsert(ctx, sampleUsage("r2", start))
			return err
		}},
	}
	for _, tc := range taken {
		err := s.InTx(context.Background(), func(tx passes.Tx) error { return tc.fn(context.Background(), tx) })
		if !errors.Is(err, ledger.ErrAlreadyExists) {
			t.Errorf("%s(taken) = %v, want ErrAlreadyExists", tc.name, err)
		}
	}
	// The same names in another workspace are free.
	ptx(t, s, func(ctx context.Context, tx passes.Tx) error {
		if err := tx.FieldInsert(ctx, passes.FieldDef{Org: "other", Name: "Note"}); err != nil {
			return err
		}
		u := sampleUsage("r1", start)
		u.Org = "other"
		_, err := tx.UsageInsert(ctx, u)
		return err
	})
}

func testPassesRoundTrip(t *testing.T, newStore Factory) {
	s := newStore(t).Passes()
	sess := sampleSession("s1")
	sess.FirstLogin = start.Add(time.Hour)
	acc := passes.Access{Org: "acme", Session: "s1", Guest: "a@x.example", Start: start, Until: start.Add(720 * time.Hour)}
	u := sampleUsage("r1", start)
	var seq int64
	ptx(t, s, func(ctx context.Context, tx passes.Tx) error {
		if err := tx.SessionInsert(ctx, sess); err != nil {
			return err
		}
		for i, name := range []string{"Note", "Ref"} {
			if err := tx.FieldInsert(ctx, passes.FieldDef{Org: "acme", Name: name, Required: i == 1, Position: i}); err != nil {
				return err
			}
		}
		if err := tx.AccessInsert(ctx, acc); err != nil {
			return err
		}
		var err error
		seq, err = tx.UsageInsert(ctx, u)
		return err
	})
	if seq <= 0 {
		t.Errorf("UsageInsert gave Seq %d, want positive", seq)
	}
	u.Seq = seq
	ptx(t, s, func(ctx context.Context, tx passes.Tx) error {
		got, err := tx.SessionGet(ctx, "acme", "s1")
		if err != nil {
			return err
		}
		if diff := cmp.Diff(sess, got); diff != "" {
			t.Errorf("SessionGet mismatch (-want +got):\n%s", diff)
		}
		fs, err := tx.FieldList(ctx, "acme")
		if err != nil {
			return err
		}
		want := []passes.FieldDef{{Org: "acme", Name: "Note", Position: 0}, {Org: "acme", Name: "Ref", Required: true, Position: 1}}
		if diff := cmp.Diff(want, fs); diff != "" {
			t.Errorf("FieldList mismatch (-want +got):\n%s", diff)
		}
		a, err := tx.AccessLock(ctx, "acme", "s1", "a@x.example")
		if err != nil {
			return err
		}
		if diff := cmp.Diff(acc, a); diff != "" {
			t.Errorf("AccessLock mismatch (-want +got):\n%s", diff)
		}
		gu, err := tx.UsageGetByRequest(ctx, "acme", "r1")
		if err != nil {
			return err
		}
		if diff := cmp.Diff(u, gu); diff != "" {
			t.Errorf("UsageGetByRequest mismatch (-want +got):\n%s", diff)
		}
		// Updates replace.
		sess.FirstLogin = start.Add(2 * time.Hour)
		if err := tx.SessionUpdate(ctx, sess); err != nil {
			return err
		}
		acc.Until = start.Add(time.Hour)
		return tx.AccessUpdate(ctx, acc)
	})
	ptx(t, s, func(ctx context.Context, tx passes.Tx) error {
		got, _ := tx.SessionGet(ctx, "acme", "s1")
		a, _ := tx.AccessLock(ctx, "acme", "s1", "a@x.example")
		if !got.FirstLogin.Equal(sess.FirstLogin) || !a.Until.Equal(acc.Until) {
			t.Errorf("after updates: session %+v, access %+v", got, a)
		}
		return nil
	})
}

// testPassesTimePrecision: times handed in with nanoseconds, in another zone,
// come back as the same UTC instant in whole microseconds; zero stays zero.
func testPassesTimePrecision(t *testing.T, newStore Factory) {
	s := newStore(t).Passes()
	fine := start.Add(789 * time.Nanosecond).In(time.FixedZone("UTC+2", 2*60*60))
	sess := sampleSession("s1")
	sess.CreatedAt = fine
	acc := passes.Access{Org: "acme", Session: "s1", Guest: "a@x.example", Start: fine, Until: fine.Add(time.Hour)}
	u := sampleUsage("r1", fine)
	u.LocksAt = time.Time{}
	ptx(t, s, func(ctx context.Context, tx passes.Tx) error {
		if err := tx.SessionInsert(ctx, sess); err != nil {
			return err
		}
		if err := tx.AccessInsert(ctx, acc); err != nil {
			return err
		}
		_, err := tx.UsageInsert(ctx, u)
		return err
	})
	ptx(t, s, func(ctx context.Context, tx passes.Tx) error {
		gs, err := tx.SessionGet(ctx, "acme", "s1")
		if err != nil {
			return err
		}
		ga, err := tx.AccessLock(ctx, "acme", "s1", "a@x.example")
		if err != nil {
			return err
		}
		gu, err := tx.UsageGetByRequest(ctx, "acme", "r1")
		if err != nil {
			return err
		}
		want := fine.Truncate(time.Microsecond)
		for _, c := range []struct {
			name      string
			got, want time.Time
		}{
			{"Session.CreatedAt", gs.CreatedAt, want},
			{"Session.FirstLogin", gs.FirstLogin, time.Time{}},
			{"Access.Start", ga.Start, want},
			{"Access.Until", ga.Until, want.Add(time.Hour)},
			{"Usage.At", gu.At, want},
			{"Usage.AccessFrom", gu.AccessFrom, want},
			{"Usage.AccessUntil", gu.AccessUntil, want.Add(24 * time.Hour)},
			{"Usage.LocksAt", gu.LocksAt, time.Time{}},
		} {
			if !c.got.Equal(c.want) || (!c.want.IsZero() && c.got.Location() != time.UTC) {
				t.Errorf("%s = %v, want %v: the same UTC instant in whole microseconds", c.name, c.got, c.want)
			}
			if c.want.IsZero() && !c.got.IsZero() {
				t.Errorf("%s = %v, want the zero time", c.name, c.got)
			}
		}
		return nil
	})
}

func testPassesRollback(t *testing.T, newStore Factory) {
	s := newStore(t).Passes()
	ptx(t, s, func(ctx context.Context, tx passes.Tx) error {
		if err := tx.SessionInsert(ctx, sampleSession("s1")); err != nil {
			return err
		}
		if err := tx.AccessInsert(ctx, passes.Access{Org: "acme", Session: "s1", Guest: "a@x.example", Until: start}); err != nil {
			return err
		}
		_, err := tx.UsageInsert(ctx, sampleUsage("r0", start))
		return err
	})
	boom := errors.New("boom")
	err := s.InTx(context.Background(), func(tx passes.Tx) error {
		ctx := context.Background()
		changed := sampleSession("s1")
		changed.FirstLogin = start
		if err := tx.SessionUpdate(ctx, changed); err != nil {
			return err
		}
		if err := tx.SessionInsert(ctx, sampleSession("s2")); err != nil {
			return err
		}
		if err := tx.FieldInsert(ctx, passes.FieldDef{Org: "acme", Name: "Note"}); err != nil {
			return err
		}
		if err := tx.AccessUpdate(ctx, passes.Access{Org: "acme", Session: "s1", Guest: "a@x.example", Until: start.Add(time.Hour)}); err != nil {
			return err
		}
		if err := tx.AccessInsert(ctx, passes.Access{Org: "acme", Session: "s1", Guest: "b@x.example", Until: start}); err != nil {
			return err
		}
		if _, err := tx.UsageInsert(ctx, sampleUsage("r1", start)); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("InTx = %v, want boom", err)
	}
	ptx(t, s, func(ctx context.Context, tx passes.Tx) error {
		if got, _ := tx.SessionGet(ctx, "acme", "s1"); !got.FirstLogin.IsZero() {
			t.Error("SessionUpdate survived a rollback")
		}
		if _, err := tx.SessionGet(ctx, "acme", "s2"); !errors.Is(err, ledger.ErrNotFound) {
			t.Error("SessionInsert survived a rollback")
		}
		if fs, _ := tx.FieldList(ctx, "acme"); len(fs) != 0 {
			t.Error("FieldInsert survived a rollback")
		}
		if a, _ := tx.AccessLock(ctx, "acme", "s1", "a@x.example"); !a.Until.Equal(start) {
			t.Error("AccessUpdate survived a rollback")
		}
		if _, err := tx.AccessLock(ctx, "acme", "s1", "b@x.example"); !errors.Is(err, ledger.ErrNotFound) {
			t.Error("AccessInsert survived a rollback")
		}
		if _, err := tx.UsageGetByRequest(ctx, "acme", "r1"); !errors.Is(err, ledger.ErrNotFound) {
			t.Error("UsageInsert survived a rollback")
		}
		if u, err := tx.UsageGetByRequest(ctx, "acme", "r0"); err != nil || u.RequestID != "r0" {
			t.Errorf("the row committed before the rollback = %+v, %v; want it found", u, err)
		}
		if us, _ := tx.UsageList(ctx, passes.UsageListParams{Org: "acme"}); len(us) != 1 {
			t.Error("UsageInsert survived a rollback in the listing")
		}
		// The request ID is free again, and Seqs keep increasing.
		_, err := tx.UsageInsert(ctx, sampleUsage("r1", start))
		return err
	})
}

func testPassesCopySafety(t *testing.T, newStore Factory) {
	s := newStore(t).Passes()
	sess := sampleSession("s1")
	u := sampleUsage("r1", start)
	ptx(t, s, func(ctx context.Context, tx passes.Tx) error {
		if err := tx.SessionInsert(ctx, sess); err != nil {
			return err
		}
		if err := tx.FieldInsert(ctx, passes.FieldDef{Org: "acme", Name: "Note"}); err != nil {
			return err
		}
		_, err := tx.UsageInsert(ctx, u)
		return err
	})
	sess.Fields[0].Value = "changed"
	u.Fields[0].Value = "changed"
	ptx(t, s, func(ctx context.Context, tx passes.Tx) error {
		got, _ := tx.SessionGet(ctx, "acme", "s1")
		gu, _ := tx.UsageGetByRequest(ctx, "acme", "r1")
		if got.Fields[0].Value != "n" || gu.Fields[0].Value != "n" {
			t.Errorf("changing values handed in changed the store: %v, %v", got.Fields, gu.Fields)
		}
		got.Fields[0].Value = "changed"
		gu.Fields[0].Value = "changed"
		list, _ := tx.UsageList(ctx, passes.UsageListParams{Org: "acme"})
		list[0].Fields[0].Value = "changed"
		fs, _ := tx.FieldList(ctx, "acme")
		fs[0].Name = "changed"
		return nil
	})
	ptx(t, s, func(ctx context.Context, tx passes.Tx) error {
		got, _ := tx.SessionGet(ctx, "acme", "s1")
		gu, _ := tx.UsageGetByRequest(ctx, "acme", "r1")
		list, _ := tx.UsageList(ctx, passes.UsageListParams{Org: "acme"})
		fs, _ := tx.FieldList(ctx, "acme")
		if got.Fields[0].Value != "n" || gu.Fields[0].Value != "n" || list[0].Fields[0].Value != "n" || fs[0].Name != "Note" {
			t.Errorf("changing values handed out changed the store")
		}
		return nil
	})
}

func testPassesUsageListing(t *testing.T, newStore Factory) {
	s := newStore(t).Passes()
	var want []passes.Usage
	ptx(t, s, func(ctx context.Context, tx passes.Tx) error {
		for i := range 12 {
			u := sampleUsage(fmt.Sprint("r", i), start.Add(time.Duration(i)*time.Hour))
			u.Session = []string{"s1", "s2"}[i%2]
			u.User = []string{"a@x.example", "b@x.example", "c@x.example"}[i%3]
			// A row keeps the session's details and field values of its
			// own login, whatever rows of the session before or after had:
			// each of these rows differs from the session's previous row in
			// one of them.
			switch i {
			case 2:
				u.SessionName = "Renamed"
			case 3:
				u.Owner = "p@acme.example"
			case 5:
				u.Fields = nil
			case 6:
				u.External = false
			case 9:
				u.PassType = passes.MonthPass
			case 10:
				u.Fields = []passes.FieldValue{{Name: "Note", Value: "n"}, {Name: "Ref", Value: "R-10"}}
			}
			seq, err := tx.UsageInsert(ctx, u)
			if err != nil {
				return err
			}
			u.Seq = seq
			want = append(want, u)
			o := u
			o.Org = "other"
			if _, err := tx.UsageInsert(ctx, o); err != nil {
				return err
			}
		}
		return nil
	})
	filter := func(keep func(u passes.Usage) bool) []passes.Usage {
		var out []passes.Usage
		for _, u := range want {
			if keep(u) {
				out = append(out, u)
			}
		}
		return out
	}
	cases := []struct {
		name string
		p    passes.UsageListParams
		want []passes.Usage
	}{
		{"All", passes.UsageListParams{}, want},
		{"Session", passes.UsageListParams{Session: "s2"}, filter(func(u passes.Usage) bool { return u.Session == "s2" })},
		{"User", passes.UsageListParams{User: "c@x.example"}, filter(func(u passes.Usage) bool { return u.User == "c@x.example" })},
		{"From", passes.UsageListParams{From: start.Add(3 * time.Hour)}, want[3:]},
		{"To", passes.UsageListParams{To: start.Add(3 * time.Hour)}, want[:3]},
		{"AfterSeq", passes.UsageListParams{AfterSeq: want[7].Seq}, want[8:]},
		{"Limit", passes.UsageListParams{AfterSeq: want[1].Seq, Limit: 4}, want[2:6]},
		{"LimitFiltered", passes.UsageListParams{Session: "s1", Limit: 2}, []passes.Usage{want[0], want[2]}},
		{"Internal", passes.UsageListParams{Billing: passes.Internal}, filter(func(u passes.Usage) bool { return !u.External })},
		{"External", passes.UsageListParams{Billing: passes.External}, filter(func(u passes.Usage) bool { return u.External })},
		{"ExternalSessionLimit", passes.UsageListParams{Billing: passes.External, Session: "s1", AfterSeq: want[2].Seq, Limit: 2}, []passes.Usage{want[4], want[8]}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.p.Org = "acme"
			ptx(t, s, func(ctx context.Context, tx passes.Tx) error {
				got, err := tx.UsageList(ctx, tc.p)
				if err != nil {
					return err
				}
				if diff := cmp.Diff(tc.want, got); diff != "" {
					t.Errorf("UsageList(%+v) mismatch (-want +got):\n%s", tc.p, diff)
				}
				return nil
			})
		})
	}
	// Every row is found by its request, in its own workspace only.
	ptx(t, s, func(ctx context.Context, tx passes.Tx) error {
		for _, u := range want {
			got, err := tx.UsageGetByRequest(ctx, "acme", u.RequestID)
			if err != nil {
				return err
			}
			if diff := cmp.Diff(u, got); diff != "" {
				t.Errorf("UsageGetByRequest(%q) mismatch (-want +got):\n%s", u.RequestID, diff)
			}
			if other, err := tx.UsageGetByRequest(ctx, "other", u.RequestID); err != nil || other.Org != "other" {
				t.Errorf("UsageGetByRequest(other, %q) = %+v, %v; want the other workspace's row", u.RequestID, other, err)
			}
		}
		return nil
	})
	for i := 1; i < len(want); i++ {
		if want[i].Seq <= want[i-1].Seq {
			t.Errorf("Seq %d after %d: want increasing", want[i].Seq, want[i-1].Seq)
		}
	}
}

// The passes tests' actors: passesAdmin is a Workspace Administrator and
// passesVendor the vendor, in every workspace (passesRoles).
const (
	passesAdmin   = "admin@acme.example"
	passesVendor  = "billing"
	passesVendor2 = "billing-2"
)

type passesActors struct{}

func (passesActors) HasRole(_ context.Context, _, actor string, role allot.Role) (bool, error) {
	return (actor == passesAdmin && role == passes.WorkspaceAdmin) || ((actor == passesVendor || actor == passesVendor2) && role == allot.Vendor), nil
}

var passesRoles allot.Roles = passesActors{}

// passesFixture is a service over a fresh store with a fake clock.
func passesFixture(t *testing.T, newStore Factory) (*passes.Service, Store) {
	st := newStore(t)
	svc, err := passes.New(st.Passes(), &passes.Options{Clock: fixedClock(start), Roles: passesRoles})
	if err != nil {
		t.Fatal(err)
	}
	return svc, st
}

// passesFixtureFields is passesFixture with 5 passes bought by "acme" and
// its custom fields Note and Ref defined.
func passesFixtureFields(t *testing.T, newStore Factory) (*passes.Service, Store) {
	t.Helper()
	svc, st := passesFixture(t, newStore)
	ctx := context.Background()
	if _, err := svc.Purchase(ctx, passes.PurchaseParams{Org: "acme", Actor: passesVendor, Quantity: 5, RequestID: "o1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.DefineFields(ctx, passes.DefineFieldsParams{Org: "acme", Actor: passesAdmin, Fields: []passes.FieldDef{{Name: "Note"}, {Name: "Ref"}}}); err != nil {
		t.Fatal(err)
	}
	return svc, st
}

type fixedClock time.Time

func (c fixedClock) Now() time.Time { return time.Time(c) }

// testPassesOneGuestConcurrently: many logins of one guest to one session at
// once spend once; the rest are inside the window.
func testPassesOneGuestConcurrently(t *testing.T, newStore Factory) {
	const workers = 8
	svc, st, ds, errs := loginsAtOnce(t, newStore, workers, func(w int) string { return fmt.Sprint("r", w) })
	ctx := context.Background()
	var spent int64
	for w := range workers {
		if errs[w] != nil {
			t.Fatalf("login %d: %v", w, errs[w])
		}
		spent += ds[w].Passes
	}
	if bal, _ := svc.Balance(ctx, passes.BalanceParams{Org: "acme", Actor: passesAdmin}); spent != 2 || bal != 8 {
		t.Errorf("%d concurrent logins of one guest spent %d (balance %d), want 2 (8)", workers, spent, bal)
	}
	verifyLedger(t, st)
}

// testPassesNoOversell: many guests at once on a small balance; exactly as
// many are admitted as the balance pays for, and the rest are refused for
// lack of passes, never for anything else.
func testPassesNoOversell(t *testing.T, newStore Factory) {
	svc, st := passesFixture(t, newStore)
	ctx := context.Background()
	const funded, workers, each = 7, 4, 5
	if _, err := svc.Purchase(ctx, passes.PurchaseParams{Org: "acme", Actor: passesVendor, Quantity: funded, RequestID: "o1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.CreateSession(ctx, passes.CreateSessionParams{Actor: passesAdmin, ID: "s", Org: "acme", Name: "S", Owner: "o@acme.example"}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	admitted, refused := 0, 0
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				g := fmt.Sprintf("g%d-%d@x.example", w, i)
				_, err := svc.Login(ctx, passes.LoginParams{Org: "acme", Session: "s", Guest: g, RequestID: g})
				mu.Lock()
				switch {
				case err == nil:
					admitted++
				case errors.Is(err, passes.ErrInsufficientPasses):
					refused++
				default:
					t.Errorf("login %s: %v", g, err)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if admitted != funded || refused != workers*each-funded {
		t.Errorf("%d admitted and %d refused, want %d and %d", admitted, refused, funded, workers*each-funded)
	}
	if bal, _ := svc.Balance(ctx, passes.BalanceParams{Org: "acme", Actor: passesAdmin}); bal != 0 {
		t.Errorf("balance %d, want 0", bal)
	}
	n := 0
	for u, err := range svc.Log(ctx, passes.LogParams{Actor: passesAdmin, Org: "acme"}) {
		if err != nil {
			t.Fatal(err)
		}
		n++
		if u.BalanceAfter != int64(funded-n) {
			t.Errorf("row %d: balance after %d, want %d", n, u.BalanceAfter, funded-n)
		}
	}
	if n != funded {
		t.Errorf("%d log rows, want %d", n, funded)
	}
	verifyLedger(t, st)
}

func verifyLedger(t *testing.T, st Store) {
	t.Helper()
	l, err := ledger.New(st, nil)
	if err != nil {
		t.Fatal(err)
	}
	r, err := l.Verify(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range r.Discrepancies {
		t.Errorf("Verify: %s", d)
	}
}

// loginsAtOnce funds workspace acme with 10 passes and a month-pass session
// "s", then logs guest a@x.example in from workers goroutines at once, login
// w with request ID requestID(w), and returns each login's outcome.
func loginsAtOnce(t *testing.T, newStore Factory, workers int, requestID func(w int) string) (*passes.Service, Store, []passes.Decision, []error) {
	t.Helper()
	svc, st := passesFixture(t, newStore)
	ctx := context.Background()
	if _, err := svc.Purchase(ctx, passes.PurchaseParams{Org: "acme", Actor: passesVendor, Quantity: 10, RequestID: "o1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.CreateSession(ctx, passes.CreateSessionParams{Actor: passesAdmin, ID: "s", Org: "acme", Name: "S", Owner: "o@acme.example", PassType: passes.MonthPass}); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	ds := make([]passes.Decision, workers)
	errs := make([]error, workers)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ds[w], errs[w] = svc.Login(ctx, passes.LoginParams{Org: "acme", Session: "s", Guest: "a@x.example", RequestID: requestID(w)})
		}()
	}
	wg.Wait()
	return svc, st, ds, errs
}

// testPassesSameRequestConcurrently: one login request sent many times at
// once (a client retrying eagerly) spends once, writes one row, and every
// copy gets the same decision.
func testPassesSameRequestConcurrently(t *testing.T, newStore Factory) {
	const workers = 8
	svc, st, ds, errs := loginsAtOnce(t, newStore, workers, func(int) string { return "same" })
	ctx := context.Background()
	for w := range workers {
		if errs[w] != nil {
			t.Fatalf("copy %d: %v", w, errs[w])
		}
		if diff := cmp.Diff(ds[0], ds[w]); diff != "" {
			t.Errorf("copy %d decided otherwise (-copy 0 +copy %d):\n%s", w, w, diff)
		}
	}
	if bal, _ := svc.Balance(ctx, passes.BalanceParams{Org: "acme", Actor: passesAdmin}); bal != 8 {
		t.Errorf("balance %d, want 8: one spend of 2", bal)
	}
	page, err := svc.LogPage(ctx, passes.LogParams{Actor: passesAdmin, Org: "acme"})
	if err != nil || len(page.Items) != 1 {
		t.Errorf("log = %d rows, %v; want 1", len(page.Items), err)
	}
	verifyLedger(t, st)
}

// testPassesTenantKeys: every record a workspace owns is keyed by the
// workspace; two workspaces use one session ID, one guest and one request ID
// without seeing or blocking each other.
func testPassesTenantKeys(t *testing.T, newStore Factory) {
	s := newStore(t).Passes()
	theirs := sampleSession("s1")
	theirs.Org, theirs.Name = "other", "Theirs"
	window := func(ws string, h time.Duration) passes.Access {
		return passes.Access{Org: ws, Session: "s1", Guest: "a@x.example", Start: start, Until: start.Add(h * time.Hour)}
	}
	ptx(t, s, func(ctx context.Context, tx passes.Tx) error {
		for _, sess := range []passes.Session{sampleSession("s1"), theirs} {
			if err := tx.SessionInsert(ctx, sess); err != nil {
				return err
			}
		}
		if _, err := tx.AccessLock(ctx, "acme", "s1", "a@x.example"); !errors.Is(err, ledger.ErrNotFound) {
			t.Errorf("AccessLock(acme, new guest) = %v, want ErrNotFound", err)
		}
		if err := tx.AccessInsert(ctx, window("acme", 1)); err != nil {
			return err
		}
		if _, err := tx.AccessLock(ctx, "other", "s1", "a@x.example"); !errors.Is(err, ledger.ErrNotFound) {
			t.Errorf("AccessLock(other) found acme's window: %v", err)
		}
		return tx.AccessInsert(ctx, window("other", 2))
	})
	ptx(t, s, func(ctx context.Context, tx passes.Tx) error {
		changed := theirs
		changed.FirstLogin = start
		if err := tx.SessionUpdate(ctx, changed); err != nil {
			return err
		}
		return tx.AccessUpdate(ctx, window("other", 3))
	})
	ptx(t, s, func(ctx context.Context, tx passes.Tx) error {
		mine, err := tx.SessionGet(ctx, "acme", "s1")
		if err != nil {
			return err
		}
		got, err := tx.SessionGet(ctx, "other", "s1")
		if err != nil {
			return err
		}
		if mine.Org != "acme" || mine.Name != "Session s1" || !mine.FirstLogin.IsZero() {
			t.Errorf("acme's session = %+v, changed by the other workspace's", mine)
		}
		if got.Org != "other" || got.Name != "Theirs" || !got.FirstLogin.Equal(start) {
			t.Errorf("other's session = %+v", got)
		}
		if _, err := tx.SessionGet(ctx, "ghost", "s1"); !errors.Is(err, ledger.ErrNotFound) {
			t.Errorf("SessionGet(ghost workspace) = %v, want ErrNotFound", err)
		}
		for ws, h := range map[string]time.Duration{"acme": 1, "other": 3} {
			a, err := tx.AccessLock(ctx, ws, "s1", "a@x.example")
			if err != nil {
				return err
			}
			if diff := cmp.Diff(window(ws, h), a); diff != "" {
				t.Errorf("AccessLock(%s) mismatch (-want +got):\n%s", ws, diff)
			}
		}
		if err := tx.AccessUpdate(ctx, window("ghost", 1)); !errors.Is(err, ledger.ErrNotFound) {
			t.Errorf("AccessUpdate(ghost workspace) = %v, want ErrNotFound", err)
		}
		ghost := sampleSession("s1")
		ghost.Org = "ghost"
		if err := tx.SessionUpdate(ctx, ghost); !errors.Is(err, ledger.ErrNotFound) {
			t.Errorf("SessionUpdate(ghost workspace) = %v, want ErrNotFound", err)
		}
		return nil
	})
}

// testPassesAccessList: a workspace's windows in (session, guest) order, a
// page at a time; places AccessLock took for guests without a window are not
// windows.
func testPassesAccessList(t *testing.T, newStore Factory) {
	s := newStore(t).Passes()
	var want []passes.Access
	ptx(t, s, func(ctx context.Context, tx passes.Tx) error {
		for i, k := range [][2]string{{"s2", "b@x.example"}, {"s1", "b@x.example"}, {"s10", "a@x.example"}, {"s1", "a@x.example"}, {"s2", "a@x.example"}} {
			a := passes.Access{Org: "acme", Session: k[0], Guest: k[1], Start: start, Until: start.Add(time.Duration(i+1) * time.Hour)}
			if err := tx.AccessInsert(ctx, a); err != nil {
				return err
			}
			want = append(want, a)
			a.Org = "other"
			if err := tx.AccessInsert(ctx, a); err != nil {
				return err
			}
		}
		_, err := tx.AccessLock(ctx, "acme", "s1", "c@x.example") // a place, not a window
		if !errors.Is(err, ledger.ErrNotFound) {
			return fmt.Errorf("AccessLock(new guest) = %v, want ErrNotFound", err)
		}
		return nil
	})
	order := []int{3, 1, 2, 4, 0} // (s1, a), (s1, b), (s10, a), (s2, a), (s2, b)
	var sorted []passes.Access
	for _, i := range order {
		sorted = append(sorted, want[i])
	}
	ptx(t, s, func(ctx context.Context, tx passes.Tx) error {
		all, err := tx.AccessList(ctx, passes.AccessListParams{Org: "acme"})
		if err != nil {
			return err
		}
		if diff := cmp.Diff(sorted, all); diff != "" {
			t.Errorf("AccessList mismatch (-want +got):\n%s", diff)
		}
		var paged []passes.Access
		p := passes.AccessListParams{Org: "acme", Limit: 2}
		for {
			page, err := tx.AccessList(ctx, p)
			if err != nil {
				return err
			}
			paged = append(paged, page...)
			if len(page) < p.Limit {
				break
			}
			p.AfterSession, p.AfterGuest = page[len(page)-1].Session, page[len(page)-1].Guest
		}
		if diff := cmp.Diff(sorted, paged); diff != "" {
			t.Errorf("AccessList in pages of 2 mismatch (-want +got):\n%s", diff)
		}
		if none, err := tx.AccessList(ctx, passes.AccessListParams{Org: "ghost"}); err != nil || len(none) != 0 {
			t.Errorf("AccessList(ghost) = %v, %v; want nothing", none, err)
		}
		return nil
	})
}

// testPassesDefineFieldsConcurrently: many definitions of overlapping fields
// of one workspace at once all succeed (a transient conflict is never a
// business error), and the workspace ends with one consistent order: each
// name once, positions 0..n-1, and every call's answer a prefix of it.
func testPassesDefineFieldsConcurrently(t *testing.T, newStore Factory) {
	svc, _ := passesFixture(t, newStore)
	ctx := context.Background()
	const workers = 60
	names := []string{"Note", "Ref", "Cost", "Team", "Room", "Topic"}
	got := make([][]passes.FieldDef, workers)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// Each worker defines two shared names, from its own starting
			// point, and one of its own: the sets overlap, and every worker
			// has a position to take.
			fs := []passes.FieldDef{{Name: names[w%len(names)]}, {Name: fmt.Sprint("W", w)}, {Name: names[(w+1)%len(names)]}}
			got[w], errs[w] = svc.DefineFields(ctx, passes.DefineFieldsParams{Org: "acme", Actor: passesAdmin, Fields: fs})
		}()
	}
	wg.Wait()
	final, err := svc.Fields(ctx, passes.FieldsParams{Org: "acme", Actor: passesAdmin})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for i, f := range final {
		if f.Position != i || f.Org != "acme" || seen[f.Name] {
			t.Errorf("field %d = %+v in %v: want position %d, each name once", i, f, final, i)
		}
		seen[f.Name] = true
	}
	if len(final) != len(names)+workers {
		t.Errorf("%d fields %v, want %d", len(final), final, len(names)+workers)
	}
	for w := range workers {
		if errs[w] != nil {
			t.Errorf("DefineFields %d: %v", w, errs[w])
			continue
		}
		if len(got[w]) > len(final) || !cmp.Equal(got[w], final[:len(got[w])]) {
			t.Errorf("DefineFields %d returned %v, not a prefix of the final %v", w, got[w], final)
		}
	}
}

// testPassesDefineFieldsRetriedConcurrently: one definition sent many times
// at once (a client retrying before the first answer came) succeeds every
// time with the same fields, each defined once.
func testPassesDefineFieldsRetriedConcurrently(t *testing.T, newStore Factory) {
	svc, _ := passesFixture(t, newStore)
	ctx := context.Background()
	const workers = 16
	defs := []passes.FieldDef{{Name: "Note"}, {Name: "Ref", Required: true}}
	got := make([][]passes.FieldDef, workers)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got[w], errs[w] = svc.DefineFields(ctx, passes.DefineFieldsParams{Org: "acme", Actor: passesAdmin, Fields: defs})
		}()
	}
	wg.Wait()
	want := []passes.FieldDef{{Org: "acme", Name: "Note"}, {Org: "acme", Name: "Ref", Required: true, Position: 1}}
	for w := range workers {
		if errs[w] != nil {
			t.Errorf("DefineFields %d: %v", w, errs[w])
			continue
		}
		if diff := cmp.Diff(want, got[w]); diff != "" {
			t.Errorf("DefineFields %d (-want +got):\n%s", w, diff)
		}
	}
	if fs, err := svc.Fields(ctx, passes.FieldsParams{Org: "acme", Actor: passesAdmin}); err != nil || !cmp.Equal(fs, want) {
		t.Errorf("Fields = %v, %v; want %v", fs, err, want)
	}
}

// testPassesUpdateSession: a change to a session is stored whole (every
// column the store keeps), applying it again writes nothing, and a demo made
// a paid session charges the next login under its new type.
func testPassesUpdateSession(t *testing.T, newStore Factory) {
	svc, st := passesFixtureFields(t, newStore)
	ctx := context.Background()
	if _, err := svc.CreateSession(ctx, passes.CreateSessionParams{Actor: passesAdmin, ID: "s1", Org: "acme", Name: "Demo", Owner: "o@acme.example", PassType: passes.DemoPass}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Login(ctx, passes.LoginParams{Org: "acme", Session: "s1", Guest: "a@x.example", RequestID: "r1"}); err != nil {
		t.Fatal(err)
	}
	name, owner, external, pt := "Paid", "Olga@Acme.example", true, passes.MonthPass
	fields := []passes.FieldValue{{Name: "Ref", Value: "r"}, {Name: "Note", Value: "n"}}
	change := passes.UpdateSessionParams{Actor: passesAdmin, Org: "acme", ID: "s1", Name: &name, Owner: &owner, External: &external, PassType: &pt, Fields: &fields}
	got, err := svc.UpdateSession(ctx, change)
	if err != nil {
		t.Fatal(err)
	}
	want := passes.Session{ID: "s1", Org: "acme", Name: "Paid", Owner: "olga@acme.example", External: true, PassType: passes.MonthPass,
		Fields: []passes.FieldValue{{Name: "Note", Value: "n"}, {Name: "Ref", Value: "r"}}, CreatedAt: start, FirstLogin: start}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("UpdateSession (-want +got):\n%s", diff)
	}
	stored, err := svc.Session(ctx, passes.SessionParams{Org: "acme", Actor: passesAdmin, ID: "s1"})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, stored); diff != "" {
		t.Errorf("stored session (-want +got):\n%s", diff)
	}
	before, err := Snapshot(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	again, err := svc.UpdateSession(ctx, change)
	if err != nil || !cmp.Equal(again, got) {
		t.Errorf("UpdateSession again = %+v, %v; want %+v", again, err, got)
	}
	after, err := Snapshot(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(before, after, cmpOpts); diff != "" {
		t.Errorf("the change applied again changed the ledger (-before +after):\n%s", diff)
	}
	d, err := svc.Login(ctx, passes.LoginParams{Org: "acme", Session: "s1", Guest: "b@x.example", RequestID: "r2"})
	if err != nil || d.Passes != 2 || d.PassType != passes.MonthPass || d.Balance != 3 {
		t.Errorf("login after the change = %v, %v; want 2 passes spent under %q, balance 3", d, err, passes.MonthPass)
	}
	ptx(t, st.Passes(), func(ctx context.Context, tx passes.Tx) error {
		u, err := tx.UsageGetByRequest(ctx, "acme", "r1")
		if err != nil {
			return err
		}
		if u.PassType != passes.DemoPass || u.SessionName != "Demo" || u.Owner != "o@acme.example" || u.External {
			t.Errorf("the demo's row became %+v; the log keeps rows as logged", u)
		}
		return nil
	})
	if fs, err := svc.Audit(ctx, "acme"); err != nil || len(fs) != 0 {
		t.Errorf("Audit = %v, %v; want no findings", fs, err)
	}
	if _, err := svc.UpdateSession(ctx, passes.UpdateSessionParams{Actor: passesAdmin, Org: "globex", ID: "s1", Name: &name}); !errors.Is(err, passes.ErrUnknownSession) {
		t.Errorf("UpdateSession of another workspace's session = %v, want ErrUnknownSession", err)
	}
}

// testPassesSessionList: SessionList returns a workspace's sessions only,
// ordered by ID bytewise, after AfterID, at most Limit, as copies.
func testPassesSessionList(t *testing.T, newStore Factory) {
	st := newStore(t)
	ctx := context.Background()
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	ids := []string{"b", "a/b", "Z", "a", "é", "a%"}
	err := st.Passes().InTx(ctx, func(tx passes.Tx) error {
		for _, id := range ids {
			if err := tx.SessionInsert(ctx, passes.Session{ID: id, Org: "acme", Name: id, Owner: "o@acme.example", PassType: passes.DayPass, CreatedAt: at,
				Fields: []passes.FieldValue{{Name: "Note", Value: id}}}); err != nil {
				return err
			}
		}
		return tx.SessionInsert(ctx, passes.Session{ID: "c", Org: "globex", Name: "c", Owner: "o@globex.example", PassType: passes.DayPass, CreatedAt: at,
			Fields: []passes.FieldValue{{Name: "Note", Value: "c"}}})
	})
	if err != nil {
		t.Fatal(err)
	}
	list := func(p passes.SessionListParams) []string {
		t.Helper()
		var out []string
		err := st.Passes().InTx(ctx, func(tx passes.Tx) error {
			got, err := tx.SessionList(ctx, p)
			if err != nil {
				return err
			}
			for _, s := range got {
				if s.Org != p.Org || s.Name != s.ID || !s.CreatedAt.Equal(at) || len(s.Fields) != 1 || s.Fields[0].Value != s.ID {
					t.Errorf("SessionList returned %+v", s)
				}
				out = append(out, s.ID)
			}
			if len(got) > 0 {
				got[0].Fields[0].Value = "changed" // a copy: the store keeps its own
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return out
	}
	for _, tc := range []struct {
		p    passes.SessionListParams
		want []string
	}{
		{passes.SessionListParams{Org: "acme"}, []string{"Z", "a", "a%", "a/b", "b", "é"}},
		{passes.SessionListParams{Org: "acme", AfterID: "a", Limit: 2}, []string{"a%", "a/b"}},
		{passes.SessionListParams{Org: "acme", AfterID: "b"}, []string{"é"}},
		{passes.SessionListParams{Org: "acme", AfterID: "é"}, nil},
		{passes.SessionListParams{Org: "globex"}, []string{"c"}},
		{passes.SessionListParams{Org: "nobody"}, nil},
		{passes.SessionListParams{Org: "acme", Limit: 1}, []string{"Z"}}, // unchanged by the change to the first list's copy
	} {
		if diff := cmp.Diff(tc.want, list(tc.p)); diff != "" {
			t.Errorf("SessionList(%+v) (-want +got):\n%s", tc.p, diff)
		}
	}
}

// testPassesPurchaseRetry: a purchase's retry returns the very record the
// first call returned (read back from its ledger transfer), after logins,
// other purchases and time; another subscription or actor with its request
// ID is request_reused and changes nothing.
func testPassesPurchaseRetry(t *testing.T, newStore Factory) {
	svc, st := passesFixture(t, newStore)
	ctx := context.Background()
	p := passes.PurchaseParams{Org: "acme", Actor: passesVendor, Quantity: 4, Subscription: "sub-1", RequestID: "o/1"}
	first, err := svc.Purchase(ctx, p)
	if err != nil {
		t.Fatal(err)
	}
	if first.Purchased != 4 || first.Available != 4 || first.Product != "pass" || first.Subscription != "sub-1" || first.Actor != passesVendor || !first.At.Equal(start) {
		t.Fatalf("Purchase = %+v", first)
	}
	if _, err := svc.CreateSession(ctx, passes.CreateSessionParams{Org: "acme", Actor: passesAdmin, ID: "s", Name: "S"}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Login(ctx, passes.LoginParams{Org: "acme", Session: "s", Guest: "ann@x.example", RequestID: "r1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Purchase(ctx, passes.PurchaseParams{Org: "acme", Actor: passesVendor, Quantity: 2, RequestID: "o/2"}); err != nil {
		t.Fatal(err)
	}
	before, err := Snapshot(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	again, err := svc.Purchase(ctx, p)
	if err != nil || !cmp.Equal(first, again) {
		t.Errorf("retried Purchase = %+v, %v; want %+v", again, err, first)
	}
	for _, q := range []passes.PurchaseParams{
		{Org: "acme", Actor: passesVendor, Quantity: 4, Subscription: "sub-2", RequestID: "o/1"},
		{Org: "acme", Actor: passesVendor2, Quantity: 4, Subscription: "sub-1", RequestID: "o/1"},
	} {
		if _, err := svc.Purchase(ctx, q); !errors.Is(err, passes.ErrRequestConflict) {
			t.Errorf("Purchase(%+v) = %v; want request_reused", q, err)
		}
	}
	after, err := Snapshot(ctx, st)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(before, after, cmpOpts); diff != "" {
		t.Errorf("retries changed the store (-before +after):\n%s", diff)
	}
}
