package transport

import (
	"context"
	"math/rand/v2"
	"net"
	"sync"
)

// FaultyConn wraps a Conn and applies Faults to every message it sends:
// some are dropped, duplicated, delayed, reordered, corrupted or cut short,
// each decision drawn from a generator seeded with Faults.Seed. Received
// messages pass through untouched; to disturb both directions, wrap both
// ends (or use NewFaultyListener on the server side).
//
// A message with no delay is sent at once, inside Send. A delayed one is
// copied and sent later by a goroutine of the wrapper; if that send fails
// (the connection broke), the message is lost, as it would be on a network.
// Close discards messages still held back, as if they were lost in flight.
//
// FaultyConn is safe for concurrent use. With concurrent senders, which
// message meets which decision depends on the order their Sends reach the
// wrapper; with one sender the fault schedule is fully determined by the
// seed.
type FaultyConn struct {
	inner Conn
	queue *delayQueue[[]byte]

	ctx    context.Context // for delayed sends; cancelled by Close
	cancel context.CancelFunc

	mu     sync.Mutex // protects faults, rng, stats
	faults Faults
	rng    *rand.Rand
	stats  FaultStats
}

var _ Conn = (*FaultyConn)(nil)

// NewFaultyConn returns c wrapped so that what it sends meets f. The wrapper
// owns c and closes it on Close. It returns an error matching
// ErrInvalidFaults if f is not valid.
func NewFaultyConn(c Conn, f Faults) (*FaultyConn, error) {
	if err := f.Validate(); err != nil {
		return nil, err
	}
	fc := &FaultyConn{inner: c, faults: f, rng: f.NewRand()}
	fc.ctx, fc.cancel = context.WithCancel(context.Background())
	fc.queue = newDelayQueue(func(msg []byte) {
		_ = fc.inner.Send(fc.ctx, msg) // a lost delayed message is a lost message
	})
	return fc, nil
}

// Send applies the faults to msg and sends what survives. A dropped message
// is reported as sent: the sender of a lossy network never knows.
func (fc *FaultyConn) Send(ctx context.Context, msg []byte) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	fc.mu.Lock()
	ds := fc.faults.Plan(fc.rng, msg)
	fc.stats.Record(ds)
	fc.mu.Unlock()
	for _, d := range ds {
		if d.Delay > 0 {
			fc.queue.push(d.Delay, append([]byte(nil), d.Msg...))
			continue
		}
		if err := fc.inner.Send(ctx, d.Msg); err != nil {
			return err
		}
	}
	return nil
}

// Recv receives the next message from the wrapped Conn.
func (fc *FaultyConn) Recv(ctx context.Context) ([]byte, error) { return fc.inner.Recv(ctx) }

// LocalAddr returns the wrapped Conn's local address.
func (fc *FaultyConn) LocalAddr() net.Addr { return fc.inner.LocalAddr() }

// RemoteAddr returns the wrapped Conn's remote address.
func (fc *FaultyConn) RemoteAddr() net.Addr { return fc.inner.RemoteAddr() }

// Close discards held-back messages and closes the wrapped Conn.
func (fc *FaultyConn) Close() error {
	fc.cancel()
	fc.queue.close()
	return fc.inner.Close()
}

// SetFaults replaces the faults; messages sent after it returns meet the new
// ones. The random generator is kept, so the schedule stays reproducible.
// It returns an error matching ErrInvalidFaults, and changes nothing, if f
// is not valid.
func (fc *FaultyConn) SetFaults(f Faults) error {
	if err := f.Validate(); err != nil {
		return err
	}
	fc.mu.Lock()
	fc.faults = f
	fc.mu.Unlock()
	return nil
}

// Stats returns what the faults have done so far.
func (fc *FaultyConn) Stats() FaultStats {
	fc.mu.Lock()
	defer fc.mu.Unlock()
	return fc.stats
}
