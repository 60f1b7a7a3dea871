// Package memstore keeps allot's books in memory: the embedded default, and
// the reference every other store is compared against.
//
// A Store runs one transaction at a time under a single lock, so every run is
// trivially serializable, and keeps an undo log so a transaction that fails
// (or panics, or whose context is cancelled before it commits) leaves no
// trace. Waiting for the lock honours the context. Everything handed in or out
// is a copy.
//
// A Store is safe for concurrent use; a Tx belongs to the function it was
// handed to and must not be used after that function returns.
//
// Nothing is persisted: the books live as long as the Store value.
package memstore
