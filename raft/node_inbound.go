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
//
// Connections are kept by a record of their own (*inboundConn), never as
// map keys themselves: a transport.Conn is an interface, and one whose
// dynamic type is not comparable (a struct value holding a slice, say)
// would make a map operation panic.
type inbound struct {
	mu     sync.Mutex // protects the fields below
	conns  map[*inboundConn]struct{}
	byPeer map[uint64]*inboundConn
	max    int // connections at once
	closed bool

	bad atomic.Uint64 // messages that did not decode, or not from a peer to us
}

// inboundConn is one accepted connection, and the peer it carries
// messages from once it is identified (None until then). peer is
// protected by inbound.mu.
type inboundConn struct {
	conn transport.Conn
	peer uint64
}

func newInbound(max int) *inbound {
	return &inbound{conns: make(map[*inboundConn]struct{}), byPeer: make(map[uint64]*inboundConn), max: max}
}

// admit registers c and returns its record, or nil if there is no room
// for it.
func (in *inbound) admit(c transport.Conn) *inboundConn {
	in.mu.Lock()
	defer in.mu.Unlock()
	if in.closed || len(in.conns) >= in.max {
		return nil
	}
	ic := &inboundConn{conn: c, peer: None}
	in.conns[ic] = struct{}{}
	return ic
}

// identify records that ic carries peer id's messages, closing the
// connection it replaces.
func (in *inbound) identify(ic *inboundConn, id uint64) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if ic.peer == id {
		return
	}
	if old, ok := in.byPeer[id]; ok && old != ic {
		_ = old.conn.Close() // its reader exits and calls remove
	}
	ic.peer, in.byPeer[id] = id, ic
}

func (in *inbound) remove(ic *inboundConn) {
	in.mu.Lock()
	defer in.mu.Unlock()
	if ic.peer != None && in.byPeer[ic.peer] == ic {
		delete(in.byPeer, ic.peer)
	}
	delete(in.conns, ic)
}

// closeAll closes every connection, and admits no more.
func (in *inbound) closeAll() {
	in.mu.Lock()
	defer in.mu.Unlock()
	in.closed = true
	for ic := range in.conns {
		_ = ic.conn.Close()
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
		ic := n.inbound.admit(c)
		if ic == nil {
			_ = c.Close()
			continue
		}
		n.wg.Go(func() { n.readLoop(ctx, ic) }) // exits when ctx is cancelled or c fails
	}
}

// readLoop decodes c's messages and hands them to the loop. The first
// must come within an election timeout and be valid, or c is closed: a
// stranger cannot hold a connection slot. Later invalid ones are dropped
// and counted (a corrupted message is just another lost one).
func (n *Node) readLoop(ctx context.Context, ic *inboundConn) {
	c := ic.conn
	defer n.inbound.remove(ic)
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
			n.inbound.identify(ic, m.From)
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
