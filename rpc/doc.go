// Package rpc lets a program call methods of another program across a
// network, over any transport.Conn: TCP, TLS, reliable UDP or the
// simulator.
//
// # What an RPC is, and what it is not
//
// A remote procedure call looks like a function call:
//
//	err := c.Call(ctx, "KV.Get", &key, &reply)
//
// Underneath it is two messages: the client encodes the arguments into a
// request and sends it; the server decodes it, runs the method in a
// goroutine of its own, and sends back a reply that the client decodes
// into reply. That makes it unlike a local call in three ways that matter:
//
//   - Nothing is shared. Arguments and replies are copied through the
//     codec; a pointer in them points to a copy, and a handler that changes
//     its arguments changes its own copy. Fields that the codec cannot see
//     (unexported ones) do not cross at all, which is why Register refuses
//     types that have them.
//   - It can fail halfway. The request may be lost, or the reply; the
//     server may crash after running the method and before answering; the
//     network may be slow beyond any deadline. The caller sees the same
//     thing in every case: no reply. So an error, a timeout above all, does
//     not mean the call did not happen. It may have run, or may still be
//     running. Only the errors that say so (a *RemoteError refusal such as
//     ErrUnknownMethod, ErrUnauthenticated or ErrServerClosed) mean it did
//     not run.
//   - It is slow: tens of microseconds on one machine, milliseconds across
//     a network, against nanoseconds for a function call.
//
// # Serving and calling
//
// A server publishes the exported methods of a value, shaped as in net/rpc,
// with or without a context, or as in MIT's labrpc, with no error:
//
//	func (kv *KV) Get(ctx context.Context, key *string, reply *GetReply) error
//	func (kv *KV) Put(args *PutArgs, reply *struct{}) error
//	func (rf *Raft) RequestVote(args *RequestVoteArgs, reply *RequestVoteReply)
//
// so handlers written for net/rpc or labrpc port unchanged. So do net/rpc's
// calls, with a context added; labrpc's, whose Call returns a bool, port
// through ClientEnd, a labrpc-shaped view of a Client:
//
//	srv := rpc.NewServer()
//	srv.Register(kv)                // methods become "KV.Get", "KV.Put"
//	l, _ := transport.ListenTCP(":4000")
//	go srv.Serve(l)                 // returns ErrServerClosed after Close
//
//	c, _ := rpc.Dial(ctx, "host:4000")
//	err := c.Call(ctx, "KV.Get", &key, &reply)
//
//	end := rpc.NewClientEnd(c, time.Second) // labrpc's shape
//	ok := end.Call("Raft.RequestVote", &args, &vote)
//
// Options say what they configure by their type: a ServerOption goes to
// NewServer, a ClientOption to NewClient or Dial, a DialOption to Dial
// only, and an Option (WithCodec, WithErrors) to both sides, which must
// agree on it. One given where it does not apply does not compile.
//
// Any number of calls may be outstanding on one client, from any number of
// goroutines; they share one connection. Each call runs in its own
// goroutine on the server, so handlers must be safe for concurrent use, and
// two calls are ordered only if the caller waits for the first to return
// before making the second.
//
// A handler that panics does not take the server down, as it would with
// net/rpc: the server recovers the panic, logs it with its stack (to the
// logger given with WithLogger; none by default), and answers the call
// with a *RemoteError matching ErrHandlerPanicked that names the panic's
// value. Other calls go on being served.
//
// # Deadlines, cancellation and errors
//
// Call returns when the reply arrives or ctx ends, whichever is first,
// whatever the network does. A deadline on ctx travels with the request:
// the handler's context ends when the caller stops waiting (a little later,
// by the time the request spent in transit). Cancelling a ctx without a
// deadline only stops the waiting: the handler runs on, until it returns,
// the client closes (Client.Close tells the server, which cancels the
// client's running calls) or the connection breaks. A client that only
// stops sending (a TCP half-close) still gets the replies of its calls in
// flight, as with net/rpc. Abandoning a call does not disturb other calls
// on the same connection.
//
// Errors are for errors.Is and errors.As: ctx.Err() when the caller's
// context ended; ErrClosed after Client.Close; ErrConnLost when the
// connection failed with the call pending; ErrServerClosed when the server
// shut down; and *RemoteError when the server answered with an error: the
// handler's own, whose message survives, or a refusal that matches
// ErrUnknownService, ErrUnknownMethod, ErrBadRequest, ErrUnauthenticated
// and the like. A sentinel error that a service declares with WithErrors on
// both sides survives the wire: errors.Is(err, kv.ErrNoKey) works on the
// client.
//
// # What the network may do
//
// Over TCP (and TLS, and reliable UDP) requests and replies arrive whole,
// once, in order, or the connection fails and pending calls get
// ErrConnLost. Over a lossy transport (the simulator with faults, a
// FaultyConn) a message may be lost, delayed, reordered or duplicated. A
// lost request or reply leaves its call waiting until its context ends. A
// duplicated request runs the handler twice, unless the client uses
// WithRetry.
//
// # At most once
//
// With WithRetry, a client resends a call that gets no reply in time, and
// the server makes sure it runs at most once however many copies arrive.
// Each client has a random id and numbers its calls; the server keeps, per
// client, the calls it has run and their replies. A copy of a call that is
// running is dropped (its reply is on the way); a copy of a call that has
// finished is answered with the saved reply, without running the handler
// again. Each request also carries the lowest number the client is still
// waiting for, so the server forgets the replies the client has received,
// and refuses a late copy of a call it has forgotten. Since the server keeps
// every reply from that call on, a client starts no call more than
// RetryPolicy.Window calls after its oldest unfinished one: the new call
// waits, as a TCP sender waits for its window to open.
//
// At most once plus retries until a reply comes makes exactly once, as
// long as the caller keeps waiting and the server keeps running. When the
// caller gives up (its context ends), the call ran once or not at all, and
// the caller cannot tell which.
//
// The server's memory is not durable: a restarted server knows nothing of
// the calls its previous incarnation ran. So each server has a random
// epoch, which every reply carries and every request repeats. A client
// learns the epoch with its first call (which costs one extra round trip);
// a request that names another epoch is not run. If all its copies went to
// the new server, the client resends it at once and it runs; if one may
// have reached the old server, the call fails with ErrMaybeExecuted: it
// ran at most once, perhaps not at all, and was not run again. The memory
// is also bounded (WithReplyCache): a client forgotten to make room gets
// ErrMaybeExecuted the same way.
//
// An idle client (no call pending) gets through a graceful restart (Close
// or Shutdown, which tell clients to reconnect) without an error: its next
// call goes to the new server only. Not so after a crash: nobody tells the
// client its connection is dead, its next call goes out on it, and when
// the client resends on a new connection it cannot know whether the first
// copy reached the old server. That call fails with ErrMaybeExecuted
// (although here it never ran); the calls after it run normally.
//
// # Security
//
// Three mechanisms, which protect against different things:
//
//   - TLS (transport.ListenTCP with transport.WithTLS; Dial with
//     WithDialer(transport.NewTCPDialer(transport.WithTLS(cfg))))
//     encrypts the connection and authenticates the server to the client
//     with its certificate; with mutual TLS (client certificates), the
//     server authenticates clients too, and an unknown one cannot connect
//     at all. It protects against eavesdropping, tampering and replay on
//     the wire.
//   - Signed connections (serve on transport.NewSignedListener, dial
//     through transport.NewSignedDialer, with a key both sides hold) sign
//     every message with HMAC-SHA256. A message not signed with the key,
//     changed in flight, or recorded and replayed (on its connection or on
//     another) is refused before rpc sees it, and the connection ends:
//     calls fail with ErrConnLost wrapping transport.ErrUnauthenticated.
//     It protects against strangers, tampering and replay. It does not hide
//     anything: without TLS, anyone on the path reads the arguments. And
//     one key for everyone means no client can be told from another.
//   - WithAuth runs a function of yours on every call before the arguments
//     are decoded, and refuses the call if it returns an error: check a
//     token that clients put in the metadata, say. A token sent without TLS
//     can be read and reused by anyone on the path.
//
// None of them helps against a compromised peer: a client with a valid
// certificate, key or token can make any call a legitimate one can, and a
// compromised server can answer anything. Authentication says who is
// talking, not whether they mean well. Note also that gob is not hardened
// against hostile input: keep strangers away from the decoder with mutual
// TLS, signed connections or WithAuth, which all run before it.
//
// # Limits
//
// A server bounds what its clients, broken or hostile, can hold: at most
// WithMaxConns connections and WithMaxCalls calls running at once (beyond
// them, a client is refused with ErrServerBusy, at once and clearly, and
// nothing runs); a connection that carries nothing for WithIdleTimeout is
// closed, even one whose client sends a message one byte at a time; and a
// connection whose client reads none of its replies for WithStallTimeout
// is closed, letting go of the calls waiting to send them. Each limit has a
// default; see the options. A call without a deadline runs until its
// handler returns: give calls deadlines.
//
// # Seeing what happens
//
// Client and server interceptors (WithClientInterceptor,
// WithServerInterceptor) wrap every call, for logging, tracing or metrics,
// and may attach Metadata (small string maps) to the request and the reply.
// Server.Stats and Client.Stats count calls, errors, retries, duplicates and
// bytes, like labrpc's counters.
//
// # Reading the code
//
// call.go is a call from the caller's side, start to end: register,
// encode, send, wait, decode. serverconn.go is the server's side: read,
// dispatch, run the handler, reply. wire.go is the message format, and
// reflect.go the only use of reflection. At-most-once execution adds to
// both sides, each in a file of its own (atmostonce_client.go,
// atmostonce_server.go, replycache.go), entered on the client from call,
// and on the server from handle (and from refuseNew, which asks whether a
// call it would refuse is a copy of one that ran). limits.go bounds what
// clients can hold on a server.
package rpc
