// Package reliable builds reliable, ordered message connections on top of
// UDP, which guarantees none of that: a protocol of the family of CMU's Live
// Sequence Protocol (LSP), written to be read. Dial and Listen return a
// transport.Conn and a transport.Listener, so package rpc, and everything
// above it, runs over it unchanged; one UDP socket on the listener's side
// serves every connection.
//
// # What it promises
//
// Below a connection, datagrams may be lost, duplicated, delayed, overtaken
// by later ones, corrupted or cut short. Above it, every message sent
// arrives exactly once, whole, and in the order sent; or the connection
// fails, and says so: Send and Recv return ErrPeerLost when nothing has been
// heard from the peer for Config.EpochLimit epochs, that is between
// EpochLimit×EpochLength and (EpochLimit+1)×EpochLength after the last
// packet heard (5 to 5.5 s with the defaults), and Recv returns first every
// message that arrived before. A peer's Close is read as io.EOF after its
// last message, and Close itself does not return before the peer has
// acknowledged what was sent (waiting at most Config.Linger): messages are
// not lost to a peer that is alive and reading.
//
// It does not promise more than that. The checksum catches accidents, not
// attackers: there is no encryption and no authentication.
//
// # The protocol
//
// A connection starts with a handshake. The dialer sends CONNECT with a
// random nonce naming this attempt; the listener makes a connection, gives
// it a random 64-bit connection ID, and answers ACCEPT with the ID and the
// nonce. Each side also announces its initial sequence number, its window,
// and its largest packet and message. After that every packet carries the
// connection ID, so the listener tells its connections apart, and a packet
// from an earlier connection (a delayed copy, or a peer that crashed and
// restarted on the same address) never reaches a newer one. A restarted
// peer dials again, with a new nonce, and gets a new connection. The
// dialer acknowledges the ACCEPT at once, which completes the handshake
// (until then the listener counts the connection as half-open).
//
// Messages are cut into segments of at most SegmentSize bytes, each with a
// sequence number, and a packet carries as many segments as fit in it, so
// small messages share a packet and a large one spans several. Every packet
// starts with a CRC-32C checksum of the rest: a corrupted or truncated
// datagram fails it and is dropped, exactly as if it were lost.
//
//	dialer                                          listener
//	  │ CONNECT nonce=N isn=1000                        │
//	  │────────────────────────────────────────────────>│ new connection, ID 7
//	  │                     ACCEPT id=7 nonce=N isn=500 │
//	  │<────────────────────────────────────────────────│
//	  │ DATA id=7 ack=500 [1000 "hi"]                   │
//	  │────────────────────────────────────────────────>│ Recv: "hi"
//	  │ DATA id=7 ack=500 [1001 "wor" left=1]           │
//	  │─────────────────────────X lost                  │
//	  │ DATA id=7 ack=500 [1002 "ld" left=0]            │
//	  │────────────────────────────────────────────────>│ 1001 missing: keep 1002
//	  │            ACK id=7 ack=1001 sack=[1002,1003) │
//	  │<────────────────────────────────────────────────│
//	  │ 1002, sent after 1001, arrived: 1001 is lost    │
//	  │ DATA id=7 ack=500 [1001 "wor" left=1]           │
//	  │────────────────────────────────────────────────>│ Recv: "world"
//	  │                               ACK id=7 ack=1003 │
//	  │<────────────────────────────────────────────────│
//	  ┆ an epoch with nothing to say                    ┆
//	  │ ACK id=7 ack=500  (a heartbeat)                 │
//	  │────────────────────────────────────────────────>│ the dialer is alive
//	  │ Close: DATA id=7 ack=500 [1003 FIN]             │
//	  │────────────────────────────────────────────────>│ Recv: io.EOF
//	  │                               ACK id=7 ack=1004 │
//	  │<────────────────────────────────────────────────│ Close returns
//
// What each packet carries (all integers big-endian; packet.go has the
// byte layout):
//
//	every packet  checksum, version, type, connection ID
//	CONNECT       nonce, initial sequence number, packet size, window, max message
//	ACCEPT        the same, for the listener's side, with the nonce echoed
//	DATA          ack, window, SACK ranges, then segments:
//	              sequence number, FIN flag, fragments left, length, bytes
//	ACK           ack, window, SACK ranges (no segments); also the heartbeat
//	RESET         nothing more: "I have no connection with this ID"
//	REFUSE        the nonce of a CONNECT the listener will not take
//
// How the faults of the network are handled:
//
//   - Loss. The receiver acknowledges what it has: ack says every segment
//     before it arrived (cumulative), and up to 255 SACK ranges name the
//     ones that arrived above it (selective). The sender keeps each segment
//     until it is acknowledged. When a segment sent after another is
//     acknowledged and the other is not, a round trip and a quarter later,
//     the other is lost, and sent again at once (the idea of RACK, RFC 8985);
//     that repairs nearly every loss within a round trip. "After" is by
//     time of sending: a segment sent again and acknowledged shows every
//     segment sent before it, and not acknowledged, lost. The last segments
//     of a flight have nothing after them: when nothing is acknowledged for
//     two round trips, one more segment goes as a probe (a tail loss probe,
//     as in TCP), and its acknowledgement shows what before it is missing.
//     If nothing at all is acknowledged for a retransmission timeout (the
//     measured round-trip time plus four deviations, as in TCP), the
//     oldest segment is sent again as a probe, and the timeout doubles
//     each time it expires in a row, up to Config.MaxBackOffInterval. The
//     probe's acknowledgement then finds the rest of a lost flight, a round
//     trip and a quarter later (its acknowledgement may be the original's,
//     from a receiver only late: the rest of the flight would show up
//     meanwhile); and if the flight had arrived (only the
//     acknowledgements were late), nothing more is sent again. Such a
//     spurious timeout is counted in Stats.SpuriousTimeouts: on a loopback
//     interface, where nothing is lost, a busy machine that keeps the
//     receiver from running for longer than the timeout (a few
//     milliseconds) causes all of them.
//   - Duplication. A segment whose sequence number was seen already is
//     dropped, and counted in Stats.Duplicates. Its arrival is still
//     acknowledged: it usually means our acknowledgement was lost.
//   - Reordering. A segment that arrives early waits in the receive window
//     until the ones before it arrive; only then are messages delivered,
//     in order. A fragment is glued to its message only in its turn.
//   - Corruption and truncation. The checksum fails and the datagram is
//     dropped: it becomes a loss, repaired as above.
//   - A silent peer. Time is cut into epochs of Config.EpochLength. A side
//     that sent nothing during an epoch sends an ACK as a heartbeat; a side
//     that heard nothing during Config.EpochLimit epochs in a row declares
//     the peer lost.
//   - A forgotten connection. A packet for a connection ID the socket does
//     not know (closed, or from before a restart) is answered with RESET,
//     and its sender fails with ErrPeerReset at once instead of waiting for
//     the epochs to run out. (A connection closed after its peer's FIN is
//     remembered for a while, and answered differently: see Closing.)
//
// The windows. A sender keeps at most Config.WindowSize segments between
// the oldest unacknowledged one and the newest sent, and at most
// Config.MaxUnackedMessages unacknowledged, as LSP does. The receiver holds
// at most WindowSize segments, counting those that arrived early and the
// messages nobody has read yet (and the fragments of one message beyond
// that, see below), and advertises the room left in every acknowledgement:
// a Recv that falls behind slows the sender down instead of being flooded,
// and Send blocks once WindowSize more segments wait. The window's far edge
// never moves back: a message's segments count against the window when it
// is complete, but its first fragments had already moved the edge on, and
// the sender may have filled it; a window that shrank would drop what was
// sent within it in good faith (TCP forbids it for that reason). A sender
// facing a closed window sends one segment beyond it after a
// retransmission timeout (a window probe, as TCP does), so a lost window
// update costs a timeout, not an epoch.
//
// Limits. A listener faces dialers it does not know, and bounds what they
// can make it hold. A connection holds at most WindowSize × SegmentSize
// bytes of segments that arrived early and messages not yet read (a
// segment carries at most SegmentSize bytes; a datagram claiming more is
// dropped as malformed), plus the message being reassembled, which grows
// as its fragments arrive (a first fragment announcing 16 MiB costs a few
// KiB) up to MaxMessageSize. A listener keeps at most
// Config.MaxConnections connections, and refuses a CONNECT beyond that with
// REFUSE, so the dialer fails at once with ErrRefused; and at most
// MaxHalfOpen half-open ones, whose dialer has not answered the ACCEPT
// (more CONNECTs are ignored until one completes or, after two silent
// epochs, is dropped), so a flood of CONNECTs from forged addresses holds
// a bounded number of sessions, briefly.
//
// Closing. Close sends a FIN segment after the last message. The peer reads
// io.EOF after the messages before it, and Close returns when the FIN is
// acknowledged (so everything before it was received), or the peer has
// closed too, or Config.Linger has passed (then a RESET tells the peer to
// stop waiting in turn). Unlike KCP, whose peers learn of a close only by
// timing out, the peer knows at once.
//
// The end that closes second, after the peer's FIN, has nothing left to
// wait for: its Close returns at once, after one last acknowledgement. But
// that acknowledgement may be lost. Then the first end sends its FIN again,
// to a connection that no longer exists, and a RESET in answer would make
// its Close fail although everything arrived: the "last ACK" problem. As
// TCP does in its TIME-WAIT state, the socket keeps a small record of a
// connection closed after its peer's FIN (the connection ID, the peer's
// address and the final acknowledgement) and answers the peer's DATA with
// that acknowledgement instead of a RESET:
//
//	first to close                           second to close
//	  │ DATA id=7 ack=500 [1003 "bye"] [1004 FIN]       │
//	  │────────────────────────────────────────────────>│ Recv: "bye", io.EOF
//	  │                               ACK id=7 ack=1005 │ Close returns at once;
//	  │                X────────────────────────────────│ record: 7, peer, 1005
//	  │ a timeout later, the same again                 │
//	  │ DATA id=7 ack=500 [1003 "bye"] [1004 FIN]       │
//	  │────────────────────────────────────────────────>│ no conn 7, but a record
//	  │                               ACK id=7 ack=1005 │
//	  │<────────────────────────────────────────────────│
//	  │ Close returns nil                               │
//
// A record lasts the peer-lost bound, (EpochLimit+1)×EpochLength (5.5 s
// with the defaults): by then a peer that heard nothing from us has given
// up too. Only DATA from the peer's address is answered; a heartbeat is
// not (two closed ends would answer each other's answers), and after the
// record expires the connection is forgotten as any other. Records cost
// no goroutine and no timer: expired ones are dropped as new ones are made
// and as packets for unknown connections arrive. A socket keeps at most
// 4096 (a server closing more than that within the bound drops the oldest
// early), and they go with the socket when it closes. So a dialer, whose
// socket closes with its connection, keeps none: if it closes second and
// its last acknowledgement is lost, the listener's end hears nothing more,
// neither ACK nor RESET, and its Close returns nil when Linger runs out.
//
// # Congestion control
//
// The windows above protect the receiver. Nothing in them protects the
// network: between two machines there are routers, each with a queue in
// front of a link, and a link carries only so many bytes a second. A sender
// that puts more in flight than the path holds (its bandwidth times the
// round trip, the bandwidth-delay product or BDP) fills the queues; a full
// queue drops what arrives. The sender repairs the losses by sending
// again, which fills the queue again: the link stays busy carrying copies
// that will be dropped, and the goodput (new bytes delivered per second)
// collapses. TestCongestionControlKeepsGoodputNearLinkRate shows it on a
// simulated 2 MB/s link with a 32 KB queue: with a window of 4096 segments
// (5.6 MB) and nothing else, goodput falls to a fifth of the link, and
// the sender sends each segment thirty times.
//
// Congestion control is the sender guessing how much the path holds, with
// a second window, the congestion window (cwnd, in bytes), and sending at
// most that much at once. It learns from the only signal the network gives:
// loss. This package does what TCP Reno does, with one refinement:
//
//	slow start             cwnd starts at ten packets and grows by what
//	                       each ACK acknowledges: it doubles every round trip
//	first loss             the path is full: remember half of cwnd (ssthresh)
//	congestion avoidance   above ssthresh, grow by one packet per round trip
//	                       (additive increase) ...
//	each later loss        ... and halve (multiplicative decrease): AIMD
//	timeout                nothing acknowledged at all: start again from one
//	                       packet (undone if the late ACKs show the timeout
//	                       was spurious)
//
// So cwnd saws up and down around what the path holds, and connections
// sharing a link converge on equal shares: additive increase moves them
// towards fairness, multiplicative decrease keeps the total in check.
//
// The refinement is TCP Westwood's: a loss does not cut cwnd below the
// path's measured BDP, the best delivery rate seen over the last round
// trips (bytes acknowledged per second) times the shortest round trip seen.
// A loss from a full queue comes when the round trip has grown (the queue
// adds delay) and the window exceeds what the path carries; cwnd falls to
// the BDP, the queue drains, and the link stays busy. A loss from a bad
// link (radio noise, or a simulation dropping one packet in a hundred at
// random) comes with no queue, and plain halving would starve the
// connection for nothing; the BDP floor keeps its window. On the same
// 2 MB/s link with 1% random loss besides, goodput stays above 90% of the
// link.
//
// cwnd counts bytes, in units of a full datagram (1400 bytes, or 64 KB on
// loopback), because queues hold and drop datagrams, whatever number of
// messages they carry. Config.FixedWindow turns congestion control off:
// then the sender keeps its whole window in flight, as LSP and KCP's fast
// mode do, which is fastest on a loopback interface or a private LAN, and
// floods any shared link.
//
// # The code
//
// The protocol is a state machine with no goroutine, no socket and no
// clock, in the style of etcd's raft: session (session.go, flush.go) is one
// end of a connection, made of a sender (sender.go, with its loss
// detection in loss.go, its timers in timers.go and its congestion control
// in congestion.go) and a receiver (receiver.go); it is fed packets and
// the time, and says what to send.
// Tests drive it packet by packet. The driver around it is thin: a socket
// (socket.go) owns the UDP socket and one goroutine reading it, and routes
// each packet to its Conn (conn.go), whose one goroutine ticks the timers
// and writes what the session wants sent; it also keeps the records of
// closed connections (timewait.go). Listener and Dial set them up.
//
// # Walkthrough
//
// An echo server, and a client that talks to it:
//
//	l, _ := reliable.Listen("127.0.0.1:0", reliable.Config{})
//	defer l.Close()
//	go func() {
//		c, _ := l.Accept(ctx)
//		defer c.Close()
//		for {
//			msg, err := c.Recv(ctx)
//			if err != nil {
//				return // io.EOF once the client has closed
//			}
//			c.Send(ctx, msg)
//		}
//	}()
//	c, _ := reliable.Dial(ctx, l.Addr().String(), reliable.Config{})
//	c.Send(ctx, []byte("hello"))
//	reply, _ := c.Recv(ctx) // "hello"
//	c.Close()               // returns once the server has everything
//
// To watch it repair a bad network, hand it sockets wrapped in
// transport.NewFaultyPacketConn (DialPacket, ListenPacket), and read
// Conn.Stats. Over a simulated network, pass transport/netsim's packet
// sockets the same way.
package reliable
