package seats_test

import (
	"bytes"
	"context"
	"errors"
	"math"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/allot-dev/allot"
	"github.com/allot-dev/allot/ledger"
	"github.com/allot-dev/allot/seats"
	"github.com/allot-dev/allot/table"
	"github.com/shopspring/decimal"
)

// coder is what every error the package returns has in its chain.
type coder interface{ Code() string }

// leaks finds what a message shown to an API client must not hold: a
// ledger account or transfer ID of any family, or a Go identifier.
var leaks = regexp.MustCompile(`(seats|passes|licenses)/|Options\.|\bseats\.[A-Z]|\bledger\.|\bTx\b|int64|memstore|pgxstore|\w\(`)

// checkCoded checks that err has a code of its own, the wanted one with its
// HTTP status, that it still matches sentinel (when given), and that its
// message leaks nothing internal.
func checkCoded(t *testing.T, err error, code string, status int, sentinel error) {
	t.Helper()
	if err == nil {
		t.Fatalf("err = nil, want an error coded %q", code)
	}
	var c coder
	if !errors.As(err, &c) {
		t.Errorf("%v: no Code() in its chain", err)
	}
	if got := allot.ErrorCode(err); got != code {
		t.Errorf("ErrorCode(%v) = %q, want %q", err, got, code)
	}
	if got := allot.HTTPStatus(err); got != status {
		t.Errorf("HTTPStatus(%v) = %d, want %d", err, got, status)
	}
	if sentinel != nil && !errors.Is(err, sentinel) {
		t.Errorf("%v does not match %v", err, sentinel)
	}
	if m := leaks.FindString(err.Error()); m != "" {
		t.Errorf("message %q holds %q: an internal ID or a Go identifier", err, m)
	}
}

// Every refusal the package can give, provoked through the public API on
// memstore, carries the code of its situation and matches its sentinel.
func TestSeats_ErrorCodes(t *testing.T) {
	type row struct {
		name     string
		setup    func(f *fixture) // what the refusal needs, before the snapshot
		do       func(f *fixture) error
		code     string
		sentinel error
	}
	rows := []row{
		// invalid: each names a field.
		{"NewNilStore", nil, func(f *fixture) error { return second(seats.New(nil, nil)) }, allot.CodeInvalid, seats.ErrInvalid},
		{"CreateEventActor", nil, func(f *fixture) error {
			return createEvent(f, seats.CreateEventParams{Actor: "x@", ID: "x", Org: "acme", Start: start, End: start.Add(time.Hour)})
		}, allot.CodeInvalid, seats.ErrInvalid},
		{"CheckConsumptionActor", nil, func(f *fixture) error {
			return second(f.svc.CheckConsumption(f.ctx, seats.CheckConsumptionParams{Org: "acme", Actor: " "}))
		}, allot.CodeInvalid, seats.ErrInvalid},
		{"OverviewActor", nil, func(f *fixture) error {
			return second(f.svc.Overview(f.ctx, seats.OverviewParams{Org: "acme", Actor: "a\x00"}))
		}, allot.CodeInvalid, seats.ErrInvalid},
		{"PurchaseOrg", nil, func(f *fixture) error { return purchase(f, "", seats.Seats, 1, "s", "billing", "p9") }, allot.CodeInvalid, seats.ErrInvalid},
		{"PurchaseProduct", nil, func(f *fixture) error { return purchase(f, "acme", "chairs", 1, "s", "billing", "p9") }, allot.CodeInvalid, seats.ErrInvalid},
		{"PurchaseModuleName", nil, func(f *fixture) error {
			return purchase(f, "acme", seats.Module("two words"), 1, "s", "billing", "p9")
		}, allot.CodeInvalid, seats.ErrInvalid},
		{"PurchaseQuantity", nil, func(f *fixture) error { return purchase(f, "acme", seats.Seats, 0, "s", "billing", "p9") }, allot.CodeInvalid, seats.ErrInvalid},
		{"PurchaseRequestID", nil, func(f *fixture) error { return purchase(f, "acme", seats.Seats, 1, "s", "billing", "") }, allot.CodeInvalid, seats.ErrInvalid},
		{"PurchaseSubscriptionNUL", nil, func(f *fixture) error { return purchase(f, "acme", seats.Seats, 1, "s\x00", "billing", "p9") }, allot.CodeInvalid, seats.ErrInvalid},
		{"PurchaseActor", nil, func(f *fixture) error { return purchase(f, "acme", seats.Seats, 1, "s", " ", "p9") }, allot.CodeInvalid, seats.ErrInvalid},
		{"PurchaseOverflow", nil, func(f *fixture) error {
			return purchase(f, "acme", seats.Seats, math.MaxInt64, "s", "billing", "p9")
		}, allot.CodeInvalid, seats.ErrInvalid},
		{"CreateEventID", nil, func(f *fixture) error {
			return createEvent(f, seats.CreateEventParams{Actor: organizer, ID: "a b", Org: "acme", Start: start, End: start.Add(time.Hour)})
		}, allot.CodeInvalid, seats.ErrInvalid},
		{"CreateEventName", nil, func(f *fixture) error {
			return createEvent(f, seats.CreateEventParams{Actor: organizer, ID: "x", Org: "acme", Name: "\xff", Start: start, End: start.Add(time.Hour)})
		}, allot.CodeInvalid, seats.ErrInvalid},
		{"CreateEventStartZero", nil, func(f *fixture) error {
			return createEvent(f, seats.CreateEventParams{Actor: organizer, ID: "x", Org: "acme", End: start})
		}, allot.CodeInvalid, seats.ErrInvalid},
		{"CreateEventEndBeforeStart", nil, func(f *fixture) error {
			return createEvent(f, seats.CreateEventParams{Actor: organizer, ID: "x", Org: "acme", Start: start, End: start})
		}, allot.CodeInvalid, seats.ErrInvalid},
		{"CreateEventTimeRange", nil, func(f *fixture) error {
			return createEvent(f, seats.CreateEventParams{Actor: organizer, ID: "x", Org: "acme", Start: start, End: time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)})
		}, allot.CodeInvalid, seats.ErrInvalid},
		{"CreateEventParticipants", nil, func(f *fixture) error {
			return createEvent(f, seats.CreateEventParams{Actor: organizer, ID: "x", Org: "acme", Start: start, End: start.Add(time.Hour), Participants: -1})
		}, allot.CodeInvalid, seats.ErrInvalid},
		{"CreateEventModules", nil, func(f *fixture) error {
			return createEvent(f, seats.CreateEventParams{Actor: organizer, ID: "x", Org: "acme", Start: start, End: start.Add(time.Hour), Modules: []string{""}})
		}, allot.CodeInvalid, seats.ErrInvalid},
		{"EventID", nil, func(f *fixture) error {
			return second(f.svc.Event(f.ctx, seats.EventParams{Org: "acme", Actor: organizer, ID: ""}))
		}, allot.CodeInvalid, seats.ErrInvalid},
		{"SetParticipants", nil, func(f *fixture) error {
			return second(f.svc.SetParticipants(f.ctx, seats.SetParticipantsParams{Org: "acme", Actor: organizer, Event: "e1", Participants: -1}))
		}, allot.CodeInvalid, seats.ErrInvalid},
		{"SetModules", nil, func(f *fixture) error {
			return second(f.svc.SetModules(f.ctx, seats.SetModulesParams{Org: "acme", Actor: organizer, Event: "e1", Modules: []string{"a\tb"}}))
		}, allot.CodeInvalid, seats.ErrInvalid},
		{"TransferSeatsQuantity", nil, func(f *fixture) error { return second(f.seats("acme", "ana", "e1", -1, "r9")) }, allot.CodeInvalid, seats.ErrInvalid},
		{"TransferSeatsActor", nil, func(f *fixture) error { return second(f.seats("acme", "ana@", "e1", 1, "r9")) }, allot.CodeInvalid, seats.ErrInvalid},
		{"TransferModuleName", nil, func(f *fixture) error { return second(f.module("acme", "ana", "e1", "", "r9")) }, allot.CodeInvalid, seats.ErrInvalid},
		{"CheckConsumptionOrg", nil, func(f *fixture) error {
			return second(f.svc.CheckConsumption(f.ctx, seats.CheckConsumptionParams{Org: "a\x00", Actor: allot.SystemActor}))
		}, allot.CodeInvalid, seats.ErrInvalid},
		{"OverviewOrg", nil, func(f *fixture) error {
			return second(f.svc.Overview(f.ctx, seats.OverviewParams{Org: "", Actor: "ana"}))
		}, allot.CodeInvalid, seats.ErrInvalid},
		{"HistoryProduct", nil, func(f *fixture) error { return history(f, seats.HistoryParams{Product: "chairs"}) }, allot.CodeInvalid, seats.ErrInvalid},
		{"HistoryEvent", nil, func(f *fixture) error { return history(f, seats.HistoryParams{Event: "a b"}) }, allot.CodeInvalid, seats.ErrInvalid},
		{"HistoryFrom", nil, func(f *fixture) error {
			return history(f, seats.HistoryParams{From: time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC)})
		}, allot.CodeInvalid, seats.ErrInvalid},
		{"HistoryLimit", nil, func(f *fixture) error { return history(f, seats.HistoryParams{Limit: 1001}) }, allot.CodeInvalid, seats.ErrInvalid},
		{"HistoryCursor", nil, func(f *fixture) error { return history(f, seats.HistoryParams{Cursor: "seat/x"}) }, allot.CodeInvalid, seats.ErrInvalid},
		{"HistoryCursorOfAnotherOrg", nil, func(f *fixture) error {
			return history(f, seats.HistoryParams{Cursor: "history/globex/seat/1"})
		}, allot.CodeInvalid, seats.ErrInvalid},
		{"HistoryLimitNegative", nil, func(f *fixture) error { return history(f, seats.HistoryParams{Limit: -1}) }, allot.CodeInvalid, seats.ErrInvalid},
		{"HistoryAmountBeyondCount", func(f *fixture) { strayHuge(f) }, func(f *fixture) error {
			return history(f, seats.HistoryParams{})
		}, allot.CodeInvalid, seats.ErrInvalid},
		{"EventsLimit", nil, func(f *fixture) error { return eventsPage(f, seats.EventsParams{Limit: -1}) }, allot.CodeInvalid, seats.ErrInvalid},
		{"EventsLimitTooLarge", nil, func(f *fixture) error { return eventsPage(f, seats.EventsParams{Limit: allot.MaxLimit + 1}) }, allot.CodeInvalid, seats.ErrInvalid},
		{"EventsStatus", nil, func(f *fixture) error { return eventsPage(f, seats.EventsParams{Statuses: []seats.Status{"soon"}}) }, allot.CodeInvalid, seats.ErrInvalid},
		{"EventsCursor", nil, func(f *fixture) error { return eventsPage(f, seats.EventsParams{Cursor: "yesterday"}) }, allot.CodeInvalid, seats.ErrInvalid},
		{"EventsCursorOfHistory", nil, func(f *fixture) error {
			return eventsPage(f, seats.EventsParams{Cursor: "history/acme/seat/1"})
		}, allot.CodeInvalid, seats.ErrInvalid},
		{"HistoryTableOrg", nil, func(f *fixture) error { return second(f.svc.HistoryTable(f.ctx, seats.HistoryParams{Actor: "ana"})) }, allot.CodeInvalid, seats.ErrInvalid},
		{"HistoryTableCursor", nil, func(f *fixture) error {
			return writeCSV(f.svc.HistoryTable(f.ctx, seats.HistoryParams{Org: "acme", Actor: "ana", Cursor: "x"}))
		}, allot.CodeInvalid, seats.ErrInvalid},
		{"EventsTableOrg", nil, func(f *fixture) error {
			return second(f.svc.EventsTable(f.ctx, seats.EventsParams{Actor: "ana"}))
		}, allot.CodeInvalid, seats.ErrInvalid},
		{"EventsTableLimit", nil, func(f *fixture) error {
			return writeCSV(f.svc.EventsTable(f.ctx, seats.EventsParams{Org: "acme", Actor: "ana", Limit: 2000}))
		}, allot.CodeInvalid, seats.ErrInvalid},
		{"AuditOrg", nil, func(f *fixture) error { return second(f.svc.Audit(f.ctx, "")) }, allot.CodeInvalid, seats.ErrInvalid},

		// not_found: no such event in this organization.
		{"EventUnknown", nil, func(f *fixture) error {
			return second(f.svc.Event(f.ctx, seats.EventParams{Org: "acme", Actor: organizer, ID: "nope"}))
		}, allot.CodeNotFound, seats.ErrUnknownEvent},
		{"EventOfAnotherOrg", nil, func(f *fixture) error {
			return second(f.svc.Event(f.ctx, seats.EventParams{Org: "acme", Actor: organizer, ID: "g1"}))
		}, allot.CodeNotFound, seats.ErrUnknownEvent},
		{"SetParticipantsUnknown", nil, func(f *fixture) error {
			return second(f.svc.SetParticipants(f.ctx, seats.SetParticipantsParams{Org: "acme", Actor: organizer, Event: "nope", Participants: 1}))
		}, allot.CodeNotFound, seats.ErrUnknownEvent},
		{"SetModulesUnknown", nil, func(f *fixture) error {
			return second(f.svc.SetModules(f.ctx, seats.SetModulesParams{Org: "acme", Actor: organizer, Event: "nope"}))
		}, allot.CodeNotFound, seats.ErrUnknownEvent},
		{"TransferSeatsUnknown", nil, func(f *fixture) error { return second(f.seats("acme", "ana", "g1", 1, "r9")) }, allot.CodeNotFound, seats.ErrUnknownEvent},
		{"TransferModuleUnknown", nil, func(f *fixture) error { return second(f.module("acme", "ana", "nope", "polls", "r9")) }, allot.CodeNotFound, seats.ErrUnknownEvent},
		{"HistoryEventUnknown", nil, func(f *fixture) error { return history(f, seats.HistoryParams{Event: "nope"}) }, allot.CodeNotFound, seats.ErrUnknownEvent},

		// forbidden: the actor lacks the role the act needs in the organization.
		{"PurchaseNotVendor", nil, func(f *fixture) error { return purchase(f, "acme", seats.Seats, 1, "s", "ana", "p9") }, allot.CodeForbidden, seats.ErrForbidden},
		{"PurchaseOrganizer", nil, func(f *fixture) error { return purchase(f, "acme", seats.Seats, 1, "s", organizer, "p9") }, allot.CodeForbidden, seats.ErrForbidden},
		{"PurchaseRetryNotVendor", nil, func(f *fixture) error { return purchase(f, "acme", seats.Seats, 10, "sub-acme", "ana", "p1") }, allot.CodeForbidden, seats.ErrForbidden},
		{"CreateEventNoRole", nil, func(f *fixture) error {
			return createEvent(f, seats.CreateEventParams{Actor: "gus", ID: "x", Org: "acme", Start: start, End: start.Add(time.Hour)})
		}, allot.CodeForbidden, seats.ErrForbidden},
		{"CreateEventVendor", nil, func(f *fixture) error {
			return createEvent(f, seats.CreateEventParams{Actor: "billing", ID: "x", Org: "acme", Start: start, End: start.Add(time.Hour)})
		}, allot.CodeForbidden, seats.ErrForbidden},
		{"EventNoRole", nil, func(f *fixture) error {
			return second(f.svc.Event(f.ctx, seats.EventParams{Org: "acme", Actor: "gus", ID: "e1"}))
		}, allot.CodeForbidden, seats.ErrForbidden},
		{"SetParticipantsNoRole", nil, func(f *fixture) error {
			return second(f.svc.SetParticipants(f.ctx, seats.SetParticipantsParams{Org: "acme", Actor: "gus", Event: "e1", Participants: 9}))
		}, allot.CodeForbidden, seats.ErrForbidden},
		{"SetModulesNoRole", nil, func(f *fixture) error {
			return second(f.svc.SetModules(f.ctx, seats.SetModulesParams{Org: "acme", Actor: "billing", Event: "e1", Modules: []string{"qna"}}))
		}, allot.CodeForbidden, seats.ErrForbidden},
		{"CheckConsumptionNoRole", nil, func(f *fixture) error {
			return second(f.svc.CheckConsumption(f.ctx, seats.CheckConsumptionParams{Org: "acme", Actor: organizer}))
		}, allot.CodeForbidden, seats.ErrForbidden},
		{"TransferSeatsNoRole", nil, func(f *fixture) error { return second(f.seats("acme", "gus", "e1", 1, "r9")) }, allot.CodeForbidden, seats.ErrForbidden},
		{"TransferSeatsOrganizer", nil, func(f *fixture) error { return second(f.seats("acme", organizer, "e1", 1, "r9")) }, allot.CodeForbidden, seats.ErrForbidden},
		{"TransferSeatsVendor", nil, func(f *fixture) error { return second(f.seats("acme", "billing", "e1", 1, "r9")) }, allot.CodeForbidden, seats.ErrForbidden},
		{"TransferModuleNoRole", nil, func(f *fixture) error { return second(f.module("acme", "bob", "e1", "polls", "r9")) }, allot.CodeForbidden, seats.ErrForbidden},
		{"OverviewNoRole", nil, func(f *fixture) error {
			return second(f.svc.Overview(f.ctx, seats.OverviewParams{Org: "acme", Actor: "gus"}))
		}, allot.CodeForbidden, seats.ErrForbidden},
		{"OverviewTableNoRole", nil, func(f *fixture) error {
			return second(f.svc.OverviewTable(f.ctx, seats.OverviewParams{Org: "acme", Actor: "gus"}))
		}, allot.CodeForbidden, seats.ErrForbidden},
		{"HistoryNoRole", nil, func(f *fixture) error { return history(f, seats.HistoryParams{Actor: "gus"}) }, allot.CodeForbidden, seats.ErrForbidden},
		{"HistoryTableNoRole", nil, func(f *fixture) error {
			return second(f.svc.HistoryTable(f.ctx, seats.HistoryParams{Org: "acme", Actor: "gus"}))
		}, allot.CodeForbidden, seats.ErrForbidden},
		{"EventsNoRole", nil, func(f *fixture) error { return eventsPage(f, seats.EventsParams{Actor: organizer}) }, allot.CodeForbidden, seats.ErrForbidden},
		{"EventsTableNoRole", nil, func(f *fixture) error {
			return second(f.svc.EventsTable(f.ctx, seats.EventsParams{Org: "acme", Actor: "gus"}))
		}, allot.CodeForbidden, seats.ErrForbidden},

		// already_exists: the ID is taken by a record with other contents.
		{"CreateEventOtherDetails", nil, func(f *fixture) error {
			return createEvent(f, seats.CreateEventParams{Actor: organizer, ID: "e1", Org: "acme", Name: "Other", Start: start, End: start.Add(time.Hour)})
		}, allot.CodeAlreadyExists, seats.ErrEventExists},
		{"TransferModuleTwice", func(f *fixture) { f.must(second(f.module("acme", "ana", "e1", "polls", "r8"))) }, func(f *fixture) error {
			return second(f.module("acme", "ana", "e1", "polls", "r9"))
		}, allot.CodeAlreadyExists, seats.ErrModuleAlreadyAssigned},

		// insufficient: not enough in the pool, or no pool at all.
		{"TransferSeatsShort", nil, func(f *fixture) error { return second(f.seats("acme", "ana", "e1", 11, "r9")) }, allot.CodeInsufficient, seats.ErrInsufficient},
		{"TransferModuleShort", func(f *fixture) {
			f.must(second(f.module("acme", "ana", "e1", "polls", "r7")))
			f.must(second(f.module("acme", "ana", "e0", "polls", "r8")))
		}, func(f *fixture) error {
			return second(f.module("acme", "ana", "e9", "polls", "r9"))
		}, allot.CodeInsufficient, seats.ErrInsufficient},
		{"TransferShortLedgerRefuses", nil, func(f *fixture) error {
			svc := f.hooked(func(tx seats.Tx) seats.Tx { return driftedTx{tx, 100} })
			return second(svc.TransferSeats(f.ctx, seats.TransferSeatsParams{Org: "acme", Actor: "ana", Event: "e1", Quantity: 11, RequestID: "r9"}))
		}, allot.CodeInsufficient, seats.ErrInsufficient},
		{"TransferModuleNoPool", nil, func(f *fixture) error { return second(f.module("acme", "ana", "e1", "qna", "r9")) }, allot.CodeInsufficient, seats.ErrNoPool},
		{"TransferSeatsNoPool", nil, func(f *fixture) error {
			f.roles.Grant("initech", "ivy", seats.EntitlementManager)
			return second(f.seats("initech", "ivy", "e1", 1, "r9"))
		}, allot.CodeInsufficient, seats.ErrNoPool},

		// request_reused: the organization's request ID was used for another request.
		{"PurchaseReused", nil, func(f *fixture) error { return purchase(f, "acme", seats.Seats, 11, "sub-acme", "billing", "p1") }, allot.CodeRequestReused, seats.ErrRequestReused},
		{"TransferSeatsReused", func(f *fixture) { f.must(second(f.seats("acme", "ana", "e1", 1, "r9"))) }, func(f *fixture) error {
			return second(f.seats("acme", "ana", "e1", 2, "r9"))
		}, allot.CodeRequestReused, seats.ErrRequestReused},
		{"TransferReusesPurchaseID", nil, func(f *fixture) error { return second(f.seats("acme", "ana", "e1", 1, "p1")) }, allot.CodeRequestReused, seats.ErrRequestReused},
		{"TransferModuleReused", func(f *fixture) { f.must(second(f.module("acme", "ana", "e1", "polls", "r9"))) }, func(f *fixture) error {
			return second(f.module("acme", "ana", "e0", "polls", "r9"))
		}, allot.CodeRequestReused, seats.ErrRequestReused},
		{"RequestTakenConcurrently", func(f *fixture) { f.must(second(f.module("acme", "ana", "e1", "polls", "r9"))) }, func(f *fixture) error {
			// The transfer of the module took r9's ID; this one does not see it.
			svc := f.hooked(func(tx seats.Tx) seats.Tx { return uncommittedTx{tx, []ledger.TransferID{"seats/acme/req/r9"}} })
			return second(svc.TransferSeats(f.ctx, seats.TransferSeatsParams{Org: "acme", Actor: "ana", Event: "e1", Quantity: 1, RequestID: "r9"}))
		}, allot.CodeRequestReused, seats.ErrRequestReused},

		// internal: a failure that is not the caller's.
		{"RolesFail", nil, func(f *fixture) error {
			svc, err := seats.New(f.ms.Seats(), &seats.Options{Clock: f.clock, Roles: failingRoles{}})
			f.must(err)
			return second(svc.TransferSeats(f.ctx, seats.TransferSeatsParams{Org: "acme", Actor: "ana", Event: "e1", Quantity: 1, RequestID: "r9"}))
		}, allot.CodeInternal, nil},
		{"WriteCSVWriterFails", nil, func(f *fixture) error {
			tb, err := f.svc.OverviewTable(f.ctx, seats.OverviewParams{Org: "acme", Actor: "ana"})
			f.must(err)
			return table.WriteCSV(failingWriter{}, tb)
		}, allot.CodeInternal, nil},
	}
	statuses := map[string]int{
		allot.CodeInvalid: http.StatusBadRequest, allot.CodeNotFound: http.StatusNotFound, allot.CodeForbidden: http.StatusForbidden,
		allot.CodeAlreadyExists: http.StatusConflict, allot.CodeInsufficient: http.StatusConflict, allot.CodeRequestReused: http.StatusConflict,
		allot.CodeInternal: http.StatusInternalServerError,
	}
	hit := map[error]bool{}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			f := standard(t)
			if r.setup != nil {
				r.setup(f)
			}
			before := f.snapshot()
			err := r.do(f)
			checkCoded(t, err, r.code, statuses[r.code], r.sentinel)
			if r.code == allot.CodeForbidden {
				var fe *allot.ForbiddenError
				if !errors.As(err, &fe) || fe.Org != "acme" || fe.Actor == "" || fe.Action == "" || len(fe.Need) == 0 {
					t.Errorf("%v: want an *allot.ForbiddenError naming the organization, actor, act and roles", err)
				}
			}
			if r.code == allot.CodeInvalid {
				var ie *seats.InvalidError
				if !errors.As(err, &ie) || ie.Field == "" {
					t.Errorf("%v: want an *InvalidError naming the field", err)
				}
			}
			f.unchanged(before)
		})
		hit[r.sentinel] = true
	}
	// Every sentinel is provoked above.
	for _, s := range []error{
		seats.ErrForbidden, seats.ErrUnknownEvent, seats.ErrEventExists, seats.ErrNoPool,
		seats.ErrInsufficient, seats.ErrModuleAlreadyAssigned, seats.ErrRequestReused, seats.ErrInvalid,
	} {
		if !hit[s] {
			t.Errorf("no row provokes %v", s)
		}
	}
}

// Each sentinel and typed error has the code of its situation, whatever
// wraps it.
func TestSeats_SentinelCodes(t *testing.T) {
	for _, tc := range []struct {
		err  error
		code string
	}{
		{seats.ErrForbidden, allot.CodeForbidden},
		{&allot.ForbiddenError{Org: "acme", Actor: "bob", Action: "transfer seats", Need: []allot.Role{seats.EntitlementManager}}, allot.CodeForbidden},
		{seats.ErrUnknownEvent, allot.CodeNotFound},
		{&seats.UnknownEventError{Org: "acme", Event: "x"}, allot.CodeNotFound},
		{seats.ErrEventExists, allot.CodeAlreadyExists},
		{seats.ErrNoPool, allot.CodeInsufficient},
		{&seats.NoPoolError{Org: "acme", Product: seats.Seats}, allot.CodeInsufficient},
		{seats.ErrInsufficient, allot.CodeInsufficient},
		{&seats.InsufficientError{Org: "acme", Product: seats.Seats, Available: 1, Requested: 2}, allot.CodeInsufficient},
		{seats.ErrModuleAlreadyAssigned, allot.CodeAlreadyExists},
		{&seats.ModuleAlreadyAssignedError{Event: "x", Module: "polls"}, allot.CodeAlreadyExists},
		{seats.ErrRequestReused, allot.CodeRequestReused},
		{&seats.RequestReusedError{Org: "acme", RequestID: "r1"}, allot.CodeRequestReused},
		{seats.ErrInvalid, allot.CodeInvalid},
		{&seats.InvalidError{Field: "Org", Reason: "empty"}, allot.CodeInvalid},
	} {
		wrapped := errors.Join(errors.New("context"), tc.err)
		if got := allot.ErrorCode(wrapped); got != tc.code {
			t.Errorf("ErrorCode(%v) = %q, want %q", tc.err, got, tc.code)
		}
	}
}

// failingStore fails every transaction, as a store whose disk broke.
type failingStore struct{}

func (failingStore) InTx(context.Context, func(seats.Tx) error) error {
	return errors.New("disk on fire")
}

type failingWriter struct{}

func (failingWriter) Write([]byte) (int, error) { return 0, errors.New("pipe closed") }

// calls runs every exported call of svc that opens a transaction, each with
// valid input, and returns their errors by name.
func calls(ctx context.Context, svc *seats.Service) map[string]error {
	errs := map[string]error{}
	errs["Purchase"] = second(svc.Purchase(ctx, seats.PurchaseParams{Org: "acme", Product: seats.Seats, Quantity: 1, Subscription: "s", Actor: "billing", RequestID: "p9"}))
	errs["CreateEvent"] = second(svc.CreateEvent(ctx, seats.CreateEventParams{Actor: organizer, ID: "x", Org: "acme", Start: start, End: start.Add(time.Hour)}))
	errs["Event"] = second(svc.Event(ctx, seats.EventParams{Org: "acme", Actor: organizer, ID: "e1"}))
	errs["SetParticipants"] = second(svc.SetParticipants(ctx, seats.SetParticipantsParams{Org: "acme", Actor: organizer, Event: "e1", Participants: 9}))
	errs["SetModules"] = second(svc.SetModules(ctx, seats.SetModulesParams{Org: "acme", Actor: organizer, Event: "e1", Modules: []string{"qna"}}))
	errs["TransferSeats"] = second(svc.TransferSeats(ctx, seats.TransferSeatsParams{Org: "acme", Actor: "ana", Event: "e1", Quantity: 1, RequestID: "r9"}))
	errs["TransferModule"] = second(svc.TransferModule(ctx, seats.TransferModuleParams{Org: "acme", Actor: "ana", Event: "e1", Module: "polls", RequestID: "r9"}))
	errs["CheckConsumption"] = second(svc.CheckConsumption(ctx, seats.CheckConsumptionParams{Org: "acme", Actor: allot.SystemActor}))
	errs["Overview"] = second(svc.Overview(ctx, seats.OverviewParams{Org: "acme", Actor: "ana"}))
	errs["OverviewTable.Rows"] = writeCSV(svc.OverviewTable(ctx, seats.OverviewParams{Org: "acme", Actor: "ana"}))
	errs["HistoryPage"] = second(svc.HistoryPage(ctx, seats.HistoryParams{Org: "acme", Actor: "ana"}))
	errs["HistoryTable.Rows"] = writeCSV(svc.HistoryTable(ctx, seats.HistoryParams{Org: "acme", Actor: "ana"}))
	errs["EventsPage"] = second(svc.EventsPage(ctx, seats.EventsParams{Org: "acme", Actor: "ana"}))
	errs["EventsTable.Rows"] = writeCSV(svc.EventsTable(ctx, seats.EventsParams{Org: "acme", Actor: "ana"}))
	errs["Audit"] = second(svc.Audit(ctx, "acme"))
	return errs
}

// A store that fails gives every call's error the code internal, with the
// store's error reachable.
func TestSeats_StoreFailureIsInternal(t *testing.T) {
	f := standard(t)
	svc, err := seats.New(failingStore{}, &seats.Options{Clock: f.clock, Roles: f.roles})
	f.must(err)
	for name, err := range calls(f.ctx, svc) {
		t.Run(name, func(t *testing.T) {
			checkCoded(t, err, allot.CodeInternal, http.StatusInternalServerError, nil)
			if !strings.Contains(err.Error(), "disk on fire") {
				t.Errorf("%v: want the store's error in the message", err)
			}
		})
	}
}

// A cancelled context gives every call's error the code canceled, and a
// passed deadline timeout.
func TestSeats_ContextErrors(t *testing.T) {
	f := standard(t)
	cancelled, cancel := context.WithCancel(f.ctx)
	cancel()
	expired, cancel2 := context.WithDeadline(f.ctx, time.Now().Add(-time.Second))
	defer cancel2()
	for _, tc := range []struct {
		ctx    context.Context
		code   string
		status int
		is     error
	}{
		{cancelled, allot.CodeCanceled, 499, context.Canceled},
		{expired, allot.CodeTimeout, http.StatusGatewayTimeout, context.DeadlineExceeded},
	} {
		for name, err := range calls(tc.ctx, f.svc) {
			t.Run(tc.code+"/"+name, func(t *testing.T) {
				checkCoded(t, err, tc.code, tc.status, tc.is)
			})
		}
	}
}

func purchase(f *fixture, org string, p seats.Product, n int64, sub, actor, req string) error {
	return second(f.svc.Purchase(f.ctx, seats.PurchaseParams{Org: org, Product: p, Quantity: n, Subscription: sub, Actor: actor, RequestID: req}))
}

func createEvent(f *fixture, n seats.CreateEventParams) error {
	return second(f.svc.CreateEvent(f.ctx, n))
}

// history and events read acme's as ana unless q says otherwise.
func history(f *fixture, q seats.HistoryParams) error {
	q.Org = "acme"
	if q.Actor == "" {
		q.Actor = "ana"
	}
	return second(f.svc.HistoryPage(f.ctx, q))
}

func eventsPage(f *fixture, q seats.EventsParams) error {
	q.Org = "acme"
	if q.Actor == "" {
		q.Actor = "ana"
	}
	return second(f.svc.EventsPage(f.ctx, q))
}

// writeCSV writes the table made by a Table method, returning the error of
// either.
func writeCSV(tb table.Table, err error) error {
	if err != nil {
		return err
	}
	var buf bytes.Buffer
	return table.WriteCSV(&buf, tb)
}

// strayHuge posts to acme's seat pool, behind the service's back, an
// amount no count holds.
func strayHuge(f *fixture) {
	f.t.Helper()
	f.must(f.ms.Seats().InTx(f.ctx, func(tx seats.Tx) error {
		huge := decimal.NewFromInt(math.MaxInt64).Add(decimal.NewFromInt(2))
		_, err := ledger.NewBook(tx, start).Post(f.ctx, ledger.Transfer{ID: "stray", Debit: "seats/acme/purchases/seat", Credit: "seats/acme/pool/seat", Amount: huge})
		return err
	}))
}
