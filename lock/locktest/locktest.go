// Package locktest is the conformance suite of lock services: the tests
// that every implementation of the lock protocol must pass, whether one
// Server or a cluster of RaftServers serves it. A lock.Client cannot tell
// them apart, and these tests check that it need not: the same leases,
// fencing tokens, first-come first-served waiters, idempotent retries and
// session expiry.
//
// Every test runs in a testing/synctest bubble, so leases and lock-delays
// pass in virtual time, and the Factory must build the service on an
// in-memory network (transport/netsim) with a fixed seed:
//
//	func TestConformance(t *testing.T) {
//		locktest.Run(t, func(t *testing.T, ttl, lockDelay time.Duration) locktest.Service {
//			return startMyService(t, ttl, lockDelay) // closed by t.Cleanup
//		})
//	}
//
// Timings are checked as bounds, not exact instants: a replicated service
// decides a little later than a single server (a log entry must commit),
// but never earlier than the protocol allows.
package locktest

import (
	"context"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/distsys-kit/distsys/lock"
)

// Service is a running lock service under test.
type Service interface {
	// Caller returns a new connection to the service for one client,
	// closed by the test's cleanup.
	Caller(t *testing.T) lock.Caller
	// Locks returns the service's view of its locks: the server's, or for
	// a replicated service, the leader's.
	Locks() []lock.LockInfo
}

// Factory starts a service for one test, inside its synctest bubble,
// with sessions of ttl and a lock-delay of lockDelay. Everything it
// starts must be closed by the test's cleanup.
type Factory func(t *testing.T, ttl, lockDelay time.Duration) Service

// The lease times of every test.
const (
	ttl       = 10 * time.Second
	lockDelay = 4 * time.Second
	// slack is how much later than a single server a service may decide:
	// a replicated one needs a log entry to commit, and proposes expiries
	// on a timer.
	slack = time.Second
)

// Run runs the whole suite against the services newService makes, each
// test as a subtest in its own synctest bubble.
func Run(t *testing.T, newService Factory) {
	tests := []struct {
		name string
		run  func(*testing.T, *env)
	}{
		{"LockIsExclusiveAndTokensGrow", testLockIsExclusiveAndTokensGrow},
		{"WaitersAreGrantedInArrivalOrder", testWaitersAreGrantedInArrivalOrder},
		{"LeaseIsRenewedWhileHeld", testLeaseIsRenewedWhileHeld},
		{"CutOffHolderLosesLeaseAndLockWaitsOutLockDelay", testCutOffHolderLosesLease},
		{"WaiterWhoseSessionDiesStopsWaiting", testWaiterWhoseSessionDiesStopsWaiting},
		{"CloseReleasesLocksAtOnceAndUnblocksLock", testCloseReleasesLocksAtOnce},
		{"CancelledLockGivesUpItsPlace", testCancelledLockGivesUpItsPlace},
		{"MutexSharedByGoroutinesTakesTurns", testMutexSharedByGoroutinesTakesTurns},
		{"UnlockOfALostLeaseReleasesNothing", testUnlockOfALostLeaseReleasesNothing},
		{"RetriedAndDuplicatedRequestsKeepTheLockExclusive", testRetriedAndDuplicatedRequests},
		{"PausedHolderIsStoppedByTheToken", testPausedHolderIsStoppedByTheToken},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				tt.run(t, &env{t: t, svc: newService(t, ttl, lockDelay)})
			})
		})
	}
}

// env is one test's service and the clients it makes.
type env struct {
	t   *testing.T
	svc Service
}

// client returns a lock client of the service, closed at cleanup.
func (e *env) client(opts ...lock.ClientOption) *lock.Client {
	c := lock.NewClient(e.svc.Caller(e.t), opts...)
	e.t.Cleanup(func() { _ = c.Close() })
	return c
}

// cutOffClient returns a lock client whose network the returned
// cutCaller can cut, closed at cleanup (after the cut is healed, so that
// its goodbye gets through).
func (e *env) cutOffClient(opts ...lock.ClientOption) (*lock.Client, *cutCaller) {
	cut := &cutCaller{next: e.svc.Caller(e.t)}
	c := lock.NewClient(cut, opts...)
	e.t.Cleanup(func() {
		cut.setCut(false)
		_ = c.Close()
	})
	return c, cut
}

// waiters returns the waiters of lock name.
func (e *env) waiters(name string) []string {
	for _, l := range e.svc.Locks() {
		if l.Name == name {
			return l.Waiters
		}
	}
	return nil
}

// cutCaller wraps a Caller with a switch that cuts the client off the
// network: while cut, every call is lost, and returns when its ctx ends.
// It also notes when the newest renewal (or the opening of the session)
// that succeeded was sent.
type cutCaller struct {
	next lock.Caller

	mu          sync.Mutex // protects cut, lastRenewal
	cut         bool
	lastRenewal time.Time // when the newest KeepAlive that succeeded was sent
}

func (c *cutCaller) setCut(cut bool) {
	c.mu.Lock()
	c.cut = cut
	c.mu.Unlock()
}

// renewalSent returns when the client sent its newest renewal that
// succeeded: the service received it no earlier.
func (c *cutCaller) renewalSent() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.lastRenewal
}

func (c *cutCaller) Call(ctx context.Context, method string, args, reply any) error {
	c.mu.Lock()
	cut := c.cut
	c.mu.Unlock()
	if cut {
		<-ctx.Done()
		return ctx.Err()
	}
	sent := time.Now()
	err := c.next.Call(ctx, method, args, reply)
	if err == nil && (method == "Lock.KeepAlive" || method == "Lock.OpenSession") {
		c.mu.Lock()
		c.lastRenewal = sent
		c.mu.Unlock()
	}
	return err
}
