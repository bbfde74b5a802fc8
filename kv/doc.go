// Package kv is a key-value service on one server: string keys, string
// values, and a version per key, served over package rpc. It is the
// first project of a distributed-systems course, done once, plainly, so
// that students can read it, use it, and build on it (a replicated
// key-value store puts the same Store behind consensus).
//
// # The model
//
// A Store maps keys to entries: a value and a version. A key that was
// never written has no entry (Get returns ErrNoKey). Every write of a key
// (Put, Append, PutIf) makes its version one larger; the first write
// makes it 1. Versions let a client do read-modify-write safely without
// a lock, by optimistic concurrency:
//
//	v, ver, err := c.Get(ctx, "n")         // read the value and its version
//	_, err = c.PutIf(ctx, "n", v+"!", ver) // write only if nobody wrote since
//	if errors.Is(err, kv.ErrConflict) {    // somebody did: read again, retry
//
// PutIf with version 0 creates a key that must not exist yet.
//
// # Guarantees
//
// The Store is linearizable: every operation takes effect at one instant
// between its call and its return, as if one at a time. Over the network,
// what a client sees depends on its rpc client. A request or a reply may
// be lost, delayed or duplicated; a client that resends a request whose
// reply was lost may run it twice. Get, Put and PutIf are safe to run
// twice (running Put twice leaves the same value; a repeated PutIf is
// refused by its own first run, which a client must be ready for). Append
// is not: run twice, it appends twice. Make the rpc client with
// rpc.WithRetry, which resends and has the server run each call at most
// once, and every operation is exactly once whatever the network does,
// as long as the server does not restart.
//
// The Store is in memory: it does not survive a restart of its process.
//
// # Limits
//
// A server that strangers can call must not let them fill its memory. So
// Register serves the Store within Limits: the longest key (MaxKeyLen,
// 1 KiB by default), the longest value (MaxValueLen, 1 MiB, counting the
// whole value an Append would make), how many keys (MaxKeys, 1 Mi) and
// how many bytes of keys and values the store holds (MaxBytes, 256 MiB).
// WithLimits changes them; a negative limit means none. A write that would
// go over a limit is refused and changes nothing; the client gets a
// *LimitError naming the limit, which matches ErrTooLarge (a key or value
// too long) or ErrFull (too many keys or bytes). Writes that do not grow
// the store, such as a shorter value for a key it holds, are never refused
// for being full. The Store's own methods, which a program calls on its
// own behalf, have no limits. The rpc server has limits of its own (how
// many connections and calls, the largest message, the reply cache): see
// package rpc.
//
//	kv.Register(srv, store, kv.WithLimits(kv.Limits{MaxKeys: 1000}))
//
// # Walkthrough
//
//	store := kv.NewStore()
//	srv := rpc.NewServer()
//	kv.Register(srv, store)                   // the service "KV"
//	go srv.Serve(listener)                    // any transport.Listener
//
//	rc, _ := rpc.Dial(ctx, addr, rpc.WithRetry(rpc.RetryPolicy{}))
//	c := kv.NewClient(rc)
//	c.Put(ctx, "greeting", "hello")           // version 1
//	c.Append(ctx, "greeting", ", world")      // version 2
//	v, ver, _ := c.Get(ctx, "greeting")       // "hello, world", 2
//
// Errors are values, not strings: ErrNoKey; for a refused PutIf a
// *ConflictError (which matches ErrConflict) carrying the version the key
// is at; for a write over the server's limits a *LimitError (matching
// ErrTooLarge or ErrFull). They reach the client through the reply, not
// through rpc's error codes, so no rpc option (rpc.WithErrors) is needed
// for errors.Is and errors.As to work.
package kv
