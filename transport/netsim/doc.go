// Package netsim simulates a network of named nodes in memory, for tests and
// demos of distributed code: the same code that runs over TCP runs over it,
// and the test decides what the network does to its messages.
//
// A Network is made with a seed; nodes are named by strings, and a node's
// name is its address. Listen(node) gives a transport.Listener,
// Dial(ctx, from, to) a transport.Conn, Dialer(from) a transport.Dialer,
// and ListenPacket(node) a net.PacketConn for datagrams. Every network is
// independent of every other (no global knobs), so tests run in parallel.
//
// # What the network may do to a message
//
// Every message is copied when it is sent: nodes share no memory. Between
// the send and the receiver, the message crosses a link, one direction
// between two nodes (a -> b and b -> a are two links), and on the way it
// may be, according to the link's transport.Faults (SetFaults, or
// SetDefaultFaults for every link without its own):
//
//   - lost (Drop);
//   - delivered twice (Duplicate), the copies travelling independently;
//   - delayed (Delay, plus up to Jitter), and so overtaken by a later
//     message whose delay is shorter;
//   - held back to be overtaken on purpose (Reorder);
//   - changed in one byte (Corrupt), or cut short (Truncate).
//
// It is also lost if, when it is sent or when it would arrive, a
// Partition, a Disconnect or a cut link (CutLink) separates the two nodes, or either node has crashed
// (Crash) since it was sent; or if nothing is there to take it: a closed
// conn end, no packet conn, a full packet conn buffer or link queue. A
// link with Limits carries only so many bytes per second, so messages
// queue behind each other.
//
// That is all it may do. A message is never split or merged with another,
// never delivered to anyone but the node it was sent to, never changed
// except by Corrupt or Truncate, never delivered twice except by Duplicate,
// and never arrives before it was sent plus its delay. A link with no
// faults, partition or crash delivers every message, exactly once, whole
// and in order, after its Delay. The sender is never told that a message
// was lost, as on a real network; the counters (LinkStats, NodeStats) and
// the observer (WithObserver) are told, so a test can check that a fault
// really hit.
//
// Faults changes are atomic: a message meets the faults in force when it
// is sent, all of them or none, and keeps the fate it was given then (its
// delay, its copies); a partition or crash, by contrast, also catches the
// messages already in flight.
//
// # Conns and packet conns
//
// A conn (Dial and Accept) is a connection, as TCP gives one: dialing
// needs a listener (else ErrConnRefused); each end reads the other's
// messages in the order they arrive; Close sends an end-of-stream mark
// that arrives after the last message, so the peer reads everything and
// then io.EOF; a message that reaches a closed end is answered with a
// reset (ErrConnReset). A conn has flow control: a sender may have at most
// a window of bytes (WithWindow) on its way to, or unread at, the other
// end, so a slow reader slows its writer down; lost messages free their
// space at once. Messages are limited to WithMaxMessageSize bytes,
// 16 MiB by default. Unlike TCP, a conn does not retransmit: on a lossy
// link its messages are lost, duplicated and reordered like datagrams, as
// labrpc's are. Build reliability on top (package transport/reliable, or
// retries in package rpc) to see what it takes.
//
// A packet conn (ListenPacket) is a datagram socket, as UDP gives one: no
// connection and no flow control. WriteTo never blocks and never reports a
// loss; datagrams that find the receiver's buffer full (WithPacketBuffer)
// or the link's queue full (Limits) are dropped rather than held back; a
// datagram to a node with no packet conn vanishes. Datagrams are limited
// to transport.MaxDatagramSize bytes.
//
// # Crashes, partitions and what the other side sees
//
// Crash(node) is a power cut. The node's conns, listener and packet conn
// close at once (their calls fail with ErrCrashed, which matches
// net.ErrClosed), its unread messages are gone, and every message in
// flight to or from it is lost. Its peers are told nothing: their conns
// stay open, their Sends succeed and their Recvs wait until their context
// ends. That is the behaviour of a real machine that dies, and the reason
// distributed code needs timeouts: silence is all a crash looks like from
// outside. (A simulator that closed the peers' conns would teach that
// crashes announce themselves; they do not.) Restart(node) brings the node
// back with nothing open; a peer's next message to a conn of the old
// incarnation is answered with a reset, as a rebooted machine answers a
// connection it has forgotten.
//
// Partition(groups...) cuts the links between groups; Heal removes the
// cut. CutLink(from, to) cuts one direction of one link, so that from's
// messages are lost while to's still arrive; HealLink, or Heal, restores
// it. Disconnect(node) and Reconnect(node) cut one node off from all the
// others and back, as labrpc's Enable does. Conns across a cut stay open
// and silent, and Dials across it wait for the cut to heal or their
// context to end.
//
// # Reproducible faults, in virtual time
//
// Every random decision comes from the network's seed: each link draws
// from its own generator, seeded from the network's seed and the two node
// names, so the same seed and the same sequence of sends on a link give
// the same faults, whatever the other links do. LogSeedOnFailure(t) logs
// the seed of a failing test, to replay it.
//
// Delays use timers and time.Now, so inside a testing/synctest bubble they
// pass in virtual time: a test with seconds of simulated delay finishes in
// milliseconds, with no sleeps and no flakiness. Make the network inside
// the bubble.
//
// # Watching and steering a network
//
// An observer (WithObserver at NewNetwork, or Observe on a running
// network) sees every event, in order: what happened to each message
// (sent, duplicated, delivered, dropped and why) and each change of the
// network (a crash or restart, a partition or heal, a cut link, new
// faults or limits). State returns a snapshot of the nodes, links,
// partition and counters. Together they are what a diagram of the run
// (package trace/tracesim) or a live dashboard (package dashboard) is
// drawn from.
//
// Hold pauses deliveries: every copy that reaches the end of its link
// waits there, and Release(k) lets k of them land, oldest first, so a
// demo can step the network one message at a time, or run it in slow
// motion by releasing at a steady pace; Resume lets them all land and ends
// the hold. Everything else goes on meanwhile (senders, timers, faults),
// and a held copy meets the partition and crashes of the moment it lands.
//
// # Walkthrough
//
//	n := netsim.NewNetwork(1)
//	defer n.Close()
//	n.LogSeedOnFailure(t)
//	n.SetDefaultFaults(transport.Faults{Drop: 0.1, Delay: 5 * time.Millisecond})
//
//	l, _ := n.Listen("server")
//	go serve(l)                                  // any code that takes a transport.Listener
//	c, _ := n.Dial(ctx, "client", "server")      // or pass n.Dialer("client")
//	c.Send(ctx, []byte("hello"))
//
//	n.Partition([]string{"client"}, []string{"server"})
//	// ... the client's messages are lost, its Recv waits for its ctx ...
//	n.Heal()
//
//	n.Crash("server")                            // the server's conns and listener close
//	n.Restart("server")                          // it may Listen again
//
//	s := n.LinkStats("client", "server")         // s.Dropped > 0: the faults hit
//
// A Network's goroutine (one, delivering delayed messages) runs only while
// messages are in flight, and Close stops it; conns and packet conns start
// none.
package netsim
