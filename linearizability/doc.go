// Package linearizability checks that a service behaved like one copy of
// its state, changed by one operation at a time, each taking effect at
// some instant between its call and its return (Herlihy and Wing, 1990).
// It records what clients did and asks porcupine
// (github.com/anishathalye/porcupine), the checker MIT 6.5840's labs
// use, whether some order of the operations explains every answer.
//
// The key-value model (KVModel) follows package kv's semantics: Get,
// Put, Append and a versioned PutIf, each write making the key's version
// one larger. It is partitioned by key: a history is linearizable if and
// only if the operations on each key are, which keeps the search small.
//
// The lock model (LockModel, recorded with a LockRecorder) checks a lock
// service and the fenced store its holders write to: every grant's
// fencing token is greater than every earlier grant's, and the store
// accepts exactly the writes whose tokens are not older than one it has
// accepted. Package lock's history tests use it.
//
// An operation that failed without an answer (a timeout, "maybe applied")
// may or may not have happened: it is recorded with an unknown output and
// a return time of "never", so the checker may place it anywhere after
// its call, or nowhere. A Get that failed is left out: it changed
// nothing.
//
//	rec := linearizability.NewRecorder()
//	c := rec.Client(clerk)                  // a KV that records every call
//	c.Put(ctx, "x", "1")
//	...
//	rec.Check(t, seed)                      // fails t if not linearizable,
//	                                        // and writes porcupine's HTML
//
// On failure, Check writes porcupine's visualisation of the longest
// partial linearizations to linearizability.html in the directory where
// trace.Recorder.WriteOnFailure puts the space-time diagram of the same
// test and seed, so the two sit side by side.
package linearizability
