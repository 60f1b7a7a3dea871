// Package fastdecimal adds and subtracts the ledger's balances: the same
// results as decimal's Add and Sub, made faster for the common case.
package fastdecimal

import (
	"sync"

	"github.com/shopspring/decimal"
)

// Balances change on every write, and each change makes a new decimal. The
// amounts of one unit share an exponent and nearly always have fewer than
// 19 digits, so Sum and Diff add their coefficients as int64s and make the
// result directly, without big-number arithmetic; anything else goes the
// general way. The result is the same either way.

// Sum returns a + b.
func Sum(a, b decimal.Decimal) decimal.Decimal {
	if small(a, b) {
		return newDecimal(a.CoefficientInt64()+b.CoefficientInt64(), a.Exponent())
	}
	return a.Add(b)
}

// Diff returns a - b.
func Diff(a, b decimal.Decimal) decimal.Decimal {
	if small(a, b) {
		return newDecimal(a.CoefficientInt64()-b.CoefficientInt64(), a.Exponent())
	}
	return a.Sub(b)
}

// newDecimal returns coefficient × 10^exp. The small whole numbers that
// counts of seats, licenses and passes mostly are, and that holds and
// member accounts go back and forth between, are made once and shared: a
// decimal never changes once made, so sharing one is safe, as decimal.Zero
// is.
func newDecimal(coefficient int64, exp int32) decimal.Decimal {
	if exp == 0 && coefficient >= 0 && coefficient < numSmallInts {
		return smallInts()[coefficient]
	}
	return decimal.New(coefficient, exp)
}

const numSmallInts = 1024

var smallInts = sync.OnceValue(func() *[numSmallInts]decimal.Decimal {
	var t [numSmallInts]decimal.Decimal
	for i := range t {
		t[i] = decimal.New(int64(i), 0)
	}
	return &t
})

// small reports whether a and b share an exponent and have at most 18
// digits each, so their sum and difference fit in an int64.
func small(a, b decimal.Decimal) bool {
	return a.Exponent() == b.Exponent() && a.NumDigits() <= 18 && b.NumDigits() <= 18
}
