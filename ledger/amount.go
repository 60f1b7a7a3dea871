package ledger

import "github.com/shopspring/decimal"

// Balances change on every write, and each change makes a new decimal. The
// amounts of one unit share an exponent and nearly always have fewer than
// 19 digits, so sum and diff add their coefficients as int64s and make the
// result directly, without big-number arithmetic; anything else goes the
// general way. The result is the same either way.

// sum returns a + b.
func sum(a, b decimal.Decimal) decimal.Decimal {
	if small(a, b) {
		return decimal.New(a.CoefficientInt64()+b.CoefficientInt64(), a.Exponent())
	}
	return a.Add(b)
}

// diff returns a - b.
func diff(a, b decimal.Decimal) decimal.Decimal {
	if small(a, b) {
		return decimal.New(a.CoefficientInt64()-b.CoefficientInt64(), a.Exponent())
	}
	return a.Sub(b)
}

// small reports whether a and b share an exponent and have at most 18
// digits each, so their sum and difference fit in an int64.
func small(a, b decimal.Decimal) bool {
	return a.Exponent() == b.Exponent() && a.NumDigits() <= 18 && b.NumDigits() <= 18
}
