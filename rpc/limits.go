package rpc

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/distsys-kit/distsys/transport"
)

// A server faces clients it does not control, some broken, some hostile.
// Four limits keep any of them from holding its goroutines or memory for
// ever, or from stalling everyone else:
//
//   - at most maxConns connections: one more is told ErrServerBusy (a
//     goodbye message) and closed, before any call on it is read;
//   - at most maxCalls calls running, over all connections: one more is
//     refused with ErrServerBusy, and does not run;
//   - a connection that carries no message and no call for the idle
//     timeout is closed (a goodbye first), whatever its client was doing:
//     idle, or sending one byte a minute;
//   - a connection whose replies wait for the stall timeout without the
//     transport taking any (the client reads nothing) is closed: the calls
//     blocked sending their replies, and whatever they hold, are let go.
//
// The timeouts are checked by one timer per connection, which fires every
// half of the shorter one and compares counters; nothing is timed per
// message.
type serverLimits struct {
	maxConns, maxCalls int
	idle, stall        time.Duration // negative: never
}

// WithMaxConns bounds the connections a server serves at once: a client
// connecting beyond it is refused, its calls fail with an error matching
// ErrServerBusy, and they did not run. Zero or negative means
// DefaultMaxConns.
func WithMaxConns(n int) ServerOption {
	return serverOption(func(o *serverOptions) {
		if n > 0 {
			o.limits.maxConns = n
		}
	})
}

// WithMaxCalls bounds the calls a server runs at once, over all its
// connections: a call beyond it is refused with a
// *RemoteError matching ErrServerBusy, and did not run. Zero or negative
// means DefaultMaxCalls.
func WithMaxCalls(n int) ServerOption {
	return serverOption(func(o *serverOptions) {
		if n > 0 {
			o.limits.maxCalls = n
		}
	})
}

// WithIdleTimeout makes a server close a connection on which no message
// has arrived, and no call has been running, for d (checked every d/2 or
// so, so a connection may last up to half as long again). The
// client is told first: a client made by Dial redials at its next call;
// one made by NewClient fails its later calls with ErrConnLost. Zero means
// DefaultIdleTimeout; negative, never.
func WithIdleTimeout(d time.Duration) ServerOption {
	return serverOption(func(o *serverOptions) {
		if d != 0 {
			o.limits.idle = d
		}
	})
}

// WithStallTimeout makes a server close a connection whose replies have
// waited d without the transport taking any, because the client reads
// none (checked as for WithIdleTimeout). The calls waiting to
// send their replies are cancelled. Zero means DefaultStallTimeout;
// negative, never.
func WithStallTimeout(d time.Duration) ServerOption {
	return serverOption(func(o *serverOptions) {
		if d != 0 {
			o.limits.stall = d
		}
	})
}

// refuseConn tells the client of c that the server is full, then reads and
// drops what it sends until it hangs up (or goAwayTimeout passes), so that
// closing c does not reset the connection under the goodbye, and closes c.
func (s *Server) refuseConn(c transport.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), goAwayTimeout)
	defer cancel()
	msg := fmt.Sprintf("%d connections open", s.opts.limits.maxConns)
	if c.Send(ctx, appendGoAway(nil, ErrServerBusy.Error(), msg)) == nil {
		for {
			if _, err := c.Recv(ctx); err != nil {
				break
			}
		}
	}
	_ = c.Close()
}

// watchdog is a connection's timer for the idle and stall timeouts. Its
// counters are updated by the read loop and the handlers; the timer reads
// them every tick.
type watchdog struct {
	received    atomic.Uint64 // messages read
	running     atomic.Int64  // calls running
	sendsBegun  atomic.Uint64 // sends started ...
	sendsEnded  atomic.Uint64 // ... and returned: begun > ended while one waits
	tick        time.Duration
	timer       *time.Timer
	mu          sync.Mutex     // protects the fields below
	stopped     bool           // stop was called: check does nothing
	checks      sync.WaitGroup // checks under way, which stop waits for
	last        uint64         // received at the last check
	lastEnded   uint64         // sendsEnded at the last check
	quietSince  time.Time      // since when nothing has arrived and nothing run
	stuckSince  time.Time      // since when a send has waited; zero if none
	idle, stall time.Duration
}

// startWatchdog starts sc's timer, unless both timeouts are off.
func (sc *serverConn) startWatchdog() {
	l := sc.s.opts.limits
	w := &sc.watch
	w.idle, w.stall = l.idle, l.stall
	switch {
	case l.idle < 0 && l.stall < 0:
		return
	case l.idle < 0:
		w.tick = l.stall / 2
	case l.stall < 0:
		w.tick = l.idle / 2
	default:
		w.tick = min(l.idle, l.stall) / 2
	}
	w.quietSince = time.Now()
	w.mu.Lock()
	w.timer = time.AfterFunc(w.tick, sc.check) // check runs in a goroutine of its own; stopWatchdog waits for it
	w.mu.Unlock()
}

// check closes sc if it has been idle or stalled for too long, and
// otherwise sets the timer again.
func (sc *serverConn) check() {
	w := &sc.watch
	w.mu.Lock()
	if w.stopped {
		w.mu.Unlock()
		return
	}
	w.checks.Add(1) // under mu, so that stop, which sets stopped under mu, waits for us
	defer w.checks.Done()
	act := w.decide(time.Now())
	if act == nil {
		w.timer.Reset(w.tick)
	}
	w.mu.Unlock()
	if act != nil {
		act(sc)
	}
}

// decide compares the counters with the last check's, at time now, and
// returns what to do to the conn: nil to leave it open. The caller holds
// w.mu.
func (w *watchdog) decide(now time.Time) func(*serverConn) {
	if got := w.received.Load(); got != w.last || w.running.Load() > 0 {
		w.last, w.quietSince = got, now
	}
	ended := w.sendsEnded.Load()
	switch {
	case w.sendsBegun.Load() == ended:
		w.stuckSince = time.Time{} // no send waits
	case ended != w.lastEnded || w.stuckSince.IsZero():
		w.stuckSince = now // a send waits, since now at least
	}
	w.lastEnded = ended

	switch {
	case w.idle > 0 && now.Sub(w.quietSince) >= w.idle:
		msg := fmt.Sprintf("server closed the connection after %v idle", w.idle)
		return func(sc *serverConn) { sc.goAway(ErrConnLost.Error(), msg) }
	case w.stall > 0 && !w.stuckSince.IsZero() && now.Sub(w.stuckSince) >= w.stall:
		return (*serverConn).closeConn // the client reads nothing: no goodbye can reach it
	}
	return nil
}

// stopWatchdog stops sc's timer and waits for a check under way.
func (sc *serverConn) stopWatchdog() {
	w := &sc.watch
	if w.timer == nil {
		return
	}
	w.mu.Lock()
	w.stopped = true
	w.mu.Unlock()
	w.timer.Stop()
	w.checks.Wait()
}
