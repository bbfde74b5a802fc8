package lock

import (
	"context"
	"fmt"
	"time"
)

// service is what the rpc server exposes: one method per request of the
// protocol (see wire.go). Each handler takes the table's lock only to make
// a decision; the one that waits (Acquire) waits without it.
type service struct{ s *Server }

// OpenSession starts a session for the client.
func (v *service) OpenSession(args *openArgs, reply *openReply) error {
	if len(args.Client) > maxClientNameLen {
		return fmt.Errorf("lock: client name of %d bytes, limit is %d", len(args.Client), maxClientNameLen)
	}
	v.s.update(func(now time.Time) []acqKey {
		reply.Session = v.s.t.openSession(now, args.Client)
		reply.TTL = v.s.t.cfg.TTL
		return nil
	})
	return nil
}

// KeepAlive renews a session and settles what its client no longer wants.
func (v *service) KeepAlive(args *keepAliveArgs, reply *keepAliveReply) error {
	var err error
	v.s.update(func(now time.Time) []acqKey {
		var changed []acqKey
		changed, err = v.s.t.keepAlive(now, args.Session, args.Renewal, args.Floor, args.Wanted)
		reply.TTL = v.s.t.cfg.TTL
		return changed
	})
	reply.Status, err = statusOf(err)
	return err
}

// Release ends an acquisition: gives up the lock, or leaves the queue.
func (v *service) Release(args *releaseArgs, reply *releaseReply) error {
	var err error
	v.s.update(func(now time.Time) []acqKey {
		var changed []acqKey
		changed, err = v.s.t.release(now, args.Session, args.Seq)
		return changed
	})
	reply.Status, err = statusOf(err)
	return err
}

// CloseSession ends a session and releases its locks, without lock-delay.
func (v *service) CloseSession(args *closeArgs, reply *closeReply) error {
	v.s.update(func(now time.Time) []acqKey { return v.s.t.closeSession(now, args.Session) })
	reply.Status = statusOK
	return nil
}

// Acquire decides at once, and if the acquisition has to wait and the
// client allows it (Poll), holds the call until the acquisition is granted
// or ends, Poll passes, the client gives up or the server closes. A call
// that returns queued loses nothing: the acquisition keeps its place, and
// the client asks again.
func (v *service) Acquire(ctx context.Context, args *acquireArgs, reply *acquireReply) error {
	if n := len(args.Name); n == 0 || n > maxLockNameLen {
		return fmt.Errorf("lock: lock name of %d bytes, want 1 to %d", n, maxLockNameLen)
	}
	s := v.s
	var (
		queued bool
		err    error
		woken  <-chan struct{}
	)
	decide := func(now time.Time) []acqKey {
		var changed []acqKey
		reply.Token, queued, changed, err = s.t.acquire(now, args.Session, args.Name, args.Seq, args.Wait)
		if queued {
			woken = s.waiter(acqKey{args.Session.ID, args.Seq})
		}
		return changed
	}
	s.update(decide)
	if queued && args.Poll > 0 {
		poll := time.NewTimer(min(args.Poll, maxPoll))
		defer poll.Stop()
		select {
		case <-woken:
			s.update(decide) // granted or ended: ask the table which
		case <-poll.C:
		case <-ctx.Done():
			return ctx.Err()
		case <-s.life.Done():
			return ErrClosed
		}
	}
	reply.Status, err = statusOf(err)
	if err == nil && queued {
		reply.Status = statusQueued
	}
	return err
}
