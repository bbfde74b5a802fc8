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
type peer struct {
	id      uint64
	addr    string
	outbox  chan Message  // buffered, OutboxSize: a bound on the memory a stuck peer holds
	timeout time.Duration // for one dial or one send; also the wait before dialing again

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

// run sends the outbox's messages until ctx is cancelled.
func (p *peer) run(ctx context.Context, d transport.Dialer) {
	var (
		conn     transport.Conn
		buf      []byte
		retryAt  time.Time // no dialing before then
		lastSent time.Time // on conn
	)
	defer func() {
		if conn != nil {
			_ = conn.Close()
		}
	}()
	for {
		var m Message
		select {
		case m = <-p.outbox:
		case <-ctx.Done():
			return
		}
		buf = AppendMessage(buf[:0], m)
		// A connection idle for an election timeout may be stale: if the
		// peer restarted meanwhile, a send on it would vanish without an
		// error (as on TCP: the reset comes back only after it), and the
		// message lost could be the vote that ends an election. Such a
		// connection is replaced before it is used. Only followers' and
		// candidates' connections go idle: a leader's carry heartbeats.
		if conn != nil && time.Since(lastSent) > p.timeout {
			_ = conn.Close()
			conn = nil
		}
		// A send that fails on a connection that was up (the peer
		// restarted, and its new self reset the old connection) is tried
		// once more on a new one at once: waiting would cost a vote reply
		// or an acknowledgement, and an election timeout. Only a failed
		// dial makes the peer wait before dialing again.
		sent := false
		for attempt := 0; attempt < 2 && !sent; attempt++ {
			if conn == nil {
				if time.Now().Before(retryAt) {
					break
				}
				if conn = p.dial(ctx, d); conn == nil {
					retryAt = time.Now().Add(p.timeout)
					break
				}
			}
			sctx, cancel := context.WithTimeout(ctx, p.timeout)
			err := conn.Send(sctx, buf)
			cancel()
			if err != nil {
				p.sendErrors.Add(1)
				_ = conn.Close()
				conn = nil
				continue
			}
			sent, lastSent = true, time.Now()
		}
		if sent {
			p.sent.Add(1)
		} else {
			p.dropped.Add(1)
		}
	}
}

// dial connects to the peer within the peer's timeout, or returns nil.
func (p *peer) dial(ctx context.Context, d transport.Dialer) transport.Conn {
	dctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	c, err := d.Dial(dctx, p.addr)
	if err != nil {
		p.dialErrors.Add(1)
		return nil
	}
	return c
}
