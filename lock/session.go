package lock

import (
	"context"
	"slices"
	"sync"
	"time"
)

// clientSession is the client's side of a session: its lease, renewed by
// renewLoop, and the acquisitions it runs.
//
// The client's idea of the expiry is the time it sent the last renewal
// that succeeded, plus the TTL, read on its own clock. The server counts
// the TTL from when it received that renewal, which is later, so the
// client's estimate is the earlier one, as long as the two clocks run at
// the same rate. If the client's clock runs slow, it believes in its lease
// for too long; only fencing tokens protect against that.
type clientSession struct {
	c   *Client
	ref sessionRef

	// life is the session's lifetime, kept in the struct like Client.life
	// and a child of it: it ends when the session ends, and
	// context.Cause(life) says why.
	life   context.Context
	cancel context.CancelCauseFunc
	kick   chan struct{} // size 1: renew now, to tell the server what was abandoned

	mu       sync.Mutex // protects the fields below
	ended    bool
	ttl      time.Duration
	expiry   time.Time   // by the client's clock
	watchdog *time.Timer // ends the session at expiry
	nextSeq  uint64
	renewals uint64              // renewals sent
	wanted   map[uint64]struct{} // acquisitions waiting or holding
	leases   map[uint64]*Lease   // acquisitions holding
}

// startSession starts renewing the session ref, whose first lease of ttl
// was asked for at sent.
func (c *Client) startSession(ref sessionRef, ttl time.Duration, sent time.Time) *clientSession {
	s := &clientSession{
		c:       c,
		ref:     ref,
		kick:    make(chan struct{}, 1),
		ttl:     ttl,
		nextSeq: 1,
		wanted:  make(map[uint64]struct{}),
		leases:  make(map[uint64]*Lease),
	}
	s.life, s.cancel = context.WithCancelCause(c.life)
	s.renewed(sent.Add(ttl))
	c.wg.Add(1)
	go s.renewLoop() // exits when s.life ends
	return s
}

// err returns why the session ended, or nil.
func (s *clientSession) err() error { return context.Cause(s.life) }

// end ends the session with err, and every lease it holds. It reports
// whether this call ended it.
func (s *clientSession) end(err error) bool {
	s.mu.Lock()
	if s.ended {
		s.mu.Unlock()
		return false
	}
	s.ended = true
	s.stopWatchdog()
	leases := s.leases
	s.leases = nil
	s.mu.Unlock()
	s.cancel(err)
	for _, l := range leases {
		l.end(err)
	}
	return true
}

// renewed extends the lease to expiry and re-arms the watchdog.
func (s *clientSession) renewed(expiry time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended || !expiry.After(s.expiry) {
		return
	}
	s.expiry = expiry
	s.stopWatchdog()
	clock := s.c.opts.clock
	s.c.wg.Add(1) // done by the watchdog, or by stopWatchdog if it never runs
	s.watchdog = clock.AfterFunc(expiry.Sub(clock.Now()), func() {
		defer s.c.wg.Done()
		s.end(ErrLeaseExpired)
	})
}

// stopWatchdog stops the watchdog if it has not fired. The caller holds
// s.mu.
func (s *clientSession) stopWatchdog() {
	if s.watchdog != nil && s.watchdog.Stop() {
		s.c.wg.Done()
	}
}

// expiresAt returns the lease's expiry by the client's clock.
func (s *clientSession) expiresAt() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.expiry
}

// renewLoop renews the session three times per TTL, and more often while
// renewals fail, until the session ends: by the watchdog, because the
// server no longer knows it, or by Close.
func (s *clientSession) renewLoop() {
	defer s.c.wg.Done()
	clock := s.c.opts.clock
	next := s.ttl / 3
	for {
		t := clock.NewTimer(next)
		select {
		case <-t.C:
		case <-s.kick:
		case <-s.life.Done():
			t.Stop()
			return
		}
		t.Stop()

		sent := clock.Now()
		args := s.renewalArgs()
		var reply keepAliveReply
		ctx, cancel := context.WithTimeout(context.Background(), s.c.opts.callTimeout)
		stop := context.AfterFunc(s.life, cancel)
		err := s.c.caller.Call(ctx, methodKeepAlive, args, &reply)
		stop()
		cancel()
		switch {
		case err == nil && reply.Status == statusSessionExpired:
			s.end(ErrSessionExpired)
			return
		case err == nil:
			s.renewed(sent.Add(reply.TTL))
			next = reply.TTL / 3
		default:
			next = s.ttl / 10 // try again soon: the watchdog decides when to give up
		}
	}
}

// renewalArgs returns a renewal that also tells the server which
// acquisitions the client still wants.
func (s *clientSession) renewalArgs() *keepAliveArgs {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.renewals++
	args := &keepAliveArgs{Session: s.ref, Renewal: s.renewals, Floor: s.nextSeq}
	for seq := range s.wanted {
		args.Wanted = append(args.Wanted, seq)
	}
	slices.Sort(args.Wanted)
	return args
}

// begin starts an acquisition and returns its seq.
func (s *clientSession) begin() (uint64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended {
		return 0, s.err()
	}
	seq := s.nextSeq
	s.nextSeq++
	s.wanted[seq] = struct{}{}
	return seq, nil
}

// grant records that acquisition seq holds lock name with token, and
// returns its lease.
func (s *clientSession) grant(seq uint64, name string, token uint64) (*Lease, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ended {
		return nil, s.err()
	}
	l := &Lease{name: name, token: token, sess: s, seq: seq, done: make(chan struct{})}
	s.leases[seq] = l
	return l, nil
}

// finish forgets acquisition seq, which has ended on the server too.
func (s *clientSession) finish(seq uint64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.wanted, seq)
	delete(s.leases, seq)
}

// abandon forgets acquisition seq, which the server may still think is
// wanted, and renews at once: the renewal ends it on the server.
func (s *clientSession) abandon(seq uint64) {
	s.finish(seq)
	select {
	case s.kick <- struct{}{}:
	default:
	}
}
