package fastdecimal

import (
	"math/big"
	"testing"

	"github.com/shopspring/decimal"
	"pgregory.net/rapid"
)

// TestSumDiff checks the int64 shortcut against decimal's own arithmetic,
// across exponents and at the edges of 18 and 19 digits.
func TestSumDiff(t *testing.T) {
	coefficient := rapid.OneOf(
		rapid.Int64Range(-1000, 1000),
		rapid.Int64Range(-999_999_999_999_999_999, 999_999_999_999_999_999),
		rapid.Int64(),
		rapid.SampledFrom([]int64{999_999_999_999_999_999, -999_999_999_999_999_999, 1_000_000_000_000_000_000, -1 << 63, 1<<63 - 1}),
	)
	amount := rapid.Custom(func(t *rapid.T) decimal.Decimal {
		c := coefficient.Draw(t, "coefficient")
		exp := rapid.Int32Range(-3, 0).Draw(t, "exp")
		if rapid.Bool().Draw(t, "big") {
			v := new(big.Int).Mul(big.NewInt(c), big.NewInt(1<<62))
			return decimal.NewFromBigInt(v, exp)
		}
		return decimal.New(c, exp)
	})
	rapid.Check(t, func(t *rapid.T) {
		a, b := amount.Draw(t, "a"), amount.Draw(t, "b")
		if got, want := Sum(a, b), a.Add(b); !got.Equal(want) {
			t.Fatalf("Sum(%s, %s) = %s, want %s", a, b, got, want)
		}
		if got, want := Diff(a, b), a.Sub(b); !got.Equal(want) {
			t.Fatalf("Diff(%s, %s) = %s, want %s", a, b, got, want)
		}
	})
}
