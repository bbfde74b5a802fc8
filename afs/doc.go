// Package afs is a distributed file service in the style of AFS: clients
// cache whole files, and the server keeps their caches right with
// callbacks. It is small on purpose, to show the trade every cache
// protocol makes: a few messages per write buy fresh reads.
//
//	client ──Files.Fetch, Files.Store──▶ Server
//	client ◀────────Callback.Break────── Server   (the client is the rpc server here)
//
// # The model
//
// A file is a name, its whole contents and a version, which grows with
// every store. A Client (AFS's Venus) opens a file from its cache when it
// has a copy, with no message at all, and fetches it from the Server
// otherwise. With callbacks on, every fetch comes with a promise: the
// server will call the client back (Callback.Break) before a store of
// that file returns, and the client then drops its copy, so its next open
// fetches the new version. A write replaces the whole file on the server,
// as closing a written file does in AFS.
//
// # What is guaranteed, and what is not
//
//   - With callbacks on, and every callback delivered, an open never
//     returns a version older than the last store that had returned when
//     the open began.
//   - A callback that cannot be delivered (the client is unreachable for
//     Config.CallbackTimeout) is counted (ServerStats.Unreachable) and the
//     store goes on: that client may read its old copy until it fetches
//     again. Real AFS bounds this with callback lifetimes, and a client
//     that lost touch with its server checks its copies; this package
//     only counts it.
//   - A fetch's reply and a callback for a later store travel on different
//     connections, so the callback may arrive first; the client then does
//     not cache the older version the fetch brings.
//   - With callbacks off, cached copies are used for ever.
//
// AFS promises fresh data at open time only: a file already open is not
// refreshed, and writes reach the server at close.
//
// # Walkthrough
//
//	srv := afs.NewServer(files, afs.Config{Callbacks: true, Dial: dialClient})
//	rs := rpc.NewServer()
//	srv.Register(rs)                      // "Files.Fetch", "Files.Store"
//	go rs.Serve(serverListener)
//
//	alice := afs.NewClient("alice", rpcClientToServer)
//	cs := rpc.NewServer()
//	alice.Register(cs)                    // "Callback.Break", for the server to call
//	go cs.Serve(aliceListener)            // dialClient("alice") must reach it
//
//	f, hit, err := alice.Open(ctx, "notes.txt")   // fetched (hit false), then cached
//	f, hit, err = alice.Open(ctx, "notes.txt")    // hit true: no message
package afs
