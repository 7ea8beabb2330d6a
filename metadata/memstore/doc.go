// Package memstore is an in-memory metadata.Store for unit tests of other
// packages. It has the same semantics as the etcd store (package
// metadata/etcd): one store revision that every write advances, revisions
// on every value for compare-and-swap, watch events with values and
// reload-on-compaction, registrations that vanish on Close or when their
// context ends. Both pass the conformance suite in metadata/storetest.
//
// Beyond metadata.Store it offers what tests need to drive corner cases:
// Reopen (a new handle on the same data, as after a process restart),
// Compact (drop watch history, forcing watchers to reload) and ExpireAgent
// (simulate a lost lease).
//
// Nothing is persisted. A Store is safe for concurrent use.
package memstore
