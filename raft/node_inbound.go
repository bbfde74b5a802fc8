package raft

import (
	"context"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/distsys-kit/distsys/transport"
)

// inbound keeps the connections peers opened to this server: at most one
// per peer (a peer that reconnects, after a crash say, replaces its old
// connection, which may linger silently otherwise), and a bounded number
// not yet identified by a first valid message.
type inbound struct {
	mu     sync.Mutex // protects the fields below
	conns  map[transport.Conn]uint64
	byPeer map[uint64]transport.Conn
	max    int // connections at once
	closed bool

	bad atomic.Uint64 // messages that did not decode, or not from a peer to us
}

func newInbound(max int) *inbound {
	return &inbound{conns: make(map[transport.Conn]uint64), byPeer: make(map[uint64]transport.Conn), max: max}
}

// admit registers c, and reports false if there is no room for it.
func (in *inbound) admit(c transport.Conn) bool {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.closed || len(in.conns) >= in.max {
		return false
	}
	in.conns[c] = None
	return true
}

// identify records that c carries peer id's messages, closing the
// connection it replaces.
func (in *inbound) identify(c transport.Conn, id uint64) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.conns[c] == id {
		return
	}
	if old, ok := in.byPeer[id]; ok && old != c {
		_ = old.Close() // its reader exits and calls remove
	}
	in.conns[c], in.byPeer[id] = id, c
}

func (in *inbound) remove(c transport.Conn) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if id := in.conns[c]; id != None && in.byPeer[id] == c {
		delete(in.byPeer, id)
	}
	delete(in.conns, c)
}

// closeAll closes every connection, and admits no more.
func (in *inbound) closeAll() {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.closed = true
	for c := range in.conns {
		_ = c.Close()
	}
}

// acceptLoop accepts peers' connections until ctx is cancelled or the
// listener fails for good, each read by a goroutine of its own.
func (n *Node) acceptLoop(ctx context.Context) {
	for {
		c, err := n.listener.Accept(ctx)
		switch {
		case ctx.Err() != nil || errors.Is(err, net.ErrClosed):
			return
		case err != nil:
			// A passing failure (too many open files, say): wait a
			// moment rather than spin.
			select {
			case <-time.After(n.tick):
			case <-ctx.Done():
				return
			}
			continue
		}
		if !n.inbound.admit(c) {
			_ = c.Close()
			continue
		}
		n.wg.Go(func() { n.readLoop(ctx, c) }) // exits when ctx is cancelled or c fails
	}
}

// readLoop decodes c's messages and hands them to the loop. The first
// must come within an election timeout and be valid, or c is closed: a
// stranger cannot hold a connection slot. Later invalid ones are dropped
// and counted (a corrupted message is just another lost one).
func (n *Node) readLoop(ctx context.Context, c transport.Conn) {
	defer n.inbound.remove(c)
	defer c.Close()
	identified := false
	for {
		b, err := recvWithin(ctx, c, n.electionTimeout, !identified)
		if err != nil {
			return
		}
		m, err := DecodeMessage(b)
		if err != nil || m.To != n.id || n.peers[m.From] == nil {
			n.inbound.bad.Add(1)
			if !identified {
				return
			}
			continue
		}
		if !identified {
			n.inbound.identify(c, m.From)
			identified = true
		}
		select {
		case n.recvc <- m:
		case <-ctx.Done():
			return
		}
	}
}

// recvWithin receives from c, within timeout if limited.
func recvWithin(ctx context.Context, c transport.Conn, timeout time.Duration, limited bool) ([]byte, error) {
	if limited {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	return c.Recv(ctx)
}
