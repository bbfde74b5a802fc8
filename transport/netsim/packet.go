package netsim

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"time"

	"github.com/distsys-kit/distsys/transport"
)

// packetConn is a node's datagram socket: a net.PacketConn.
type packetConn struct {
	n        *Network
	id       uint64
	node     *node
	inc      uint64        // node's incarnation when it was opened
	readable chan struct{} // size 1: a datagram arrived
	stop     chan struct{} // closed when the packet conn closes
	rd, wd   *deadline

	// Guarded by n.mu:
	queue    fifo[datagram] // arrived, not yet read
	queued   int            // bytes in queue
	seq      uint64         // datagrams written
	closed   bool
	closeErr error
}

type datagram struct {
	from Addr
	b    []byte
}

var _ net.PacketConn = (*packetConn)(nil)

var errNoAddr = errors.New("netsim: no destination address")

// ListenPacket opens node's datagram socket, a net.PacketConn for
// unreliable datagrams between nodes, as UDP gives them: the link's
// faults, partitions and crashes apply as they do to conn messages, but
// there is no connection, no flow control and no end of stream.
//
//   - WriteTo(p, addr) sends p to the node named addr.String() (any
//     net.Addr will do, such as Addr("b")) and never blocks. It returns
//     len(p) and no error even if the datagram is then lost: to a node
//     with no packet conn, a full queue (Limits) or a full buffer
//     (WithPacketBuffer), a partition, a crash, or the faults. A datagram
//     over transport.MaxDatagramSize is refused with an error matching
//     transport.ErrMessageTooLarge.
//   - ReadFrom returns the next datagram that arrived and its sender's
//     Addr; if p is too short, the rest of the datagram is discarded, as
//     on Linux. Datagrams arrive in the order of their arrival times: on a
//     link with a fixed Delay and no Jitter, Reorder or Duplicate, in the
//     order they were sent.
//   - Deadlines work as net.PacketConn documents: a call past its deadline
//     fails with an error for which os.IsTimeout is true (a *net.OpError
//     wrapping os.ErrDeadlineExceeded), and a deadline set while ReadFrom
//     waits applies to it.
//   - Close unblocks ReadFrom with an error matching net.ErrClosed (and
//     transport.ErrClosed); Crash closes it with ErrCrashed.
//
// A node has at most one packet conn at a time (ErrAddrInUse); a datagram
// goes to whichever one its receiver has open when it arrives. The packet
// conn is safe for concurrent use.
func (n *Network) ListenPacket(node string) (net.PacketConn, error) {
	if err := checkNode(node); err != nil {
		return nil, err
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return nil, ErrNetworkClosed
	}
	nd := n.node(node)
	switch {
	case nd.crashed:
		return nil, fmt.Errorf("listen packet %s: %w", node, ErrCrashed)
	case nd.packet != nil:
		return nil, fmt.Errorf("listen packet %s: %w", node, ErrAddrInUse)
	}
	pc := &packetConn{
		n:        n,
		id:       n.nextConnID(),
		node:     nd,
		inc:      nd.incarnation,
		readable: make(chan struct{}, 1),
		stop:     make(chan struct{}),
		rd:       newDeadline(),
		wd:       newDeadline(),
	}
	nd.packet = pc
	return pc, nil
}

// ReadFrom reads the next datagram into p.
func (pc *packetConn) ReadFrom(p []byte) (int, net.Addr, error) {
	n := pc.n
	n.mu.Lock()
	for {
		if pc.closed {
			err := pc.closeErr
			n.mu.Unlock()
			return 0, nil, pc.opError("read", nil, err)
		}
		if pc.rd.isExpired() {
			n.mu.Unlock()
			return 0, nil, pc.opError("read", nil, os.ErrDeadlineExceeded)
		}
		if pc.queue.len() > 0 {
			d := pc.queue.pop()
			pc.queued -= len(d.b)
			if pc.queue.len() > 0 {
				signal(pc.readable) // for a concurrent ReadFrom
			}
			n.mu.Unlock()
			n.flush()
			return copy(p, d.b), d.from, nil
		}
		n.mu.Unlock()
		select {
		case <-pc.readable:
		case <-pc.rd.wait():
		case <-pc.stop:
		}
		n.mu.Lock()
	}
}

// WriteTo sends p as one datagram to the node addr names.
func (pc *packetConn) WriteTo(p []byte, addr net.Addr) (int, error) {
	if addr == nil {
		return 0, pc.opError("write", nil, errNoAddr)
	}
	to := addr.String()
	if to == "" {
		return 0, pc.opError("write", addr, ErrInvalidNode)
	}
	if len(p) > transport.MaxDatagramSize {
		err := fmt.Errorf("%w: %d bytes, a datagram holds %d", transport.ErrMessageTooLarge, len(p), transport.MaxDatagramSize)
		return 0, pc.opError("write", addr, err)
	}
	n := pc.n
	n.mu.Lock()
	if pc.closed {
		err := pc.closeErr
		n.mu.Unlock()
		return 0, pc.opError("write", addr, err)
	}
	if pc.wd.isExpired() {
		n.mu.Unlock()
		return 0, pc.opError("write", addr, os.ErrDeadlineExceeded)
	}
	pc.seq++
	it := item{kind: kindDatagram, link: n.link(pc.node.name, to), fromInc: pc.inc, srcID: pc.id, seq: pc.seq}
	n.transmit(it, bytes.Clone(p), time.Now())
	n.mu.Unlock()
	n.flush()
	return len(p), nil
}

// Close closes the packet conn: blocked and later calls fail with an error
// matching net.ErrClosed, and unread datagrams are discarded. It is
// idempotent and returns nil.
func (pc *packetConn) Close() error {
	n := pc.n
	n.mu.Lock()
	defer n.mu.Unlock()
	n.closePacket(pc, transport.ErrClosed)
	return nil
}

// closePacket closes pc with err. The caller holds n.mu.
func (n *Network) closePacket(pc *packetConn, err error) {
	if pc.closed {
		return
	}
	pc.closed = true
	pc.closeErr = err
	close(pc.stop)
	pc.queue.drain()
	pc.queued = 0
	if pc.node.packet == pc {
		pc.node.packet = nil
	}
	pc.rd.stop()
	pc.wd.stop()
}

// LocalAddr returns the address of the packet conn's node.
func (pc *packetConn) LocalAddr() net.Addr { return Addr(pc.node.name) }

// SetDeadline sets both the read and the write deadline.
func (pc *packetConn) SetDeadline(t time.Time) error {
	if err := pc.SetReadDeadline(t); err != nil {
		return err
	}
	return pc.SetWriteDeadline(t)
}

// SetReadDeadline sets the deadline of ReadFrom calls, including one in
// progress. A zero t means none.
func (pc *packetConn) SetReadDeadline(t time.Time) error {
	if err := pc.setErr(); err != nil {
		return err
	}
	pc.rd.set(t)
	return nil
}

// SetWriteDeadline sets the deadline of WriteTo calls. A zero t means
// none. (WriteTo never blocks, so the deadline only matters once passed.)
func (pc *packetConn) SetWriteDeadline(t time.Time) error {
	if err := pc.setErr(); err != nil {
		return err
	}
	pc.wd.set(t)
	return nil
}

func (pc *packetConn) setErr() error {
	pc.n.mu.Lock()
	defer pc.n.mu.Unlock()
	if pc.closed {
		return pc.opError("set", nil, pc.closeErr)
	}
	return nil
}

// opError wraps err as the net package does for sockets.
func (pc *packetConn) opError(op string, addr net.Addr, err error) error {
	return &net.OpError{Op: op, Net: "netsim", Source: pc.LocalAddr(), Addr: addr, Err: err}
}
