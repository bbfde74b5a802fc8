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
//	        (full: drop)            (dial on demand; after a failure,
//	                                 drop until retryAt, then dial again)
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
		conn    transport.Conn
		buf     []byte
		retryAt time.Time // no dialing before then
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
		if conn == nil {
			if time.Now().Before(retryAt) {
				p.dropped.Add(1)
				continue
			}
			dctx, cancel := context.WithTimeout(ctx, p.timeout)
			c, err := d.Dial(dctx, p.addr)
			cancel()
			if err != nil {
				p.dialErrors.Add(1)
				p.dropped.Add(1)
				retryAt = time.Now().Add(p.timeout)
				continue
			}
			conn = c
		}
		buf = AppendMessage(buf[:0], m)
		sctx, cancel := context.WithTimeout(ctx, p.timeout)
		err := conn.Send(sctx, buf)
		cancel()
		if err != nil {
			p.sendErrors.Add(1)
			p.dropped.Add(1)
			_ = conn.Close()
			conn = nil
			continue
		}
		p.sent.Add(1)
	}
}
