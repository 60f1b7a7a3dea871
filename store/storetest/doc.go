// Package storetest is the storage contract of allot written as tests. Every
// store must pass Run: memstore and pgxstore do, and so must any store a user
// writes for another database.
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) storetest.Store { return mystore.New(...) })
//	}
//
// Run checks every sentinel error the interfaces promise, rollback on error
// and panic, copy safety of everything handed in and out, the ordering and
// filters of listings, decimal and time round trips, and concurrency: many
// goroutines on one hot account lose no update and never overdraw it, and one
// transfer ID posted at once from many goroutines has one effect.
package storetest
