package transport

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/distsys-kit/distsys/internal/room"
)

// NewConn returns a message Conn that frames the byte stream nc: each
// message is sent as a 4-byte big-endian length and then its bytes. nc may be
// a TCP, TLS or Unix connection, or one end of net.Pipe. The Conn owns nc
// and closes it on Close.
//
// Messages are delivered whole, exactly once and in order, as long as nc
// delivers its bytes that way (TCP and TLS do); if nc fails, Send and Recv
// return the error.
//
// Sends are queued and written by one goroutine, which writes everything
// queued with one write: under load many messages go out per system call.
// Send returns once its message is queued, so a nil error means "accepted",
// not "delivered"; a write that fails later is reported by the next Send.
// Close writes what is queued (waiting at most the linger time, see
// WithLinger) before closing nc, so messages sent before Close are not lost
// while the peer reads.
//
// Recv reads frames directly from nc. Its ctx is honoured by interrupting
// the read with a deadline; bytes already read are kept, so a cancelled Recv
// loses no message. A peer that begins a message and then sends nothing
// more of it for the read-progress timeout (WithReadProgressTimeout) is cut
// off: nc is closed and Recv returns an error matching ErrPeerStalled. Concurrent Recv calls are serialized, and one waiting
// for another to finish does not see its ctx until its turn comes.
//
// Messages of up to 256 bytes that Recv returns are cut from shared 4 KiB
// blocks, which saves an allocation per message; keeping one such message
// keeps its block alive, so copy small messages (bytes.Clone) that are kept
// in large numbers for long. RecvInto, reusing one buffer, allocates
// nothing.
func NewConn(nc net.Conn, opts ...Option) Conn {
	o := newOptions(opts)
	c := &streamConn{
		nc:         nc,
		linger:     o.linger,
		max:        o.maxMessage,
		sendBuffer: o.sendBuffer,
		progress:   o.progress,
		fr:         newFrameReader(nc, o.maxMessage),
		rd:         readDeadline{nc: nc},
		kick:       make(chan struct{}, 1),
		closing:    make(chan struct{}),
		writerDone: make(chan struct{}),
	}
	if _, ok := nc.(*tls.Conn); ok {
		c.handshook = make(chan struct{})
	}
	go c.writeLoop() // exits when c.closing is closed
	return c
}

var _ Conn = (*streamConn)(nil)

type streamConn struct {
	// Set by NewConn and only read afterwards.
	nc         net.Conn
	linger     time.Duration
	max        int
	sendBuffer int           // Send blocks while more than this is queued; see WithSendBuffer
	progress   time.Duration // the read-progress timeout; < 0: none
	kick       chan struct{} // size 1: tells the writer that pending is non-empty
	closing    chan struct{} // closed by Close
	writerDone chan struct{} // closed when writeLoop returns
	// handshook, for a TLS conn, is closed when writeLoop's handshake has
	// ended; nil for other conns. Recv waits for it without touching the
	// read deadline: a ctx that ended during the handshake would otherwise
	// interrupt it, and a TLS conn whose handshake failed fails for good.
	handshook chan struct{}
	// shut is set by Close, like closing is closed: Recv checks it rather
	// than closing, because a channel's state lies next to the kick
	// channel's, which the sender and the writer write all the time (see
	// below: reading it cost a Recv a cache miss).
	shut atomic.Bool

	// The receiver's fields and the sender's are written on different
	// cores, all the time; on one cache line, each write would take the
	// line from the other core (false sharing): 64-byte messages took
	// about 90 ns each instead of 60 (BenchmarkTCP/framedRecvInto). The
	// padding keeps them apart (128 bytes: processors fetch lines in
	// pairs).
	_ [128]byte

	// rmu is held by the Recv in progress. Recv is meant for one receiver
	// at a time; a second, concurrent Recv waits its turn here without
	// watching its ctx. (A ctx-aware lock cost a third of the throughput
	// of small messages, for a case that is a misuse.)
	rmu      sync.Mutex
	fr       *frameReader // guarded by rmu
	rerr     error        // guarded by rmu: the first fatal receive error
	watching bool         // guarded by rmu: the read-progress deadline is set
	rd       readDeadline // nc's read deadline

	_ [128]byte

	mu      sync.Mutex // protects the fields below
	pending []byte     // framed messages queued for the writer
	spare   []byte     // a drained buffer kept for reuse
	room    room.Cond  // Sends waiting for room in pending; the writer broadcasts
	werr    error      // the first write error; Sends fail with it
	closed  bool       // Close has been called

	closeOnce sync.Once
}

func (c *streamConn) LocalAddr() net.Addr  { return c.nc.LocalAddr() }
func (c *streamConn) RemoteAddr() net.Addr { return c.nc.RemoteAddr() }

func (c *streamConn) Send(ctx context.Context, msg []byte) error {
	if len(msg) > c.max {
		return fmt.Errorf("%w: %d bytes, limit is %d", ErrMessageTooLarge, len(msg), c.max)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	for {
		if c.closed {
			c.mu.Unlock()
			return ErrClosed
		}
		if c.werr != nil {
			err := c.werr
			c.mu.Unlock()
			return err
		}
		if len(c.pending) == 0 || len(c.pending)+headerLen+len(msg) <= c.sendBuffer {
			break
		}
		if err := c.room.Wait(ctx, &c.mu, c.closing); err != nil {
			c.mu.Unlock()
			return err
		}
	}
	wasEmpty := len(c.pending) == 0
	c.pending = appendFrame(c.pending, msg)
	c.mu.Unlock()
	// The writer waits for a kick only after it has seen pending empty
	// under c.mu, so a kick is needed only when pending was empty; kick has
	// room for one, so the writer cannot miss it.
	if wasEmpty {
		select {
		case c.kick <- struct{}{}:
		default:
		}
	}
	return nil
}

// writeLoop writes queued messages until Close; then it writes what is
// left, within the linger time, and closes nc.
func (c *streamConn) writeLoop() {
	defer close(c.writerDone)
	if tc, ok := c.nc.(*tls.Conn); ok {
		// Run the TLS handshake now, so that a server conn nobody has
		// read from yet still answers a client waiting in its Dial. (Close
		// interrupts it with deadlines, like any read or write.)
		if err := c.handshake(tc); err != nil {
			c.mu.Lock()
			if c.werr == nil {
				c.werr = fmt.Errorf("transport: tls handshake: %w", err)
			}
			c.mu.Unlock()
		}
		close(c.handshook)
	}
	for {
		select {
		case <-c.kick:
			// Let the goroutines that are ready to run go first: a
			// sender that kicked us is often one of many woken
			// together (callers answered by one read of replies), and
			// what they queue meanwhile goes out in the same write.
			// With 64 callers doing round trips of 64-byte messages,
			// a write carried 6 requests without the yield and 26 with
			// it, and a round trip took 600 ns instead of 900
			// (BenchmarkTCPEcho). With nothing else to run it costs
			// a trip through the scheduler, well under a system call.
			runtime.Gosched()
			if err := c.flush(); err != nil {
				c.mu.Lock()
				c.werr = fmt.Errorf("transport: send: %w", err)
				c.pending = nil
				c.mu.Unlock()
				c.wakeSenders()
			}
		case <-c.closing:
			if c.linger > 0 {
				_ = c.flush() // Close set the write deadline
			}
			_ = c.nc.Close()
			return
		}
	}
}

// flush writes pending until it is empty. Senders keep appending while it
// writes; each round takes everything queued so far.
func (c *streamConn) flush() error {
	for {
		c.mu.Lock()
		if len(c.pending) == 0 || c.werr != nil {
			c.mu.Unlock()
			return nil
		}
		buf := c.pending
		c.pending, c.spare = c.spare[:0], nil
		c.mu.Unlock()
		c.wakeSenders() // the queue is empty again

		_, err := c.nc.Write(buf)
		if cap(buf) <= 2*c.sendBuffer { // don't keep a buffer grown for one huge message
			c.mu.Lock()
			c.spare = buf[:0]
			c.mu.Unlock()
		}
		if err != nil {
			return err
		}
	}
}

// wakeSenders wakes the Sends waiting for room in the queue.
func (c *streamConn) wakeSenders() {
	c.mu.Lock()
	c.room.Broadcast()
	c.mu.Unlock()
}

func (c *streamConn) Recv(ctx context.Context) ([]byte, error) {
	c.rmu.Lock() // as RecvInto does, not calling it: a call less per message
	msg, err := c.recv(ctx, nil)
	c.rmu.Unlock()
	return msg, err
}

// RecvInto is Recv, storing the message in buf's memory when it fits in
// cap(buf); see the package function RecvInto.
func (c *streamConn) RecvInto(ctx context.Context, buf []byte) ([]byte, error) {
	c.rmu.Lock()
	msg, err := c.recv(ctx, buf)
	c.rmu.Unlock()
	return msg, err
}

// recv does Recv's work; the caller holds rmu. A message already read
// returns at once; otherwise recv waits, reading.
func (c *streamConn) recv(ctx context.Context, buf []byte) ([]byte, error) {
	if c.shut.Load() {
		return nil, ErrClosed
	}
	if c.rerr != nil {
		return nil, c.rerr
	}
	// c.parse, by hand: a call less per message.
	msg, err := c.fr.parse(buf)
	switch {
	case err != nil:
		c.desync(err)
		return nil, err
	case msg != nil:
		return msg, nil
	}
	return c.wait(ctx, buf)
}

// wait reads until a message is complete. It is apart from recv so that
// the common case, a message already read, does not pay for the defer.
func (c *streamConn) wait(ctx context.Context, buf []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if c.handshook != nil {
		select {
		case <-c.handshook: // a handshake that failed makes the read fail
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if ctx.Done() != nil {
		defer interruptOn(ctx, c.rd.interrupt)()
	}
	for {
		c.watchProgress()
		if err := c.fr.fill(); err != nil {
			return nil, c.recvErr(ctx, err)
		}
		if msg, err := c.parse(buf); msg != nil || err != nil {
			return msg, err
		}
	}
}

// parse returns the next message if the bytes read hold one. A frame that
// cannot be parsed is fatal: the stream is out of sync.
func (c *streamConn) parse(buf []byte) ([]byte, error) {
	msg, err := c.fr.parse(buf)
	if err != nil {
		c.desync(err)
	}
	return msg, err
}

// desync gives up on a stream that cannot be parsed.
func (c *streamConn) desync(err error) {
	c.rerr = err
	c.fr.release()
	_ = c.nc.Close() // cut the peer off
}

// recvErr turns a read error into Recv's error, remembering it if the
// stream cannot be read any further.
func (c *streamConn) recvErr(ctx context.Context, err error) error {
	c.mu.Lock()
	closed := c.closed // set before Close moves the read deadline
	c.mu.Unlock()
	switch {
	case closed:
		return ErrClosed
	case os.IsTimeout(err) && ctx.Err() != nil:
		return ctx.Err()
	case os.IsTimeout(err) && c.watching:
		err = fmt.Errorf("%w: no byte for %v: %w", ErrPeerStalled, c.progress, os.ErrDeadlineExceeded)
		_ = c.nc.Close() // cut the peer off
	case errors.Is(err, net.ErrClosed):
		// nc was closed under us (a write failed, or Recv cut the
		// peer off); report why.
		c.mu.Lock()
		werr := c.werr
		c.mu.Unlock()
		if werr != nil {
			err = werr
		}
	}
	c.rerr = err
	c.fr.release()
	return err
}

func (c *streamConn) Close() error {
	c.closeOnce.Do(func() {
		c.mu.Lock()
		c.closed = true
		c.shut.Store(true)
		c.mu.Unlock()
		if c.linger > 0 {
			_ = c.nc.SetWriteDeadline(time.Now().Add(c.linger))
		} else {
			_ = c.nc.SetWriteDeadline(aLongTimeAgo)
		}
		c.rd.close() // unblock Recv now
		close(c.closing)
	})
	<-c.writerDone
	return nil
}
