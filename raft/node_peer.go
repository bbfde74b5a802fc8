package raft

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/distsys-kit/distsys/transport"
)

// PeerStats counts what a Node did with the messages for one peer.
type PeerStats struct {
	Sent       uint64 // messages handed to the connection
	Dropped    uint64 // messages not sent: the outbox was full, or the peer unreachable
	DialErrors uint64 // failed attempts to connect
	SendErrors uint64 // sends that failed (the connection is then dropped and dialed again)
}

// peer sends the messages for one other server. The loop puts them in the
// outbox without ever waiting; the peer's goroutine dials, encodes and
// sends them. A slow or dead peer fills its own outbox, and what does not
// fit is dropped: Raft tolerates lost messages (it sends again what
// matters), while a loop that waited on one peer would stall the whole
// server.
//
//	loop ──enqueue──► [outbox] ──► goroutine ──Send──► conn ──► peer
//	        (full: drop)            (dial on demand; a failed send is
//	                                 tried once more on a new conn; after
//	                                 a failed dial, drop until retryAt)
//
// The goroutine takes what waits in the outbox in batches, and sends a
// batch under one deadline: a deadline per message cost a timer each,
// 14% of the CPU of a busy cluster.
type peer struct {
	id      uint64
	addr    string
	outbox  chan Message  // buffered, OutboxSize: a bound on the memory a stuck peer holds
	timeout time.Duration // for one dial or one batch of sends; also the wait before dialing again

	sent, dropped, dialErrors, sendErrors atomic.Uint64
}

func newPeer(id uint64, addr string, outboxSize int, timeout time.Duration) *peer {
	return &peer{id: id, addr: addr, outbox: make(chan Message, outboxSize), timeout: timeout}
}

// enqueue queues m for sending, or drops it if the outbox is full. It
// never blocks.
func (p *peer) enqueue(m Message) {
	select {
	case p.outbox <- m:
	default:
		p.dropped.Add(1)
	}
}

func (p *peer) stats() PeerStats {
	return PeerStats{Sent: p.sent.Load(), Dropped: p.dropped.Load(),
		DialErrors: p.dialErrors.Load(), SendErrors: p.sendErrors.Load()}
}

// maxSendBatch is how many messages the peer takes from its outbox to
// send under one deadline.
const maxSendBatch = 64

// run sends the outbox's messages until ctx is cancelled.
func (p *peer) run(ctx context.Context, d transport.Dialer) {
	c := &peerConn{peer: p, dialer: d}
	defer c.close()
	batch := make([]Message, 0, maxSendBatch)
	for {
		select {
		case m := <-p.outbox:
			batch = append(batch[:0], m)
		case <-ctx.Done():
			return
		}
	more:
		for len(batch) < maxSendBatch {
			select {
			case m := <-p.outbox:
				batch = append(batch, m)
			default:
				break more
			}
		}
		sctx, cancel := context.WithTimeout(ctx, p.timeout)
		for i, m := range batch {
			c.send(sctx, m)
			batch[i] = Message{} // let its entries go
		}
		cancel()
	}
}

// peerConn is the peer goroutine's connection, dialed on demand.
type peerConn struct {
	*peer
	dialer   transport.Dialer
	conn     transport.Conn // nil: not connected
	buf      []byte         // the encoding of the message being sent
	retryAt  time.Time      // no dialing before then
	lastSent time.Time      // on conn
}

// send sends m, or drops it, within ctx.
func (c *peerConn) send(ctx context.Context, m Message) {
	c.buf = AppendMessage(c.buf[:0], m)
	// A connection idle for an election timeout may be stale: if the
	// peer restarted meanwhile, a send on it would vanish without an
	// error (as on TCP: the reset comes back only after it), and the
	// message lost could be the vote that ends an election. Such a
	// connection is replaced before it is used. Only followers' and
	// candidates' connections go idle: a leader's carry heartbeats.
	if c.conn != nil && time.Since(c.lastSent) > c.timeout {
		c.close()
	}
	// A send that fails on a connection that was up (the peer restarted,
	// and its new self reset the old connection) is tried once more on a
	// new one at once: waiting would cost a vote reply or an
	// acknowledgement, and an election timeout. Only a failed dial makes
	// the peer wait before dialing again.
	for range 2 {
		if c.conn == nil && !c.dial(ctx) {
			break
		}
		if err := c.conn.Send(ctx, c.buf); err != nil {
			c.sendErrors.Add(1)
			c.close()
			continue
		}
		c.lastSent = time.Now()
		c.sent.Add(1)
		return
	}
	c.dropped.Add(1)
}

// dial connects to the peer, unless a dial failed within the last
// timeout, and reports whether it is connected.
func (c *peerConn) dial(ctx context.Context) bool {
	if time.Now().Before(c.retryAt) {
		return false
	}
	dctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	conn, err := c.dialer.Dial(dctx, c.addr)
	if err != nil {
		c.dialErrors.Add(1)
		c.retryAt = time.Now().Add(c.timeout)
		return false
	}
	c.conn = conn
	return true
}

func (c *peerConn) close() {
	if c.conn != nil {
		_ = c.conn.Close()
		c.conn = nil
	}
}
