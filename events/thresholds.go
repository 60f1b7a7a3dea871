package events

import (
	"iter"
	"math/bits"
)

// DefaultThresholds returns the thresholds a family watches when its
// Options.Thresholds is nil: 80 % and 100 % of a pool used.
func DefaultThresholds() []int { return []int{80, 100} }

// BadThreshold returns the first of ts outside 1 to 100 and true, or 0 and
// false when every one is a percent a pool can reach.
func BadThreshold(ts []int) (int, bool) {
	for _, t := range ts {
		if t < 1 || t > 100 {
			return t, true
		}
	}
	return 0, false
}

// Crossed yields a Threshold for each of ts that a pool's use crossed when
// it went from usedBefore of purchasedBefore to used of purchased: Up when
// the use reached the threshold, down when it fell below it. A pool with
// nothing purchased is 0 % used.
func Crossed(ts []int, product string, usedBefore, purchasedBefore, used, purchased int64) iter.Seq[Threshold] {
	return func(yield func(Threshold) bool) {
		for _, pc := range ts {
			was, is := over(usedBefore, purchasedBefore, pc), over(used, purchased, pc)
			if was == is {
				continue
			}
			if !yield(Threshold{Product: product, Percent: pc, Up: is, Used: used, Purchased: purchased}) {
				return
			}
		}
	}
}

// over reports whether used is at least percent % of purchased, computing
// used*100 >= percent*purchased in 128 bits so no count overflows.
func over(used, purchased int64, percent int) bool {
	if purchased <= 0 || used < 0 {
		return false
	}
	uh, ul := bits.Mul64(uint64(used), 100)
	ph, pl := bits.Mul64(uint64(purchased), uint64(percent))
	return uh > ph || uh == ph && ul >= pl
}
