package lock

import (
	"context"
	"fmt"
	"sync"
	"time"
)

// Mutex is one named lock of the service, as seen by one holder. Like a
// sync.Mutex, it is held from Lock to Unlock; goroutines sharing a Mutex
// take turns, and a Lock on a held Mutex waits for its Unlock. Unlike a
// sync.Mutex, holding it is a lease that can be lost: see Lease.
//
// A Mutex is safe for concurrent use by multiple goroutines.
type Mutex struct {
	c    *Client
	name string
	turn chan struct{} // size 1: full from Lock to Unlock, so that Lock calls on m take turns

	mu    sync.Mutex // protects lease
	lease *Lease
}

// Name returns the lock's name.
func (m *Mutex) Name() string { return m.name }

// Lock blocks until the lock is granted, and returns the lease. Waiters are
// served first come, first served. Lock returns early with ctx.Err() if ctx
// ends (the place in the queue is given up), with ErrSessionExpired or
// ErrLeaseExpired if the client's session ends meanwhile (the server
// restarted or could not be reached: the place is lost), or with ErrClosed
// if the client is closed. Lost requests and replies are retried; a retried
// request that was already granted returns the same lease.
func (m *Mutex) Lock(ctx context.Context) (*Lease, error) {
	select {
	case m.turn <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-m.c.life.Done():
		return nil, ErrClosed
	}
	return m.lock(ctx, true)
}

// TryLock takes the lock if nobody holds it, and returns the lease. It does
// not wait: if the lock is held, by another client or through this Mutex,
// it returns ErrLocked. It may still block on the network until ctx ends.
// Other errors are as for Lock.
func (m *Mutex) TryLock(ctx context.Context) (*Lease, error) {
	select {
	case m.turn <- struct{}{}:
	default:
		return nil, ErrLocked
	}
	return m.lock(ctx, false)
}

// lock runs an acquisition; the caller has its turn, which lock gives
// back unless it returns a lease.
func (m *Mutex) lock(ctx context.Context, wait bool) (*Lease, error) {
	l, err := m.acquire(ctx, wait)
	if err != nil {
		<-m.turn
		return nil, err
	}
	m.mu.Lock()
	m.lease = l
	m.mu.Unlock()
	return l, nil
}

// acquire asks the server for the lock until it is granted or refused.
// A waiting Lock asks the server to hold each request for half the call
// timeout, and asks again when that passes; its place in the queue is kept
// on the server all along.
func (m *Mutex) acquire(ctx context.Context, wait bool) (*Lease, error) {
	if n := len(m.name); n == 0 || n > maxLockNameLen {
		return nil, fmt.Errorf("lock: lock name of %d bytes, want 1 to %d", n, maxLockNameLen)
	}
	sess, err := m.c.session(ctx)
	if err != nil {
		return nil, err
	}
	seq, err := sess.begin()
	if err != nil {
		return nil, err
	}
	timeout := m.c.opts.callTimeout
	args := &acquireArgs{Session: sess.ref, Name: m.name, Seq: seq, Wait: wait}
	if wait {
		args.Poll = timeout / 2
	}
	for {
		var reply acquireReply
		if err := m.c.call(ctx, sess, methodAcquire, args, &reply, timeout); err != nil {
			sess.abandon(seq)
			return nil, err
		}
		switch reply.Status {
		case statusOK:
			l, err := sess.grant(seq, m.name, reply.Token)
			if err != nil {
				sess.abandon(seq)
			}
			return l, err
		case statusQueued:
			continue
		case statusLocked:
			sess.finish(seq)
			return nil, ErrLocked
		case statusSessionExpired:
			// Unless the session ended first for another reason (Close
			// ended it, and the server saw its goodbye before the
			// cancellation of this call): then that is the answer.
			sess.end(ErrSessionExpired)
			return nil, sess.err()
		case statusStale:
			// The acquisition ended on the server: for a TryLock, the
			// first copy of this request was refused and its reply lost.
			sess.finish(seq)
			if !wait {
				return nil, ErrLocked
			}
			return nil, fmt.Errorf("lock: %s: the server ended the acquisition", m.name)
		default:
			sess.abandon(seq)
			return nil, fmt.Errorf("lock: %s: unknown reply status %d", m.name, reply.Status)
		}
	}
}

// Unlock releases the lock and ends the lease (its Err becomes
// ErrUnlocked). It returns nil once the server has confirmed. If the lease
// had already been lost, Unlock returns why (ErrLeaseExpired,
// ErrSessionExpired, ErrClosed): the critical section may not have been
// exclusive, and a fenced resource may have refused some of its writes. If
// ctx ends or the server cannot be reached first, Unlock returns that
// error; the lock is then released by the client's next renewal, or when
// its session expires. Unlock on a Mutex that holds no lease returns
// ErrNotHeld.
func (m *Mutex) Unlock(ctx context.Context) error {
	m.mu.Lock()
	l := m.lease
	m.lease = nil
	m.mu.Unlock()
	if l == nil {
		return ErrNotHeld
	}
	defer func() { <-m.turn }()
	lost := l.end(ErrUnlocked)
	sess := l.sess
	sess.finish(l.seq)
	if lost != nil {
		return fmt.Errorf("lock: %s: lease lost before Unlock: %w", m.name, lost)
	}
	var reply releaseReply
	err := m.c.call(ctx, sess, methodRelease, &releaseArgs{Session: sess.ref, Seq: l.seq}, &reply, m.c.opts.callTimeout)
	switch {
	case err != nil:
		sess.abandon(l.seq)
		return err
	case reply.Status == statusSessionExpired:
		sess.end(ErrSessionExpired)
		return fmt.Errorf("lock: %s: lease lost before Unlock: %w", m.name, ErrSessionExpired)
	}
	return nil
}

// Lease is a time-limited right to a lock. Holding a Lease is a belief,
// not a fact: the lease may end at any moment (the client could not renew
// it in time, the server restarted), and a paused program may not notice
// until long after. Protect the resource itself with the fencing token.
//
// A Lease is safe for concurrent use by multiple goroutines.
type Lease struct {
	name  string
	token uint64
	sess  *clientSession
	seq   uint64
	done  chan struct{} // closed when the lease ends

	mu  sync.Mutex // protects err
	err error
}

// Name returns the lock's name.
func (l *Lease) Name() string { return l.name }

// Token returns the fencing token: a number greater than that of every
// earlier grant of any lock by this server, across restarts. Send it with
// every write to the protected resource, and have the resource refuse
// tokens older than the newest it has seen (see FencedStore).
func (l *Lease) Token() uint64 { return l.token }

// Expiry returns when the lease runs out unless renewed, by the client's
// clock; renewals in the background move it later. It is an estimate on
// the safe side if the client's clock runs no slower than the server's.
func (l *Lease) Expiry() time.Time { return l.sess.expiresAt() }

// Done returns a channel that is closed when the lease ends: lost (it
// expired, or the server no longer knows the session), or given up by
// Unlock or Client.Close. Err says which.
func (l *Lease) Done() <-chan struct{} { return l.done }

// Err returns nil while the lease lasts, and then why it ended:
// ErrUnlocked, ErrLeaseExpired, ErrSessionExpired or ErrClosed.
func (l *Lease) Err() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.err
}

// end ends the lease with err, unless it has ended already; then it
// returns the earlier reason.
func (l *Lease) end(err error) (earlier error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.err != nil {
		return l.err
	}
	l.err = err
	close(l.done)
	return nil
}
