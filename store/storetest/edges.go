package storetest

import (
	"errors"
	"maps"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/allot-dev/allot/ledger"
	"github.com/google/go-cmp/cmp"
	"github.com/shopspring/decimal"
)

// testEdges checks that the store keeps, exactly, everything the ledger
// accepts at the edges of its limits (bytes, lengths, magnitudes, times),
// and that what the ledger refuses is refused with ErrInvalid before the
// store sees it: every store accepts and refuses the same inputs.
func testEdges(t *testing.T, newStore Factory) {
	t.Run("Accepted", func(t *testing.T) { testEdgesAccepted(t, newStore) })
	t.Run("Refused", func(t *testing.T) { testEdgesRefused(t, newStore) })
	t.Run("ClockOutOfRange", func(t *testing.T) { testEdgesClock(t, newStore) })
}

// longID is an ID of exactly ledger.MaxIDLength bytes, made of multi-byte
// characters and the characters derived IDs and SQL treat specially.
func longID(prefix string) string { return longString(prefix, ledger.MaxIDLength) }

// longString is such a string of exactly n bytes.
func longString(prefix string, n int) string {
	var b strings.Builder
	b.WriteString(prefix)
	for _, r := range strings.Repeat("é/%_'\"\\ü", n) {
		if b.Len()+utf8.RuneLen(r) > n {
			break
		}
		b.WriteRune(r)
	}
	for b.Len() < n {
		b.WriteByte('x')
	}
	return b.String()
}

func testEdgesAccepted(t *testing.T, newStore Factory) {
	f := newFixture(t, newStore)
	f.unit("whole", 0)
	f.unit("fine", ledger.MaxScale)
	owner := longString("owner", ledger.MaxOwnerLength)
	src, dst := ledger.AccountID(longID("src")), ledger.AccountID(longID("dst"))
	meta := map[string]string{
		"":                       "empty key",
		"quote\"'":               "back\\slash \\u0000 not a NUL",
		"ünïcödé ✓":              "日本語 🎟",
		"controls\x01":           "\x7f\u0085\u2028",
		"empty value":            "",
		strings.Repeat("k", 300): strings.Repeat("v", 10000),
	}
	for _, a := range []ledger.Account{
		{ID: src, Unit: "whole", Owner: owner, Metadata: meta},
		{ID: dst, Unit: "whole", Owner: owner, Flags: ledger.FlagNonNegative},
		{ID: "fine-src", Unit: "fine"},
		{ID: "fine-dst", Unit: "fine"},
	} {
		got, err := f.l.CreateAccount(f.ctx, a)
		if err != nil {
			t.Fatalf("CreateAccount(%.20q...): %v", a.ID, err)
		}
		back, err := f.l.Account(f.ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(got, back); diff != "" {
			t.Errorf("Account(%.20q...) differs from what CreateAccount returned (-create +read):\n%s", a.ID, diff)
		}
	}

	largest := ledger.MaxAmount.Sub(decimal.NewFromInt(1))
	smallest := decimal.New(1, -ledger.MaxScale)
	for _, tr := range []ledger.Transfer{
		{ID: ledger.TransferID(longID("t")), Debit: src, Credit: dst, Amount: largest,
			Code: strings.Repeat("code ", 2000), Actor: "Änn \"the\" 'actor' \\ 🎟", Metadata: meta},
		{ID: "fine", Debit: "fine-src", Credit: "fine-dst", Amount: smallest},
		{ID: "fine-large", Debit: "fine-src", Credit: "fine-dst", Amount: ledger.MaxAmount.Sub(smallest)},
	} {
		got, err := f.l.Post(f.ctx, tr)
		if err != nil {
			t.Fatalf("Post(%.20q...): %v", tr.ID, err)
		}
		back, err := f.l.Transfer(f.ctx, tr.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(got, back, cmpOpts); diff != "" {
			t.Errorf("Transfer(%.20q...) differs from what Post returned (-post +read):\n%s", tr.ID, diff)
		}
		// A retry is recognised as the same request, whatever its bytes.
		again, err := f.l.Post(f.ctx, tr)
		if err != nil || again.Seq != got.Seq {
			t.Errorf("Post(%.20q...) again = seq %d, %v; want the first transfer (seq %d)", tr.ID, again.Seq, err, got.Seq)
		}
	}
	f.wantBalance(dst, largest.String(), "0")
	f.wantBalance("fine-dst", ledger.MaxAmount.String(), "0")

	// The latest expiry every store keeps, and reads back the same.
	h := ledger.Hold{ID: ledger.TransferID(longID("h")), Debit: "fine-src", Credit: "fine-dst", Amount: smallest,
		ExpiresAt: ledger.MaxTime, Metadata: maps.Clone(meta)}
	got, err := f.l.CreateHold(f.ctx, h)
	if err != nil {
		t.Fatalf("CreateHold(expires at MaxTime): %v", err)
	}
	back, err := f.l.Hold(f.ctx, h.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(got, back, cmpOpts); diff != "" {
		t.Errorf("Hold differs from what CreateHold returned (-create +read):\n%s", diff)
	}
	if back.Status != ledger.HoldPending || !back.ExpiresAt.Equal(ledger.MaxTime) {
		t.Errorf("hold expiring at MaxTime reads %s, expiring %v", back.Status, back.ExpiresAt)
	}

	for _, at := range []time.Time{ledger.MinTime, time.Time{}, ledger.MaxTime} {
		bal, err := f.l.BalanceAt(f.ctx, dst, at)
		if err != nil {
			t.Errorf("BalanceAt(%v): %v", at, err)
			continue
		}
		want := decimal.Zero
		if at.Equal(ledger.MaxTime) {
			want = largest
		}
		if !bal.Equal(want) {
			t.Errorf("BalanceAt(%v) = %s, want %s", at, bal, want)
		}
	}
	page, err := f.l.History(f.ctx, ledger.HistoryParams{Account: dst, From: ledger.MinTime, To: ledger.MaxTime})
	if err != nil || len(page.Entries) != 1 {
		t.Errorf("History over every storable time = %d entries, %v; want 1", len(page.Entries), err)
	}
	f.verify()
}

func testEdgesRefused(t *testing.T, newStore Factory) {
	f := basic(t, newStore)
	f.post("fund", "issuer", "alice", "5")
	before := f.snapshot()
	tr := func(mod func(*ledger.Transfer)) ledger.Transfer {
		t := ledger.Transfer{ID: "x", Debit: "issuer", Credit: "alice", Amount: d("1")}
		mod(&t)
		return t
	}
	tooLong := strings.Repeat("x", ledger.MaxIDLength+1)
	far := time.Date(586580, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name string
		do   func() error
	}{
		{"NULInID", post(f, tr(func(t *ledger.Transfer) { t.ID = "x\x00y" }))},
		{"InvalidUTF8InID", post(f, tr(func(t *ledger.Transfer) { t.ID = "x\xffy" }))},
		{"IDTooLong", post(f, tr(func(t *ledger.Transfer) { t.ID = ledger.TransferID(tooLong) }))},
		{"NULInDebit", post(f, tr(func(t *ledger.Transfer) { t.Debit = "issuer\x00" }))},
		{"NULInCode", post(f, tr(func(t *ledger.Transfer) { t.Code = "a\x00" }))},
		{"InvalidUTF8InCode", post(f, tr(func(t *ledger.Transfer) { t.Code = "\xc3" }))},
		{"NULInActor", post(f, tr(func(t *ledger.Transfer) { t.Actor = "\x00" }))},
		{"InvalidUTF8InMetadataValue", post(f, tr(func(t *ledger.Transfer) { t.Metadata = map[string]string{"sub": "a\xffb"} }))},
		{"InvalidUTF8InMetadataKey", post(f, tr(func(t *ledger.Transfer) { t.Metadata = map[string]string{"\xfe": "v"} }))},
		{"NULInMetadata", post(f, tr(func(t *ledger.Transfer) { t.Metadata = map[string]string{"k": "\x00"} }))},
		{"AmountAtMax", post(f, tr(func(t *ledger.Transfer) { t.Amount = ledger.MaxAmount }))},
		{"AmountHuge", post(f, tr(func(t *ledger.Transfer) { t.Amount = decimal.New(1, 200000) }))},
		{"BatchWithNUL", func() error {
			res, err := f.l.PostBatch(f.ctx, []ledger.Transfer{tr(func(t *ledger.Transfer) { t.ID = "\x00" })})
			if err != nil {
				return err
			}
			return res[0].Err
		}},
		{"HoldExpiryBeyondMaxTime", func() error {
			_, err := f.l.CreateHold(f.ctx, ledger.Hold{ID: "h", Debit: "alice", Credit: "bob", Amount: d("1"), ExpiresAt: far})
			return err
		}},
		{"HoldExpiryJustBeyondMaxTime", func() error {
			_, err := f.l.CreateHold(f.ctx, ledger.Hold{ID: "h", Debit: "alice", Credit: "bob", Amount: d("1"), ExpiresAt: ledger.MaxTime.Add(time.Microsecond)})
			return err
		}},
		{"HoldWithNULInMetadata", func() error {
			_, err := f.l.CreateHold(f.ctx, ledger.Hold{ID: "h", Debit: "alice", Credit: "bob", Amount: d("1"), Metadata: map[string]string{"k": "\x00"}})
			return err
		}},
		{"PostHoldNULID", func() error { _, err := f.l.PostHold(f.ctx, "h\x00", d("1")); return err }},
		{"VoidHoldNULID", func() error { _, err := f.l.VoidHold(f.ctx, "h\x00"); return err }},
		{"AccountNULID", func() error {
			_, err := f.l.CreateAccount(f.ctx, ledger.Account{ID: "a\x00", Unit: "pass"})
			return err
		}},
		{"AccountIDTooLong", func() error {
			_, err := f.l.CreateAccount(f.ctx, ledger.Account{ID: ledger.AccountID(tooLong), Unit: "pass"})
			return err
		}},
		{"AccountOwnerTooLong", func() error {
			_, err := f.l.CreateAccount(f.ctx, ledger.Account{ID: "a", Unit: "pass", Owner: strings.Repeat("o", ledger.MaxOwnerLength+1)})
			return err
		}},
		{"AccountOwnerInvalidUTF8", func() error {
			_, err := f.l.CreateAccount(f.ctx, ledger.Account{ID: "a", Unit: "pass", Owner: "\xff"})
			return err
		}},
		{"AccountMetadataNUL", func() error {
			_, err := f.l.CreateAccount(f.ctx, ledger.Account{ID: "a", Unit: "pass", Metadata: map[string]string{"\x00": ""}})
			return err
		}},
		{"UnitCodeNUL", func() error { _, err := f.l.DefineUnit(f.ctx, ledger.Unit{Code: "u\x00"}); return err }},
		{"ReadAccountNUL", func() error { _, err := f.l.Account(f.ctx, "alice\x00"); return err }},
		{"ReadBalanceInvalidUTF8", func() error { _, err := f.l.Balance(f.ctx, "alice\xff"); return err }},
		{"ReadTransferNUL", func() error { _, err := f.l.Transfer(f.ctx, "fund\x00"); return err }},
		{"ReadHoldNUL", func() error { _, err := f.l.Hold(f.ctx, "\x00"); return err }},
		{"BalanceAtBeyondMaxTime", func() error { _, err := f.l.BalanceAt(f.ctx, "alice", far); return err }},
		{"BalanceAtBeforeMinTime", func() error {
			_, err := f.l.BalanceAt(f.ctx, "alice", ledger.MinTime.Add(-time.Microsecond))
			return err
		}},
		{"HistoryToBeyondMaxTime", func() error {
			_, err := f.l.History(f.ctx, ledger.HistoryParams{Account: "alice", To: far})
			return err
		}},
		{"HistoryAccountNUL", func() error {
			_, err := f.l.History(f.ctx, ledger.HistoryParams{Account: "\x00"})
			return err
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.do()
			if !errors.Is(err, ledger.ErrInvalid) {
				t.Errorf("got %v, want an error matching ErrInvalid", err)
			}
			f.unchanged(before)
		})
	}
}

func post(f *fixture, tr ledger.Transfer) func() error {
	return func() error { _, err := f.l.Post(f.ctx, tr); return err }
}

// testEdgesClock checks that a clock reading beyond what stores keep makes
// writes fail with ErrInvalid rather than store a wrapped time.
func testEdgesClock(t *testing.T, newStore Factory) {
	f := basic(t, newStore)
	f.post("fund", "issuer", "alice", "5")
	before := f.snapshot()
	f.clock.Set(time.Date(586580, 1, 1, 0, 0, 0, 0, time.UTC))
	for name, do := range map[string]func() error{
		"Post": post(f, ledger.Transfer{ID: "late", Debit: "issuer", Credit: "alice", Amount: d("1")}),
		"CreateHold": func() error {
			_, err := f.l.CreateHold(f.ctx, ledger.Hold{ID: "late", Debit: "alice", Credit: "bob", Amount: d("1")})
			return err
		},
		"CreateAccount": func() error { _, err := f.l.CreateAccount(f.ctx, ledger.Account{ID: "late", Unit: "pass"}); return err },
	} {
		if err := do(); !errors.Is(err, ledger.ErrInvalid) {
			t.Errorf("%s with the clock in year 586580: %v, want ErrInvalid", name, err)
		}
	}
	f.clock.Set(start)
	f.unchanged(before)
}
