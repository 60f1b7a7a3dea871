package events_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"
	"time"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/events"
	"github.com/allot-dev/allot/ledger"
	"github.com/allot-dev/allot/store/memstore"
	"github.com/google/go-cmp/cmp"
)

var at = time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)

// emit writes evs in one transaction of s, which fails with fail if it is
// not nil.
func emit(s *memstore.Store, fail error, evs ...events.Event) error {
	return s.InTx(context.Background(), func(tx ledger.Tx) error {
		if err := tx.(*memstore.Tx).Emit(context.Background(), evs...); err != nil {
			return err
		}
		return fail
	})
}

func TestEncodeDecode_RoundTripsEveryType(t *testing.T) {
	samples := map[events.Type]any{
		events.PassesPurchased:   allot.Purchase{Org: "acme", Product: "pass", Quantity: 10, At: at, Purchased: 10, Available: 10},
		events.PassesAdmitted:    events.GuestAdmitted{Session: "kickoff", Guest: "ann@x.test", PassType: "day", Passes: 1, Until: at.Add(24 * time.Hour), Balance: 9},
		events.SeatsEventLacking: events.EventLacking{Event: "e1", Seats: 3, Modules: []string{"polls"}},
		events.LicensesReassigned: events.Reassigned{From: events.Member{Email: "a@x.test", State: "deleted"},
			To: events.Member{Email: "b@x.test", State: "pending", Teams: []string{"design"}}},
	}
	for _, typ := range events.Types() {
		p, ok := samples[typ]
		if !ok {
			continue
		}
		e := events.Event{Seq: 7, Type: typ, Org: "acme", At: at, Actor: "billing", RequestID: "r1", Payload: p}
		st, err := events.Encode(e)
		if err != nil {
			t.Fatalf("%s: %v", typ, err)
		}
		got, err := events.Decode(st)
		if err != nil {
			t.Fatalf("%s: %v", typ, err)
		}
		if d := cmp.Diff(e, got); d != "" {
			t.Errorf("%s round trip (-want +got):\n%s", typ, d)
		}
	}
	if len(events.Types()) != 22 {
		t.Errorf("%d types; the list above and the docs name 22", len(events.Types()))
	}
}

func TestEncode_RefusesAPayloadOfAnotherType(t *testing.T) {
	_, err := events.Encode(events.Event{Type: events.PassesAdmitted, Payload: events.LoginRefused{}})
	if err == nil || allot.ErrorCode(err) != allot.CodeInternal {
		t.Errorf("a LoginRefused payload on a guest_admitted event: %v", err)
	}
}

func TestDecode_KeepsAnUnknownTypeRaw(t *testing.T) {
	e, err := events.Decode(events.Stored{Seq: 1, Type: "other.thing", Payload: json.RawMessage(`{"a":1}`)})
	if err != nil {
		t.Fatal(err)
	}
	if raw, ok := e.Payload.(json.RawMessage); !ok || string(raw) != `{"a":1}` {
		t.Errorf("payload %#v", e.Payload)
	}
}

func TestReader_ReadsWhatCommittedInOrder(t *testing.T) {
	ctx := context.Background()
	s := memstore.New()
	r := events.NewReader(s)
	ev := func(org string, typ events.Type, p any) events.Event {
		return events.Event{Type: typ, Org: org, At: at, Actor: "ann@x.test", Payload: p}
	}
	if err := emit(s, nil, ev("acme", events.SeatsEventCovered, events.EventCovered{Event: "e1"}),
		ev("globex", events.SeatsEventCovered, events.EventCovered{Event: "e2"})); err != nil {
		t.Fatal(err)
	}
	rolledBack := errors.New("refused")
	if err := emit(s, rolledBack, ev("acme", events.SeatsEventCovered, events.EventCovered{Event: "lost"})); !errors.Is(err, rolledBack) {
		t.Fatal(err)
	}
	if err := emit(s, nil, ev("acme", events.SeatsModuleMissing, events.ModuleMissing{Event: "e3", Module: "polls"})); err != nil {
		t.Fatal(err)
	}
	all, err := r.Read(ctx, events.Query{})
	if err != nil {
		t.Fatal(err)
	}
	var seqs []int64
	for _, e := range all {
		seqs = append(seqs, e.Seq)
	}
	if d := cmp.Diff([]int64{1, 2, 3}, seqs); d != "" {
		t.Errorf("sequence numbers (a rolled-back event is never read) (-want +got):\n%s", d)
	}
	acme, _ := r.Read(ctx, events.Query{Org: "acme"})
	if len(acme) != 2 || acme[1].Payload != (events.ModuleMissing{Event: "e3", Module: "polls"}) {
		t.Errorf("acme's events: %+v", acme)
	}
	missing, _ := r.Read(ctx, events.Query{Types: []events.Type{events.SeatsModuleMissing}})
	after, _ := r.Read(ctx, events.Query{After: 1, Limit: 1})
	if len(missing) != 1 || len(after) != 1 || after[0].Seq != 2 {
		t.Errorf("by type %+v, after 1 limit 1 %+v", missing, after)
	}
	var n int
	for e, err := range r.All(ctx, events.Query{Limit: 1}) {
		if err != nil {
			t.Fatal(err)
		}
		n++
		if e.Seq != int64(n) {
			t.Errorf("All yielded %d as the %d-th", e.Seq, n)
		}
	}
	if n != 3 {
		t.Errorf("All read %d events", n)
	}
	if pruned, err := r.Prune(ctx, 3); err != nil || pruned != 2 {
		t.Errorf("Prune(3) = %d, %v", pruned, err)
	}
	left, _ := r.Read(ctx, events.Query{})
	if len(left) != 1 || left[0].Seq != 3 {
		t.Errorf("after pruning: %+v", left)
	}
	if err := emit(s, nil, ev("acme", events.SeatsEventCovered, events.EventCovered{Event: "e4"})); err != nil {
		t.Fatal(err)
	}
	if next, _ := r.Read(ctx, events.Query{After: 3}); len(next) != 1 || next[0].Seq != 4 {
		t.Errorf("numbers go on after pruning: %+v", next)
	}
}

func TestReader_RefusesBadQueries(t *testing.T) {
	r := events.NewReader(memstore.New())
	for _, q := range []events.Query{{After: -1}, {Limit: -1}, {Limit: 1001}} {
		if _, err := r.Read(context.Background(), q); !errors.Is(err, events.ErrInvalid) {
			t.Errorf("Read(%+v) = %v", q, err)
		}
	}
	for _, err := range r.All(context.Background(), events.Query{Limit: 1001}) {
		if !errors.Is(err, events.ErrInvalid) {
			t.Errorf("All with a limit of 1001 yields %v", err)
		}
	}
	if _, err := r.Prune(context.Background(), -1); !errors.Is(err, events.ErrInvalid) {
		t.Errorf("Prune(-1) = %v", err)
	}
}

// TestMemstore_KeepsWhatWasEmitted checks that an event read back is the
// event as emitted, even when the slices it was made from change later.
func TestMemstore_KeepsWhatWasEmitted(t *testing.T) {
	s := memstore.New()
	teams := []string{"design", "sales"}
	lacks := []string{"polls"}
	if err := emit(s, nil,
		events.Event{Type: events.LicensesInvited, Org: "acme", At: at, Payload: events.Member{Email: "a@x.test", Teams: teams}},
		events.Event{Type: events.SeatsEventLacking, Org: "acme", At: at, Payload: events.EventLacking{Event: "e1", Modules: lacks}},
	); err != nil {
		t.Fatal(err)
	}
	teams[0], lacks[0] = "changed", "changed"
	got, err := events.NewReader(s).Read(context.Background(), events.Query{})
	if err != nil || len(got) != 2 {
		t.Fatal(got, err)
	}
	if m := got[0].Payload.(events.Member); m.Teams[0] != "design" {
		t.Errorf("the member's teams read %v", m.Teams)
	}
	if l := got[1].Payload.(events.EventLacking); l.Modules[0] != "polls" {
		t.Errorf("the lacking modules read %v", l.Modules)
	}
}
