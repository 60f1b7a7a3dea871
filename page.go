package allot

import "time"

// Page is one page of a listing, in every family: Items in the listing's
// order, and Next, the cursor that reads the following page; Next is empty
// on the last page. Every listing has a page call taking Cursor and Limit
// in its Params, and an iterator (an iter.Seq2) that reads every page from
// the given Cursor on.
type Page[T any] struct {
	Items []T
	Next  string
}

// Page sizes: a listing's Limit of zero reads DefaultLimit items; a Limit
// below zero or above MaxLimit is refused as invalid.
const (
	// DefaultLimit is how many items a listing with a zero Limit reads.
	DefaultLimit = 100
	// MaxLimit is the largest Limit a listing accepts.
	MaxLimit = 1000
)

// Purchase is what a vendor's purchase or reduction recorded, in every
// family: passes bought by a ThinkTank workspace, seats or a module bought
// by a SpotMe organization under a subscription, licenses added to or taken
// from a Powtoon organization. A retry of the request returns it again,
// unchanged.
type Purchase struct {
	Org          string
	Product      string // the unit bought: "pass", "seat", "module:<name>" or "license"
	Quantity     int64  // units added; negative for a reduction
	Subscription string // the subscription or order it was recorded under; may be empty
	Actor        string // the vendor's actor, in canonical form
	RequestID    string
	At           time.Time // when it was recorded, UTC
	// Purchased and Available are the organization's counts of Product
	// right after it: bought net of reductions, and free to use.
	Purchased int64
	Available int64
}
