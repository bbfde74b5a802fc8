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
// Errors are values, not strings: ErrNoKey, and for a refused PutIf a
// *ConflictError (which matches ErrConflict) carrying the version the key
// is at. They reach the client through the reply, not through rpc's
// error codes, so no rpc option is needed for errors.Is to work.
package kv
