package transport

import (
	"crypto/tls"
	"fmt"
	"net"
	"os"
	"sync"
	"time"
)

// A peer that begins a message owes us the rest of it. The read-progress
// timeout (WithReadProgressTimeout) is how long it may keep us waiting for
// the next byte; after that the conn is closed and Recv fails with
// ErrPeerStalled. The same holds for a TLS handshake. Between messages
// there is no limit: an idle conn is its user's business.

// watchProgress sets the read-progress deadline before a read in the middle
// of a frame (the peer owes us the rest: it has the timeout to send the
// next byte), and removes it before a read between frames (the peer owes us
// nothing). The caller holds rmu.
func (c *streamConn) watchProgress() {
	switch {
	case c.progress < 0:
	case c.fr.midFrame():
		c.watching = true
		c.rd.setProgress(time.Now().Add(c.progress))
	case c.watching:
		c.watching = false
		c.rd.setProgress(time.Time{})
	}
}

// handshake runs the TLS handshake, giving the peer the read-progress
// timeout to finish it: a peer that connects and says nothing must not
// hold the conn for ever. When time is up, the reason is recorded before nc
// is closed, so that Send and Recv, which fail as the handshake does,
// report it.
func (c *streamConn) handshake(tc *tls.Conn) error {
	if c.progress > 0 {
		fired := make(chan struct{})
		t := time.AfterFunc(c.progress, func() {
			defer close(fired)
			c.mu.Lock()
			c.werr = fmt.Errorf("%w: tls handshake not done in %v: %w", ErrPeerStalled, c.progress, os.ErrDeadlineExceeded)
			c.mu.Unlock()
			_ = c.nc.Close()
		})
		defer func() {
			if !t.Stop() {
				<-fired
			}
		}()
	}
	return tc.Handshake()
}

// readDeadline owns a stream's read deadline, which three parties move:
//
//   - Recv's ctx: when it ends, the deadline goes into the past, which
//     interrupts the read in progress (interruptOn), and back afterwards;
//   - the read-progress timer: while a frame is half read, the deadline is
//     the moment the peer will have been silent for too long;
//   - Close: into the past, for good.
//
// Each asks for what it wants and apply works out the deadline from all
// three, under one mutex, so that none undoes another: a progress timer
// armed just after Close or a ctx interrupt would otherwise push the
// deadline back into the future and leave the read blocked.
type readDeadline struct {
	nc net.Conn

	mu          sync.Mutex // protects the fields below; held across SetReadDeadline
	progress    time.Time  // the read-progress deadline; zero if none
	interrupted bool       // Recv's ctx has ended
	closed      bool       // Close has been called
}

// setProgress sets the read-progress deadline; zero removes it.
func (d *readDeadline) setProgress(t time.Time) {
	d.mu.Lock()
	d.progress = t
	d.apply()
	d.mu.Unlock()
}

// interrupt is the setDeadline function for interruptOn: a non-zero t
// (aLongTimeAgo) interrupts the read, zero ends the interruption.
func (d *readDeadline) interrupt(t time.Time) error {
	d.mu.Lock()
	d.interrupted = !t.IsZero()
	d.apply()
	d.mu.Unlock()
	return nil
}

// close interrupts every read, now and later.
func (d *readDeadline) close() {
	d.mu.Lock()
	d.closed = true
	d.apply()
	d.mu.Unlock()
}

// apply sets the deadline that follows from the fields. The caller holds
// d.mu.
func (d *readDeadline) apply() {
	if d.closed || d.interrupted {
		_ = d.nc.SetReadDeadline(aLongTimeAgo)
		return
	}
	_ = d.nc.SetReadDeadline(d.progress)
}
