package ledger

import (
	"fmt"
	"math/big"
	"time"

	"github.com/allot-dev/allot/internal/input"
	"github.com/shopspring/decimal"
)

// The limits of what the ledger accepts. Every store keeps everything within
// them exactly, so the ledger refuses the rest with ErrInvalid before
// anything is written, whichever store is underneath: both stores accept and
// refuse the same inputs.
//
//   - IDs (accounts, transfers, holds, unit codes): 1 to MaxIDLength bytes
//     of valid UTF-8 without NUL; owners the same, at most MaxOwnerLength
//     bytes, and may be empty.
//   - Codes, actors and metadata keys and values: valid UTF-8 without NUL.
//   - Amounts: below MaxAmount in magnitude, within their unit's scale.
//   - Times (the clock's now, hold expiries, BalanceAt and History bounds):
//     between MinTime and MaxTime, years 1 to 9999 UTC.
const (
	// MaxIDLength is the longest ID, in bytes: room for the IDs the
	// families derive from several caller IDs, escaped.
	MaxIDLength = 2048
	// MaxOwnerLength is the longest owner, in bytes. Stores index accounts
	// by owner and ID together, and an index entry must fit in a fraction
	// of a database page.
	MaxOwnerLength = 256
)

var (
	// MaxAmount bounds amounts: every amount is below it in magnitude
	// (10^38, the precision of SQL's DECIMAL(38)).
	MaxAmount = decimal.New(1, 38)
	// MinTime is the earliest time the ledger accepts: the start of year 1 UTC.
	MinTime = input.MinTime
	// MaxTime is the latest time the ledger accepts: the last microsecond of
	// year 9999 UTC.
	MaxTime = input.MaxTime
)

// checkID refuses an ID no store can keep as given.
func checkID(field, id string) error {
	return checkIDLen(field, id, MaxIDLength)
}

func checkIDLen(field, id string, max int) error {
	switch {
	case id == "":
		return invalid(field, "empty")
	case len(id) > max:
		return invalid(field, "%d bytes, more than %d", len(id), max)
	}
	if r := input.Text(id); r != "" {
		return invalid(field, "%q %s", id, r)
	}
	return nil
}

// checkText refuses free text no store can keep as given.
func checkText(field, s string) error {
	if r := input.Text(s); r != "" {
		return invalid(field, "%q %s", s, r)
	}
	return nil
}

func checkMetadata(m map[string]string) error {
	if r := input.Metadata(m); r != "" {
		return invalid("Metadata", "%s", r)
	}
	return nil
}

// maxAmountAt[k] is MaxAmount written with exponent -k: comparing an amount
// with the limit of its own exponent allocates nothing, and every amount a
// unit accepts has an exponent in -MaxScale..0.
var maxAmountAt = func() (m [MaxScale + 1]decimal.Decimal) {
	for k := range m {
		coef := new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(38+k)), nil)
		m[k] = decimal.NewFromBigInt(coef, int32(-k))
	}
	return m
}()

func checkAmount(a decimal.Decimal) error {
	if a.Sign() <= 0 {
		return invalid("Amount", "%s is not positive", a)
	}
	limit := MaxAmount
	if e := a.Exponent(); e <= 0 && e >= -MaxScale {
		limit = maxAmountAt[-e]
	}
	if a.Cmp(limit) >= 0 {
		return invalid("Amount", "%s is not below %s", a, MaxAmount)
	}
	return nil
}

// checkTime refuses a time outside [MinTime, MaxTime].
func checkTime(field string, t time.Time) error {
	if r := input.Time(t); r != "" {
		return invalid(field, "%s", r)
	}
	return nil
}

// checkNow refuses to write at an instant no store can keep: a clock set
// beyond MaxTime, say.
func (b *Book) checkNow() error {
	if r := input.Time(b.now); r != "" {
		return fmt.Errorf("the clock reads %w", invalid("now", "%s", r))
	}
	return nil
}
