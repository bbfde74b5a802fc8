// Package bench compares this library's raft with etcd raft and hashicorp
// raft, in a module of its own so that the library's module does not
// depend on them. It holds only benchmarks and the tests that check the
// benchmarked clusters commit; see README.md for what is measured and
// how to run it.
package bench
