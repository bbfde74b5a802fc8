// Package kvstore is the key-value service that cmd/kvserver serves and
// cmd/kvclient calls: the server logic of examples/kv (versioned entries,
// a non-idempotent Add made safe by at-most-once retries, a compare-and-set
// Put whose conflict error survives the wire), plus bounds for a server
// that faces a network. It is a stand-in until the reusable kv package
// lands, and keeps its method names and shapes.
//
// The store lives in memory: a restart loses it.
package kvstore
