package transport

import (
	"context"
	"errors"
	"net"
	"os"
	"sync"
	"time"
)

// NewNetConn returns a net.Conn whose byte stream is carried by the message
// Conn c, for code that wants a stream (a bufio.Scanner, an HTTP server, a
// TLS handshake over a simulated network). It is the reverse of NewConn.
//
// Each Write is sent as one message (split into several if it exceeds
// maxMessage; zero means DefaultMaxMessageSize). Read returns bytes of the
// current message and moves to the next when it is used up, so message
// boundaries are not visible to the reader, as on any stream. The stream is
// only as reliable as c: over a lossy Conn, bytes go missing.
//
// Deadlines work as net.Conn documents: a Read or Write past its deadline
// fails with an error for which os.IsTimeout is true, and a deadline set while
// a call is blocked applies to it. The returned conn owns c and closes it on
// Close. Read, like Recv, is for one reader at a time; Write is safe for
// concurrent use.
func NewNetConn(c Conn, maxMessage int) net.Conn {
	if maxMessage <= 0 {
		maxMessage = DefaultMaxMessageSize
	}
	return &netConn{c: c, max: maxMessage, rd: newDeadline(), wd: newDeadline()}
}

type netConn struct {
	c      Conn
	max    int
	rd, wd *deadline

	rmu  sync.Mutex // protects rest
	rest []byte     // unread bytes of the current message
}

var _ net.Conn = (*netConn)(nil)

func (n *netConn) Read(p []byte) (int, error) {
	n.rmu.Lock()
	defer n.rmu.Unlock()
	for len(n.rest) == 0 {
		msg, err := n.c.Recv(n.rd.context())
		if err != nil {
			return 0, n.mapErr(err)
		}
		n.rest = msg
	}
	k := copy(p, n.rest)
	n.rest = n.rest[k:]
	return k, nil
}

func (n *netConn) Write(p []byte) (int, error) {
	written := 0
	for written < len(p) {
		chunk := p[written:min(len(p), written+n.max)]
		if err := n.c.Send(n.wd.context(), chunk); err != nil {
			return written, n.mapErr(err)
		}
		written += len(chunk)
	}
	return written, nil
}

// Close closes the message Conn, which unblocks Read and Write, and stops
// the deadline timers.
func (n *netConn) Close() error {
	err := n.c.Close()
	n.rd.stop()
	n.wd.stop()
	return err
}

// mapErr reports a deadline that ended a call as os.ErrDeadlineExceeded,
// which satisfies net.Error with Timeout() == true.
func (n *netConn) mapErr(err error) error {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return os.ErrDeadlineExceeded
	}
	return err
}

func (n *netConn) LocalAddr() net.Addr                { return n.c.LocalAddr() }
func (n *netConn) RemoteAddr() net.Addr               { return n.c.RemoteAddr() }
func (n *netConn) SetReadDeadline(t time.Time) error  { n.rd.set(t); return nil }
func (n *netConn) SetWriteDeadline(t time.Time) error { n.wd.set(t); return nil }
func (n *netConn) SetDeadline(t time.Time) error {
	n.rd.set(t)
	n.wd.set(t)
	return nil
}

// deadline turns a net.Conn deadline into a context that is cancelled when
// the deadline passes. Moving the deadline later while a call waits extends
// that call's wait, as net.Pipe's deadlines do; once the context is
// cancelled, a later set starts a fresh one.
type deadline struct {
	mu     sync.Mutex // protects all fields
	ctx    context.Context
	cancel context.CancelFunc
	timer  *time.Timer
}

func newDeadline() *deadline {
	d := &deadline{}
	d.ctx, d.cancel = context.WithCancel(context.Background())
	return d
}

func (d *deadline) set(t time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	// If the old timer fired, or is firing, its cancel may not have run
	// yet: start a fresh context rather than keep one about to be
	// cancelled.
	fired := d.timer != nil && !d.timer.Stop()
	if fired || d.ctx.Err() != nil {
		d.ctx, d.cancel = context.WithCancel(context.Background())
	}
	d.timer = nil
	switch {
	case t.IsZero():
	case time.Until(t) <= 0:
		d.cancel()
	default:
		d.timer = time.AfterFunc(time.Until(t), d.cancel)
	}
}

func (d *deadline) context() context.Context {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.ctx
}

func (d *deadline) stop() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.timer != nil {
		d.timer.Stop()
	}
	d.cancel()
}
