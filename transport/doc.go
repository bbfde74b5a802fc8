// Package transport carries whole messages between programs, over TCP, TLS,
// UDP or anything else that moves bytes, and lets a test or a demo make the
// network misbehave on purpose.
//
// # One abstraction: a message connection
//
// Everything in distsys above this package speaks in messages, never in byte
// streams. A Conn sends and receives whole messages; a Listener accepts Conns;
// a Dialer opens them:
//
//	Send(ctx, msg) error          // queue one message; safe for concurrent use
//	Recv(ctx) ([]byte, error)     // the next whole message; one receiver at a time
//	Close() error                 // idempotent; unblocks Send and Recv
//
// A receiver that wants no allocation per message passes a buffer of its
// own to RecvInto, which stream conns fill instead of allocating.
//
// Every call that can block takes a context and returns ctx.Err() when it
// ends. Close unblocks everything blocked on the conn, with an error matching
// ErrClosed (and net.ErrClosed, so standard accept loops work).
//
// # What TCP promises, and what it does not
//
// TCP gives a reliable, ordered byte stream: every byte arrives once, in
// order, or the connection fails. It does not keep message boundaries: two
// writes of 10 bytes may be read as one read of 20, or as reads of 3 and 17.
// NewConn restores the boundaries with framing: each message travels as a
// 4-byte big-endian length and then its bytes. DialTCP and ListenTCP do this
// for TCP, and WithTLS adds encryption and authentication of the server (and,
// with client certificates, of the client). TCP does not promise delivery
// when the peer crashes or the network partitions: a message handed to Send
// may never arrive, and the sender learns it only from a later error, if at
// all. Messages larger than the connection's maximum are refused on both
// sides (WithMaxMessageSize), so a hostile peer cannot make us allocate
// gigabytes by announcing them; memory for a message is allocated as its
// bytes arrive, not when its length is announced; and a peer that stops in
// the middle of a message (or of a TLS handshake) is cut off after the
// read-progress timeout (WithReadProgressTimeout), so it cannot hold a
// conn's memory and goroutines for ever.
//
// # What UDP promises, and what it does not
//
// UDP gives datagrams: each arrives whole or not at all. Nothing else: a
// datagram may be lost, duplicated, delayed, or overtaken by a later one, and
// the sender is never told. Endpoint (ListenUDP) sends and receives raw
// datagrams; package transport/reliable builds ordered, exactly-once
// messages on top of them, the way TCP does on top of IP.
//
// # Faults as values
//
// A Faults value describes a bad network: probabilities of drop, duplicate,
// reorder, corrupt and truncate, a delay and a jitter, and a seed. It is a
// plain value, not a global setting: NewFaultyConn applies one to a Conn,
// NewFaultyPacketConn to a UDP socket, NewFaultyListener to every conn a
// server accepts, and package transport/netsim to a simulated link. Every
// random choice comes from the seed, so the same seed and the same sequence
// of sends give the same faults, and a failing test can be replayed. Each
// wrapper counts what its faults did (Stats), so a test can check that a
// fault really happened instead of passing by luck.
//
// # Walkthrough
//
// A TCP echo server and its client:
//
//	l, _ := transport.ListenTCP("127.0.0.1:0")
//	go func() {
//		c, _ := l.Accept(ctx)
//		for {
//			msg, err := c.Recv(ctx)
//			if err != nil {
//				return // io.EOF when the client hangs up
//			}
//			c.Send(ctx, msg)
//		}
//	}()
//	c, _ := transport.DialTCP(ctx, l.Addr().String())
//	c.Send(ctx, []byte("hello"))
//	reply, _ := c.Recv(ctx) // "hello"
//
// To see what a lossy network does to it, wrap the client's conn:
//
//	lossy, _ := transport.NewFaultyConn(c, transport.Faults{Drop: 0.2, Seed: 7})
//
// and one message in five vanishes, the same ones every run.
//
// NewNetConn goes the other way, presenting a message Conn as a net.Conn
// for code that wants a byte stream.
package transport
