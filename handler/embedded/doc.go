// Package embedded holds the no-Azure default stores, all in one bbolt file: the Table store
// here, and (in sibling files) the durable queue and the blob store. It is what the binary
// uses standalone, on a laptop or in CI, and the reference the Azure adapters are tested
// against: its semantics are those of nimbus.Table exactly, proven by handler/storetest.
//
// Layout of the file: one top-level bucket per store ("tables", later "queues", "blobs"), so
// the stores never share keys. Code that is not an embedded store does not belong here, and
// nothing here may import the Azure SDK or net/http.
package embedded
