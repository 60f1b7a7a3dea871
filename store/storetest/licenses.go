package storetest

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/clock"
	"github.com/allot-dev/allot/ledger"
	"github.com/allot-dev/allot/licenses"
	"github.com/google/go-cmp/cmp"
)

func runLicenses(t *testing.T, newStore Factory) {
	t.Run("TxSentinels", func(t *testing.T) { testLicensesSentinels(t, newStore) })
	t.Run("Rollback", func(t *testing.T) { testLicensesRollback(t, newStore) })
	t.Run("CopySafety", func(t *testing.T) { testLicensesCopySafety(t, newStore) })
	t.Run("RoundTrip", func(t *testing.T) { testLicensesRoundTrip(t, newStore) })
	t.Run("ListOrdering", func(t *testing.T) { testLicensesListOrdering(t, newStore) })
	t.Run("ExpiredCount", func(t *testing.T) { testLicensesExpiredCount(t, newStore) })
	t.Run("Load", func(t *testing.T) { testLicensesLoad(t, newStore) })
	t.Run("ConcurrentInvites", func(t *testing.T) { testLicensesConcurrentInvites(t, newStore) })
	t.Run("ConcurrentAcceptDelete", func(t *testing.T) { testLicensesConcurrentAcceptDelete(t, newStore) })
	t.Run("EdgeInputs", func(t *testing.T) { testLicensesEdgeInputs(t, newStore) })
	t.Run("MemberFilter", func(t *testing.T) { testLicensesMemberFilter(t, newStore) })
	t.Run("TeamPages", func(t *testing.T) { testLicensesTeamPages(t, newStore) })
	t.Run("Retries", func(t *testing.T) { testLicensesRetries(t, newStore) })
	t.Run("MembersPage", func(t *testing.T) { testLicensesMembersPage(t, newStore) })
	t.Run("EventReplay", func(t *testing.T) { testLicensesEventReplay(t, newStore) })
	t.Run("ExpiryThresholds", func(t *testing.T) { testLicensesExpiryThresholds(t, newStore) })
}

// testLicensesMemberFilter checks that LicenseMemberList filters by state
// at an instant and by team in the store (MemberListParams.Match), and
// that Limit counts matching members only: a page is never short while a
// later member matches.
func testLicensesMemberFilter(t *testing.T, newStore Factory) {
	s := newStore(t)
	licSeed(t, s) // bo: active in design
	at := licT0.Add(time.Hour)
	members := []licenses.Member{
		{Org: "acme", Email: "a1@acme.test", State: licenses.StatePending, Teams: []string{"sales"}, ExpiresAt: at},                                 // expired at at
		{Org: "acme", Email: "a2@acme.test", State: licenses.StatePending, Teams: []string{"design", "sales"}, ExpiresAt: at.Add(time.Microsecond)}, // pending at at
		{Org: "acme", Email: "a3@acme.test", State: licenses.StatePending, Teams: []string{"ops"}},                                                  // never expires
		{Org: "acme", Email: "a4@acme.test", State: licenses.StateExpired, Teams: []string{"sales"}},
		{Org: "acme", Email: "a5@acme.test", State: licenses.StateUnassigned},
		{Org: "acme", Email: "a6@acme.test", State: licenses.StateActive, Teams: []string{"ops", "sales"}},
		{Org: "acme", Email: "a7@acme.test", State: licenses.StatePending, Teams: []string{"sales"}, ExpiresAt: at.Add(-time.Minute)},
	}
	licTx(t, s, func(ctx context.Context, tx licenses.Tx) error {
		for _, m := range members {
			if err := tx.LicenseMemberInsert(ctx, m); err != nil {
				return err
			}
		}
		return tx.LicenseMemberInsert(ctx, licenses.Member{Org: "other", Email: "a0@acme.test", State: licenses.StateActive, Teams: []string{"sales"}})
	})
	for _, c := range []struct {
		state licenses.State
		team  string
		want  []string
	}{
		{"", "", []string{"a1", "a2", "a3", "a4", "a5", "a6", "a7", "bo"}},
		{licenses.StatePending, "", []string{"a2", "a3"}},
		{licenses.StateExpired, "", []string{"a1", "a4", "a7"}},
		{licenses.StateActive, "", []string{"a6", "bo"}},
		{licenses.StateUnassigned, "", []string{"a5"}},
		{"", "sales", []string{"a1", "a2", "a4", "a6", "a7"}},
		{licenses.StateExpired, "sales", []string{"a1", "a4", "a7"}},
		{licenses.StatePending, "design", []string{"a2"}},
		{licenses.StateActive, "design", []string{"bo"}},
		{licenses.StateUnassigned, "sales", nil},
	} {
		for _, limit := range []int{0, 1, 2} {
			var got []string
			after := ""
			licTx(t, s, func(ctx context.Context, tx licenses.Tx) error {
				for {
					p := licenses.MemberListParams{Org: "acme", After: after, Limit: limit, State: c.state, Team: c.team, At: at}
					page, err := tx.LicenseMemberList(ctx, p)
					if err != nil {
						return err
					}
					for _, m := range page {
						if !p.Match(m) {
							t.Errorf("state %q team %q: %s (%s) does not match", c.state, c.team, m.Email, m.State)
						}
						got = append(got, strings.TrimSuffix(m.Email, "@acme.test"))
					}
					if limit == 0 || len(page) < limit {
						return nil
					}
					after = page[len(page)-1].Email
				}
			})
			if diff := cmp.Diff(c.want, got); diff != "" {
				t.Errorf("LicenseMemberList state %q team %q limit %d (-want +got):\n%s", c.state, c.team, limit, diff)
			}
		}
	}
}

// testLicensesTeamPages checks LicenseTeamList's After and Limit.
func testLicensesTeamPages(t *testing.T, newStore Factory) {
	s := newStore(t)
	licSeed(t, s) // design, ops, sales
	for _, c := range []struct {
		after string
		limit int
		want  []string
	}{
		{"", 0, []string{"design", "ops", "sales"}},
		{"", 2, []string{"design", "ops"}},
		{"design", 1, []string{"ops"}},
		{"dz", 0, []string{"ops", "sales"}},
		{"sales", 5, nil},
	} {
		licTx(t, s, func(ctx context.Context, tx licenses.Tx) error {
			ts, err := tx.LicenseTeamList(ctx, licenses.TeamListParams{Org: "acme", After: c.after, Limit: c.limit, PendingAt: licT0})
			if err != nil {
				return err
			}
			var got []string
			for _, tm := range ts {
				got = append(got, tm.ID)
			}
			if diff := cmp.Diff(c.want, got); diff != "" {
				t.Errorf("LicenseTeamList after %q limit %d (-want +got):\n%s", c.after, c.limit, diff)
			}
			return nil
		})
	}
}

// testLicensesRetries runs every write of the service twice on the store:
// the retry returns the first result and changes no balance, hold or
// record, even after later acts; the same request ID for another act is
// request_reused.
func testLicensesRetries(t *testing.T, newStore Factory) {
	s := newStore(t)
	ctx := context.Background()
	clk := clock.NewFake(start)
	roles := &allot.StaticRoles{}
	roles.Grant("acme", "ada@acme.test", licenses.OrgAdmin)
	roles.Grant("acme", "billing", allot.Vendor)
	svc, err := licenses.New(s.Licenses(), &licenses.Options{Clock: clk, Roles: roles})
	if err != nil {
		t.Fatal(err)
	}
	const admin = "ada@acme.test"
	l := mustLedger(t, s)
	state := func() string {
		sum, err := svc.Summary(ctx, licenses.SummaryParams{Org: "acme", Actor: admin})
		if err != nil {
			t.Fatal(err)
		}
		var ms []licenses.Member
		for m, err := range svc.Members(ctx, licenses.MembersParams{Org: "acme", Actor: admin}) {
			if err != nil {
				t.Fatal(err)
			}
			ms = append(ms, m)
		}
		pool, err := l.Balance(ctx, licenses.PoolAccount("acme"))
		if err != nil {
			t.Fatal(err)
		}
		return fmt.Sprintf("%+v %+v %s/%s", sum, ms, pool.Posted, pool.Available)
	}
	// twice calls a write, advances the clock, calls it again, and wants
	// the same result and no change.
	twice := func(name string, call func() (any, error)) any {
		t.Helper()
		first, err := call()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		before := state()
		clk.Advance(time.Minute)
		again, err := call()
		if err != nil {
			t.Fatalf("%s retried: %v", name, err)
		}
		if diff := cmp.Diff(first, again); diff != "" {
			t.Errorf("%s retried returned another result (-first +retry):\n%s", name, diff)
		}
		if after := state(); after != before {
			t.Errorf("%s retried changed the books:\n%s\n%s", name, before, after)
		}
		return first
	}
	buy := licenses.PurchaseParams{Org: "acme", Actor: "billing", Quantity: 4, Subscription: "sub-1", RequestID: "buy"}
	pu := twice("Purchase", func() (any, error) { return svc.Purchase(ctx, buy) }).(allot.Purchase)
	if pu.Purchased != 4 || pu.Available != 4 || pu.Quantity != 4 || pu.Subscription != "sub-1" || pu.Product != "license" {
		t.Errorf("Purchase = %+v", pu)
	}
	twice("CreateTeam", func() (any, error) {
		return svc.CreateTeam(ctx, licenses.CreateTeamParams{Org: "acme", Actor: admin, Team: "design"})
	})
	for i, e := range []string{"bo@acme.test", "cy@acme.test", "di@acme.test"} {
		twice("Invite "+e, func() (any, error) {
			return svc.Invite(ctx, licenses.InviteParams{Org: "acme", Actor: admin, Team: "design", Email: e, RequestID: fmt.Sprint("inv-", i)})
		})
	}
	twice("Accept", func() (any, error) {
		return svc.Accept(ctx, licenses.AcceptParams{Org: "acme", Actor: "bo@acme.test", Email: "bo@acme.test"})
	})
	red := licenses.ReduceParams{Org: "acme", Actor: "billing", Quantity: 1, RequestID: "red"}
	if r := twice("Reduce", func() (any, error) { return svc.Reduce(ctx, red) }).(allot.Purchase); r.Quantity != -1 || r.Purchased != 3 || r.Available != 0 {
		t.Errorf("Reduce = %+v", r)
	}
	twice("Remove", func() (any, error) {
		return svc.Remove(ctx, licenses.RemoveParams{Org: "acme", Actor: admin, Team: "design", Email: "bo@acme.test", RequestID: "rm"})
	})
	del := licenses.DeleteParams{Org: "acme", Actor: admin, Email: "cy@acme.test", RequestID: "del-pending"}
	m := twice("Delete pending", func() (any, error) { return svc.Delete(ctx, del) }).(licenses.Member)
	if m.State != licenses.StateDeleted {
		t.Errorf("Delete = %+v, want state deleted", m)
	}
	twice("Delete unassigned", func() (any, error) {
		return svc.Delete(ctx, licenses.DeleteParams{Org: "acme", Actor: admin, Email: "bo@acme.test", RequestID: "del-bo"})
	})
	twice("Reassign", func() (any, error) {
		return svc.Reassign(ctx, licenses.ReassignParams{Org: "acme", Actor: admin, From: "di@acme.test", To: "ed@acme.test", RequestID: "mv"})
	})
	// Later acts do not change what a retry returns.
	if _, err := svc.Purchase(ctx, licenses.PurchaseParams{Org: "acme", Actor: "billing", Quantity: 2, RequestID: "buy-2"}); err != nil {
		t.Fatal(err)
	}
	if got, err := svc.Purchase(ctx, buy); err != nil || !cmp.Equal(got, pu) {
		t.Errorf("Purchase retried after another = %+v, %v; want %+v", got, err, pu)
	}
	if got, err := svc.Delete(ctx, del); err != nil || !cmp.Equal(got, m) {
		t.Errorf("Delete retried later = %+v, %v; want %+v", got, err, m)
	}
	// A request ID of one act sent for another is refused, changing nothing.
	before := state()
	for name, call := range map[string]func() error{
		"Purchase under a removal's ID": func() error {
			_, err := svc.Purchase(ctx, licenses.PurchaseParams{Org: "acme", Actor: "billing", Quantity: 1, RequestID: "rm"})
			return err
		},
		"Remove under a purchase's ID": func() error {
			_, err := svc.Remove(ctx, licenses.RemoveParams{Org: "acme", Actor: admin, Team: "design", Email: "ed@acme.test", RequestID: "buy"})
			return err
		},
		"Delete under a withdrawal's ID for another member": func() error {
			_, err := svc.Delete(ctx, licenses.DeleteParams{Org: "acme", Actor: admin, Email: "ed@acme.test", RequestID: "del-pending"})
			return err
		},
		"Purchase of another quantity": func() error {
			_, err := svc.Purchase(ctx, licenses.PurchaseParams{Org: "acme", Actor: "billing", Quantity: 5, Subscription: "sub-1", RequestID: "buy"})
			return err
		},
	} {
		if err := call(); allot.ErrorCode(err) != allot.CodeRequestReused {
			t.Errorf("%s: %v (code %q), want request_reused", name, err, allot.ErrorCode(err))
		}
	}
	if after := state(); after != before {
		t.Errorf("refused requests changed the books:\n%s\n%s", before, after)
	}
	if fs, err := svc.Audit(ctx, "acme"); err != nil || len(fs) > 0 {
		t.Errorf("Audit = %v, %v", fs, err)
	}
}

// testLicensesMembersPage reads the service's members pages with a state
// filter on the store: every page but the last is full, the pages in a row
// equal the iterator, and a cursor of another filter is refused.
func testLicensesMembersPage(t *testing.T, newStore Factory) {
	s := newStore(t)
	ctx := context.Background()
	clk := clock.NewFake(start)
	roles := &allot.StaticRoles{}
	roles.Grant("acme", "ada@acme.test", licenses.OrgAdmin)
	roles.Grant("acme", "billing", allot.Vendor)
	svc, err := licenses.New(s.Licenses(), &licenses.Options{Clock: clk, Roles: roles})
	if err != nil {
		t.Fatal(err)
	}
	const admin = "ada@acme.test"
	if _, err := svc.Purchase(ctx, licenses.PurchaseParams{Org: "acme", Actor: "billing", Quantity: 20, RequestID: "buy"}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.CreateTeam(ctx, licenses.CreateTeamParams{Org: "acme", Actor: admin, Team: "design"}); err != nil {
		t.Fatal(err)
	}
	var wantPending []string
	for i := range 12 {
		e := fmt.Sprintf("m%02d@acme.test", i)
		var exp time.Time
		if i%3 == 0 { // expires in an hour
			exp = clk.Now().Add(time.Hour)
		} else {
			wantPending = append(wantPending, e)
		}
		if _, err := svc.Invite(ctx, licenses.InviteParams{Org: "acme", Actor: admin, Team: "design", Email: e, RequestID: e, ExpiresAt: exp}); err != nil {
			t.Fatal(err)
		}
	}
	clk.Advance(time.Hour)
	p := licenses.MembersParams{Org: "acme", Actor: admin, State: licenses.StatePending, Team: "design", Limit: 3}
	var paged []string
	for {
		page, err := svc.MembersPage(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		if page.Next != "" && len(page.Items) != p.Limit {
			t.Errorf("a page with a next one holds %d members, want %d", len(page.Items), p.Limit)
		}
		for _, m := range page.Items {
			paged = append(paged, m.Email)
		}
		if page.Next == "" {
			break
		}
		p.Cursor = page.Next
		other := p
		other.State = licenses.StateExpired
		if _, err := svc.MembersPage(ctx, other); allot.ErrorCode(err) != allot.CodeInvalid {
			t.Errorf("a pending page's cursor for the expired filter: %v, want invalid", err)
		}
	}
	if diff := cmp.Diff(wantPending, paged); diff != "" {
		t.Errorf("pending pages (-want +got):\n%s", diff)
	}
	var iterated []string
	for m, err := range svc.Members(ctx, licenses.MembersParams{Org: "acme", Actor: admin, State: licenses.StatePending, Limit: 2}) {
		if err != nil {
			t.Fatal(err)
		}
		iterated = append(iterated, m.Email)
	}
	if diff := cmp.Diff(paged, iterated); diff != "" {
		t.Errorf("iterator against pages (-pages +iterator):\n%s", diff)
	}
	page, err := svc.MembersPage(ctx, licenses.MembersParams{Org: "acme", Actor: admin, State: licenses.StateExpired})
	if err != nil || len(page.Items) != 4 || page.Next != "" {
		t.Errorf("expired page = %+v, %v; want 4 members and no next", page, err)
	}
	for _, m := range page.Items {
		if m.State != licenses.StateExpired {
			t.Errorf("expired page holds %s in state %s", m.Email, m.State)
		}
	}
}

// testLicensesEdgeInputs runs the service with the edges of what it
// accepts (IDs of 200 bytes holding '/', '%' and non-ASCII letters,
// case-folded e-mail addresses, an expiry in the year 9999): the store keeps
// each as given, organizations whose IDs would meet if joined plainly stay
// apart, and Audit finds the books in agreement.
func testLicensesEdgeInputs(t *testing.T, newStore Factory) {
	s := newStore(t)
	ctx := context.Background()
	long := strings.Repeat("é", 99) + "/%"
	long2 := strings.Repeat("é", 99) + "%/" // another request ID of 200 bytes
	orgs := []string{"a/b", "a%2Fb", long}
	roles := &allot.StaticRoles{}
	for _, o := range orgs {
		roles.Grant(o, "Ädmin@x.test", licenses.OrgAdmin, allot.Vendor)
	}
	svc, err := licenses.New(s.Licenses(), &licenses.Options{Clock: clock.NewFake(start), Roles: roles})
	if err != nil {
		t.Fatal(err)
	}
	far := time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)
	for i, o := range orgs {
		if _, err := svc.Purchase(ctx, licenses.PurchaseParams{Org: o, Actor: "äDMIN@X.test", RequestID: long, Quantity: int64(i + 1)}); err != nil {
			t.Fatalf("Purchase(%q): %v", o, err)
		}
		if _, err := svc.CreateTeam(ctx, licenses.CreateTeamParams{Org: o, Team: long, Actor: "ädmin@x.test"}); err != nil {
			t.Fatal(err)
		}
		m, err := svc.Invite(ctx, licenses.InviteParams{Org: o, Team: long, Email: "ÄNN/50%@X.test", Actor: "ädmin@x.test", RequestID: long2, ExpiresAt: far})
		if err != nil {
			t.Fatalf("Invite in %q: %v", o, err)
		}
		got, err := svc.Member(ctx, licenses.MemberParams{Org: o, Actor: "ädmin@x.test", Email: "änn/50%@x.test"})
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(m, got); diff != "" {
			t.Errorf("Member in %q mismatch (-invited +stored):\n%s", o, diff)
		}
	}
	for i, o := range orgs {
		sum, err := svc.Summary(ctx, licenses.SummaryParams{Org: o, Actor: "ädmin@x.test"})
		if err != nil {
			t.Fatal(err)
		}
		if sum.Purchased != int64(i+1) || sum.Pending != 1 || len(sum.Teams) != 1 || sum.Teams[0].ID != long {
			t.Errorf("Summary(%q) = %+v", o, sum)
		}
		if fs, err := svc.Audit(ctx, o); err != nil || len(fs) > 0 {
			t.Errorf("Audit(%q) = %v, %v", o, fs, err)
		}
	}
}

// licTx runs fn in a licenses transaction and fails the test on error.
func licTx(t *testing.T, s Store, fn func(ctx context.Context, tx licenses.Tx) error) {
	t.Helper()
	ctx := context.Background()
	if err := s.Licenses().InTx(ctx, func(tx licenses.Tx) error { return fn(ctx, tx) }); err != nil {
		t.Fatalf("InTx: %v", err)
	}
}

// licErr runs fn in a transaction of its own and returns its error.
func licErr(s Store, fn func(ctx context.Context, tx licenses.Tx) error) error {
	ctx := context.Background()
	return s.Licenses().InTx(ctx, func(tx licenses.Tx) error { return fn(ctx, tx) })
}

var licT0 = start

func licSeed(t *testing.T, s Store) {
	t.Helper()
	licTx(t, s, func(ctx context.Context, tx licenses.Tx) error {
		if err := tx.LicenseOrgInsert(ctx, licenses.Org{ID: "acme", Purchased: 5, CreatedAt: licT0, UpdatedAt: licT0}); err != nil {
			return err
		}
		for _, id := range []string{"sales", "design", "ops"} {
			if err := tx.LicenseTeamInsert(ctx, "acme", licenses.Team{ID: id}); err != nil {
				return err
			}
		}
		return tx.LicenseMemberInsert(ctx, licenses.Member{Org: "acme", Email: "bo@acme.test", State: licenses.StateActive, Teams: []string{"design"}, UpdatedAt: licT0})
	})
}

func testLicensesSentinels(t *testing.T, newStore Factory) {
	s := newStore(t)
	licSeed(t, s)
	checks := []struct {
		name string
		fn   func(ctx context.Context, tx licenses.Tx) error
		want error
	}{
		{"OrgGetMissing", func(ctx context.Context, tx licenses.Tx) error {
			_, err := tx.LicenseOrgGet(ctx, "nope")
			return err
		}, ledger.ErrNotFound},
		{"OrgInsertTaken", func(ctx context.Context, tx licenses.Tx) error {
			return tx.LicenseOrgInsert(ctx, licenses.Org{ID: "acme"})
		}, ledger.ErrAlreadyExists},
		{"OrgLockMissing", func(ctx context.Context, tx licenses.Tx) error {
			_, err := tx.LicenseOrgLock(ctx, "nope")
			return err
		}, ledger.ErrNotFound},
		{"OrgUpdateMissing", func(ctx context.Context, tx licenses.Tx) error {
			return tx.LicenseOrgUpdate(ctx, licenses.Org{ID: "nope"})
		}, ledger.ErrNotFound},
		{"TeamGetMissing", func(ctx context.Context, tx licenses.Tx) error {
			_, err := tx.LicenseTeamGet(ctx, "acme", "nope")
			return err
		}, ledger.ErrNotFound},
		{"TeamGetOtherOrg", func(ctx context.Context, tx licenses.Tx) error {
			_, err := tx.LicenseTeamGet(ctx, "other", "design")
			return err
		}, ledger.ErrNotFound},
		{"TeamInsertTaken", func(ctx context.Context, tx licenses.Tx) error {
			return tx.LicenseTeamInsert(ctx, "acme", licenses.Team{ID: "design"})
		}, ledger.ErrAlreadyExists},
		{"TeamUpdateMissing", func(ctx context.Context, tx licenses.Tx) error {
			return tx.LicenseTeamUpdate(ctx, "acme", licenses.Team{ID: "nope"})
		}, ledger.ErrNotFound},
		{"MemberGetMissing", func(ctx context.Context, tx licenses.Tx) error {
			_, err := tx.LicenseMemberGet(ctx, "acme", "nope@acme.test")
			return err
		}, ledger.ErrNotFound},
		{"MemberInsertTaken", func(ctx context.Context, tx licenses.Tx) error {
			return tx.LicenseMemberInsert(ctx, licenses.Member{Org: "acme", Email: "bo@acme.test", State: licenses.StatePending})
		}, ledger.ErrAlreadyExists},
		{"MemberUpdateMissing", func(ctx context.Context, tx licenses.Tx) error {
			return tx.LicenseMemberUpdate(ctx, licenses.Member{Org: "acme", Email: "nope@acme.test"})
		}, ledger.ErrNotFound},
		{"MemberDeleteMissing", func(ctx context.Context, tx licenses.Tx) error {
			return tx.LicenseMemberDelete(ctx, "acme", "nope@acme.test")
		}, ledger.ErrNotFound},
		{"MemberDeleteOtherOrg", func(ctx context.Context, tx licenses.Tx) error {
			return tx.LicenseMemberDelete(ctx, "other", "bo@acme.test")
		}, ledger.ErrNotFound},
	}
	for _, c := range checks {
		if err := licErr(s, c.fn); !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want an error matching %v", c.name, err, c.want)
		}
	}
	// Listing an unknown organization is empty, not an error.
	licTx(t, s, func(ctx context.Context, tx licenses.Tx) error {
		if ts, err := tx.LicenseTeamList(ctx, licenses.TeamListParams{Org: "nope"}); err != nil || len(ts) != 0 {
			t.Errorf("LicenseTeamList(unknown) = %v, %v", ts, err)
		}
		if ms, err := tx.LicenseMemberList(ctx, licenses.MemberListParams{Org: "nope"}); err != nil || len(ms) != 0 {
			t.Errorf("LicenseMemberList(unknown) = %v, %v", ms, err)
		}
		if c, err := tx.LicenseExpiredCount(ctx, "nope", licT0); err != nil || c != 0 {
			t.Errorf("LicenseExpiredCount(unknown) = %v, %v", c, err)
		}
		return nil
	})
}

// licState reads everything the facet holds for org acme.
func licState(t *testing.T, s Store, at time.Time) (st struct {
	Org     licenses.Org
	Teams   []licenses.Team
	Members []licenses.Member
	Expired int64
	TeamsAt []licenses.Team // with PendingAt: at
}) {
	t.Helper()
	licTx(t, s, func(ctx context.Context, tx licenses.Tx) error {
		var err error
		if st.Org, err = tx.LicenseOrgGet(ctx, "acme"); err != nil && !errors.Is(err, ledger.ErrNotFound) {
			return err
		}
		if st.Teams, err = tx.LicenseTeamList(ctx, licenses.TeamListParams{Org: "acme"}); err != nil {
			return err
		}
		if st.TeamsAt, err = tx.LicenseTeamList(ctx, licenses.TeamListParams{Org: "acme", PendingAt: at}); err != nil {
			return err
		}
		if st.Members, err = tx.LicenseMemberList(ctx, licenses.MemberListParams{Org: "acme"}); err != nil {
			return err
		}
		st.Expired, err = tx.LicenseExpiredCount(ctx, "acme", at)
		return err
	})
	return st
}

func testLicensesRollback(t *testing.T, newStore Factory) {
	s := newStore(t)
	licSeed(t, s)
	licTx(t, s, func(ctx context.Context, tx licenses.Tx) error {
		return tx.LicenseMemberInsert(ctx, licenses.Member{Org: "acme", Email: "cy@acme.test", State: licenses.StatePending, Teams: []string{"sales"}, ExpiresAt: licT0.Add(time.Hour)})
	})
	later := licT0.Add(2 * time.Hour)
	before := licState(t, s, later)
	if before.Expired != 1 {
		t.Fatalf("set-up: %d expired, want 1", before.Expired)
	}
	boom := errors.New("boom")
	err := licErr(s, func(ctx context.Context, tx licenses.Tx) error {
		o, _ := tx.LicenseOrgGet(ctx, "acme")
		o.Purchased, o.Active = 99, 7
		if err := tx.LicenseOrgUpdate(ctx, o); err != nil {
			return err
		}
		if err := tx.LicenseTeamInsert(ctx, "acme", licenses.Team{ID: "aaa"}); err != nil {
			return err
		}
		if err := tx.LicenseTeamUpdate(ctx, "acme", licenses.Team{ID: "sales", Active: 3}); err != nil {
			return err
		}
		if err := tx.LicenseMemberInsert(ctx, licenses.Member{Org: "acme", Email: "di@acme.test", State: licenses.StatePending, Teams: []string{"ops"}, ExpiresAt: licT0.Add(time.Minute)}); err != nil {
			return err
		}
		if err := tx.LicenseMemberUpdate(ctx, licenses.Member{Org: "acme", Email: "cy@acme.test", State: licenses.StateActive, Teams: []string{"sales"}}); err != nil {
			return err
		}
		if err := tx.LicenseMemberDelete(ctx, "acme", "bo@acme.test"); err != nil {
			return err
		}
		if err := tx.LicenseOrgInsert(ctx, licenses.Org{ID: "other"}); err != nil {
			return err
		}
		// Records written more than once go back to their first value.
		o.Pending, o.Expired = 8, 9
		if err := tx.LicenseOrgUpdate(ctx, o); err != nil {
			return err
		}
		if err := tx.LicenseTeamUpdate(ctx, "acme", licenses.Team{ID: "sales", Pending: 4}); err != nil {
			return err
		}
		if err := tx.LicenseMemberUpdate(ctx, licenses.Member{Org: "acme", Email: "cy@acme.test", State: licenses.StatePending, Teams: []string{"design", "sales"}, ExpiresAt: licT0.Add(3 * time.Hour)}); err != nil {
			return err
		}
		if err := tx.LicenseMemberUpdate(ctx, licenses.Member{Org: "acme", Email: "di@acme.test", State: licenses.StateActive, Teams: []string{"ops"}}); err != nil {
			return err
		}
		if err := tx.LicenseMemberDelete(ctx, "acme", "cy@acme.test"); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("InTx = %v, want the function's error", err)
	}
	if diff := cmp.Diff(before, licState(t, s, later)); diff != "" {
		t.Errorf("rolled-back transaction changed the facet (-before +after):\n%s", diff)
	}
	if err := licErr(s, func(ctx context.Context, tx licenses.Tx) error {
		_, err := tx.LicenseOrgGet(ctx, "other")
		return err
	}); !errors.Is(err, ledger.ErrNotFound) {
		t.Errorf("organization inserted in a rolled-back transaction: %v", err)
	}
}

func testLicensesCopySafety(t *testing.T, newStore Factory) {
	s := newStore(t)
	licSeed(t, s)
	teams := []string{"design", "sales"}
	licTx(t, s, func(ctx context.Context, tx licenses.Tx) error {
		if err := tx.LicenseMemberInsert(ctx, licenses.Member{Org: "acme", Email: "cy@acme.test", State: licenses.StateActive, Teams: teams}); err != nil {
			return err
		}
		teams[0] = "CHANGED"
		m, err := tx.LicenseMemberGet(ctx, "acme", "cy@acme.test")
		if err != nil {
			return err
		}
		m.Teams[1] = "CHANGED"
		ms, err := tx.LicenseMemberList(ctx, licenses.MemberListParams{Org: "acme"})
		if err != nil {
			return err
		}
		for _, m := range ms {
			if len(m.Teams) > 0 {
				m.Teams[0] = "CHANGED"
			}
		}
		upd := licenses.Member{Org: "acme", Email: "bo@acme.test", State: licenses.StateActive, Teams: []string{"ops"}}
		if err := tx.LicenseMemberUpdate(ctx, upd); err != nil {
			return err
		}
		upd.Teams[0] = "CHANGED"
		// An update that keeps the member's teams does not keep the slice
		// it was given either.
		same := []string{"design", "sales"}
		if err := tx.LicenseMemberUpdate(ctx, licenses.Member{Org: "acme", Email: "cy@acme.test", State: licenses.StateUnassigned, Teams: same}); err != nil {
			return err
		}
		same[1] = "CHANGED"
		ts, err := tx.LicenseTeamList(ctx, licenses.TeamListParams{Org: "acme"})
		if err != nil {
			return err
		}
		ts[0].Active = 42
		return nil
	})
	st := licState(t, s, licT0)
	want := map[string][]string{"bo@acme.test": {"ops"}, "cy@acme.test": {"design", "sales"}}
	for _, m := range st.Members {
		if diff := cmp.Diff(want[m.Email], m.Teams); diff != "" {
			t.Errorf("member %s teams changed through a copy (-want +got):\n%s", m.Email, diff)
		}
	}
	for _, tm := range st.Teams {
		if tm.Active != 0 {
			t.Errorf("team %s changed through a copy: %+v", tm.ID, tm)
		}
	}
}

func testLicensesRoundTrip(t *testing.T, newStore Factory) {
	s := newStore(t)
	o := licenses.Org{ID: "acme", Purchased: 10, Active: 3, Pending: 2, Unassigned: 1, Expired: 4, CreatedAt: licT0, UpdatedAt: licT0.Add(time.Second)}
	tm := licenses.Team{ID: "design", Active: 2, Pending: 1}
	m := licenses.Member{
		Org: "acme", Email: "bo@acme.test", State: licenses.StatePending, Teams: []string{"design"},
		Hold: "licenses/acme/r1/invite", ExpiresAt: licT0.Add(72 * time.Hour), InvitedBy: "ada@acme.test",
		InvitedAt: licT0, UpdatedAt: licT0,
	}
	licTx(t, s, func(ctx context.Context, tx licenses.Tx) error {
		if err := tx.LicenseOrgInsert(ctx, o); err != nil {
			return err
		}
		if err := tx.LicenseTeamInsert(ctx, "acme", tm); err != nil {
			return err
		}
		return tx.LicenseMemberInsert(ctx, m)
	})
	licTx(t, s, func(ctx context.Context, tx licenses.Tx) error {
		gotO, err := tx.LicenseOrgGet(ctx, "acme")
		if err != nil {
			return err
		}
		gotT, err := tx.LicenseTeamGet(ctx, "acme", "design")
		if err != nil {
			return err
		}
		gotM, err := tx.LicenseMemberGet(ctx, "acme", "bo@acme.test")
		if err != nil {
			return err
		}
		if diff := cmp.Diff(o, gotO); diff != "" {
			t.Errorf("Org round trip (-put +got):\n%s", diff)
		}
		if diff := cmp.Diff(tm, gotT); diff != "" {
			t.Errorf("Team round trip (-put +got):\n%s", diff)
		}
		if diff := cmp.Diff(m, gotM); diff != "" {
			t.Errorf("Member round trip (-put +got):\n%s", diff)
		}
		return nil
	})
}

func testLicensesListOrdering(t *testing.T, newStore Factory) {
	s := newStore(t)
	licSeed(t, s)
	emails := []string{"zed@acme.test", "amy@acme.test", "max@acme.test", "bob@acme.test"}
	licTx(t, s, func(ctx context.Context, tx licenses.Tx) error {
		for _, e := range emails {
			if err := tx.LicenseMemberInsert(ctx, licenses.Member{Org: "acme", Email: e, State: licenses.StateUnassigned}); err != nil {
				return err
			}
		}
		// Another organization's records never show.
		if err := tx.LicenseTeamInsert(ctx, "other", licenses.Team{ID: "aaa"}); err != nil {
			return err
		}
		return tx.LicenseMemberInsert(ctx, licenses.Member{Org: "other", Email: "aaa@other.test", State: licenses.StateUnassigned})
	})
	licTx(t, s, func(ctx context.Context, tx licenses.Tx) error {
		ts, err := tx.LicenseTeamList(ctx, licenses.TeamListParams{Org: "acme"})
		if err != nil {
			return err
		}
		var ids []string
		for _, tm := range ts {
			ids = append(ids, tm.ID)
		}
		if diff := cmp.Diff([]string{"design", "ops", "sales"}, ids); diff != "" {
			t.Errorf("LicenseTeamList order (-want +got):\n%s", diff)
		}
		var got []string
		after := ""
		for {
			page, err := tx.LicenseMemberList(ctx, licenses.MemberListParams{Org: "acme", After: after, Limit: 2})
			if err != nil {
				return err
			}
			for _, m := range page {
				got = append(got, m.Email)
			}
			if len(page) < 2 {
				break
			}
			after = page[len(page)-1].Email
		}
		want := []string{"amy@acme.test", "bo@acme.test", "bob@acme.test", "max@acme.test", "zed@acme.test"}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("LicenseMemberList pages (-want +got):\n%s", diff)
		}
		return nil
	})
}

func testLicensesExpiredCount(t *testing.T, newStore Factory) {
	s := newStore(t)
	licSeed(t, s)
	h := func(n int) time.Time { return licT0.Add(time.Duration(n) * time.Hour) }
	licTx(t, s, func(ctx context.Context, tx licenses.Tx) error {
		for _, m := range []licenses.Member{
			{Org: "acme", Email: "a@acme.test", State: licenses.StatePending, Teams: []string{"design", "sales"}, ExpiresAt: h(1)},
			{Org: "acme", Email: "b@acme.test", State: licenses.StatePending, Teams: []string{"sales"}, ExpiresAt: h(2)},
			{Org: "acme", Email: "c@acme.test", State: licenses.StatePending, Teams: []string{"ops"}, ExpiresAt: h(2)},
			{Org: "acme", Email: "d@acme.test", State: licenses.StatePending, Teams: []string{"ops"}},                                // never expires
			{Org: "acme", Email: "e@acme.test", State: licenses.StateActive, Teams: []string{"ops"}, ExpiresAt: h(1)},                // accepted
			{Org: "acme", Email: "f@acme.test", State: licenses.StateExpired, Teams: []string{"ops"}, ExpiresAt: h(1)},               // already marked
			{Org: "other", Email: "g@other.test", State: licenses.StatePending, ExpiresAt: h(1)},                                     // other organization
			{Org: "acme", Email: "h@acme.test", State: licenses.StatePending, Teams: []string{"design"}, ExpiresAt: h(3).Add(-1000)}, // a microsecond before h(3)
		} {
			if err := tx.LicenseMemberInsert(ctx, m); err != nil {
				return err
			}
		}
		return nil
	})
	// The teams' stored counters, as the service would keep them.
	licTx(t, s, func(ctx context.Context, tx licenses.Tx) error {
		for _, tm := range []licenses.Team{{ID: "design", Pending: 2}, {ID: "ops", Active: 1, Pending: 2}, {ID: "sales", Pending: 2}} {
			if err := tx.LicenseTeamUpdate(ctx, "acme", tm); err != nil {
				return err
			}
		}
		return nil
	})
	type counts struct {
		Total   int64
		Pending map[string]int64 // by team, at the instant
	}
	count := func(at time.Time) counts {
		c := counts{Pending: map[string]int64{}}
		licTx(t, s, func(ctx context.Context, tx licenses.Tx) error {
			var err error
			if c.Total, err = tx.LicenseExpiredCount(ctx, "acme", at); err != nil {
				return err
			}
			ts, err := tx.LicenseTeamList(ctx, licenses.TeamListParams{Org: "acme", PendingAt: at})
			for _, tm := range ts {
				c.Pending[tm.ID] = tm.Pending
			}
			return err
		})
		return c
	}
	pending := func(design, ops, sales int64) map[string]int64 {
		return map[string]int64{"design": design, "ops": ops, "sales": sales}
	}
	tests := []struct {
		at   time.Time
		want counts
	}{
		{h(1).Add(-time.Microsecond), counts{0, pending(2, 2, 2)}},
		{h(1), counts{1, pending(1, 2, 1)}}, // at its expiry: expired
		{h(2), counts{3, pending(1, 1, 0)}},
		{h(3), counts{4, pending(0, 1, 0)}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, count(tt.at)); diff != "" {
			t.Errorf("at %v: expired counts mismatch (-want +got):\n%s", tt.at, diff)
		}
	}
	// Without PendingAt, Pending is as stored.
	licTx(t, s, func(ctx context.Context, tx licenses.Tx) error {
		ts, err := tx.LicenseTeamList(ctx, licenses.TeamListParams{Org: "acme"})
		for _, tm := range ts {
			if tm.Pending != 2 {
				t.Errorf("team %s stored Pending %d, want 2", tm.ID, tm.Pending)
			}
		}
		return err
	})
	// Updates and deletes keep the index current.
	licTx(t, s, func(ctx context.Context, tx licenses.Tx) error {
		if err := tx.LicenseMemberUpdate(ctx, licenses.Member{Org: "acme", Email: "a@acme.test", State: licenses.StateExpired, Teams: []string{"design", "sales"}, ExpiresAt: h(1)}); err != nil {
			return err
		}
		if err := tx.LicenseMemberUpdate(ctx, licenses.Member{Org: "acme", Email: "b@acme.test", State: licenses.StatePending, Teams: []string{"design"}, ExpiresAt: h(2)}); err != nil {
			return err
		}
		return tx.LicenseMemberDelete(ctx, "acme", "c@acme.test")
	})
	if diff := cmp.Diff(counts{2, pending(0, 2, 2)}, count(h(3))); diff != "" {
		t.Errorf("after updates, expired counts mismatch (-want +got):\n%s", diff)
	}
}

// licService is a licenses service over a fresh store with n licenses and
// one team.
func licService(t *testing.T, s Store, n int64) *licenses.Service {
	t.Helper()
	roles := &allot.StaticRoles{}
	roles.Grant("acme", "admin", licenses.OrgAdmin, allot.Vendor)
	svc, err := licenses.New(s.Licenses(), &licenses.Options{Clock: clock.NewFake(start), Roles: roles})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := svc.Purchase(ctx, licenses.PurchaseParams{Org: "acme", Actor: "admin", RequestID: "buy", Quantity: n}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.CreateTeam(ctx, licenses.CreateTeamParams{Org: "acme", Team: "design", Actor: "admin"}); err != nil {
		t.Fatal(err)
	}
	return svc
}

// The hot path: many concurrent invitations of new people into one pool
// never take more licenses than it has.
func testLicensesConcurrentInvites(t *testing.T, newStore Factory) {
	s := newStore(t)
	const workers, each, pool = 8, 10, 37
	svc := licService(t, s, pool)
	ctx := context.Background()
	var mu sync.Mutex
	var wg sync.WaitGroup
	ok, refused := 0, 0
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				email := fmt.Sprintf("w%d-%d@acme.test", w, i)
				_, err := svc.Invite(ctx, licenses.InviteParams{Org: "acme", Team: "design", Email: email, Actor: "admin", RequestID: email})
				mu.Lock()
				switch {
				case err == nil:
					ok++
				case errors.Is(err, licenses.ErrNoLicenseAvailable):
					refused++
				default:
					t.Errorf("Invite under contention: %v", err)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if ok != pool || refused != workers*each-pool {
		t.Errorf("%d invited and %d refused, want %d and %d", ok, refused, pool, workers*each-pool)
	}
	sum, err := svc.Summary(ctx, licenses.SummaryParams{Org: "acme", Actor: "admin"})
	if err != nil {
		t.Fatal(err)
	}
	if sum.Pending != pool || sum.Available != 0 || len(sum.Teams) != 1 || sum.Teams[0].Pending != pool {
		t.Errorf("summary %+v, want %d pending and none available", sum, pool)
	}
	f := &fixture{t: t, ctx: ctx, store: s, l: mustLedger(t, s)}
	f.verify()
}

// Accepting and deleting the same member concurrently: exactly one
// settlement of the hold wins, and the license is counted once.
func testLicensesConcurrentAcceptDelete(t *testing.T, newStore Factory) {
	s := newStore(t)
	const people = 12
	svc := licService(t, s, people)
	ctx := context.Background()
	for i := range people {
		email := fmt.Sprintf("p%d@acme.test", i)
		if _, err := svc.Invite(ctx, licenses.InviteParams{Org: "acme", Team: "design", Email: email, Actor: "admin", RequestID: email}); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	for i := range people {
		email := fmt.Sprintf("p%d@acme.test", i)
		wg.Go(func() { _, _ = svc.Accept(ctx, licenses.AcceptParams{Org: "acme", Email: email, Actor: email}) })
		wg.Go(func() {
			if _, err := svc.Delete(ctx, licenses.DeleteParams{Org: "acme", Email: email, Actor: "admin", RequestID: "del-" + email}); err != nil {
				t.Errorf("Delete(%s) racing Accept: %v", email, err)
			}
		})
	}
	wg.Wait()
	sum, err := svc.Summary(ctx, licenses.SummaryParams{Org: "acme", Actor: "admin"})
	if err != nil {
		t.Fatal(err)
	}
	// Every member was deleted, before or after accepting.
	if sum.Active != 0 || sum.Pending != 0 || sum.Available != people {
		t.Errorf("summary %+v, want all %d licenses available", sum, people)
	}
	f := &fixture{t: t, ctx: ctx, store: s, l: mustLedger(t, s)}
	b := f.balance(licenses.PoolAccount("acme"))
	if !b.Available.Equal(d(fmt.Sprint(people))) {
		t.Errorf("pool available %s, want %d", b.Available, people)
	}
	f.verify()
}

func mustLedger(t *testing.T, s Store) *ledger.Ledger {
	t.Helper()
	l, err := ledger.New(s, &ledger.Options{Clock: clock.NewFake(start)})
	if err != nil {
		t.Fatal(err)
	}
	return l
}
