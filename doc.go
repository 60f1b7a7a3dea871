// Package allot encodes licensing rules and keeps their books exactly. It is
// a library: the service that embeds it owns the process, the database and
// the HTTP layer.
//
// The packages, in the one direction their imports flow:
//
//	(this package)   what every family shares: error codes, Roles and
//	                 StaticRoles, Page, Purchase
//	clock            the time seam: Clock, Real, Fake
//	table            the one export model and its CSV writer
//	events           the transactional outbox: envelopes, payloads, Reader
//	ledger           the double-entry kernel: accounts, transfers, holds,
//	                 balances at any time, journal, Verify; the Store/Tx contract
//	passes           pay per access: session passes and their usage log
//	seats            pooled seats and advanced modules transferred to events
//	xlsx             every family's tables as XLSX, a module of its own
//	licenses         an organization's license pool and each member's lifecycle
//	store/memstore   the in-memory store of every facet (the embedded default)
//	store/storetest  the conformance suite every store must pass
//	allottest        the test kit services import: harness, invariant
//	                 checks, request generators, faults, assertions
//	store/pgxstore   PostgreSQL, a module of its own
//	examples/...     runnable programs, each with a golden-output test;
//	                 examples/relay (outbox to NATS) is a module of its own
//
// Every unit that moves in passes, seats and licenses is a ledger transfer,
// committed in the same transaction as the domain's own records, so history,
// balances and exports come from one journal and always agree.
package allot
