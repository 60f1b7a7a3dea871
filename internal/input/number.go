package input

import (
	"math"

	"github.com/shopspring/decimal"
)

// Add returns a+b, or false if the sum does not fit in an int64.
func Add(a, b int64) (int64, bool) {
	s := a + b
	if (b > 0 && s < a) || (b < 0 && s > a) {
		return 0, false
	}
	return s, true
}

var (
	minInt64 = decimal.NewFromInt(math.MinInt64)
	maxInt64 = decimal.NewFromInt(math.MaxInt64)
)

// Int64 returns d as an int64, or false if d is not a whole number or does
// not fit in one: a count read from the ledger is exact or refused, never
// wrapped or rounded.
func Int64(d decimal.Decimal) (int64, bool) {
	if d.Exponent() == 0 {
		if d.Cmp(maxInt64) > 0 || d.Cmp(minInt64) < 0 {
			return 0, false
		}
		return d.CoefficientInt64(), true
	}
	if !d.IsInteger() || d.Cmp(maxInt64) > 0 || d.Cmp(minInt64) < 0 {
		return 0, false
	}
	return d.IntPart(), true
}
