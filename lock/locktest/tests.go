package locktest

import (
	"context"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/lock"
)

func testLockIsExclusiveAndTokensGrow(t *testing.T, e *env) {
	ctx := t.Context()
	a := e.client(lock.WithName("a"))
	b := e.client(lock.WithName("b"))

	ma, mb := a.Mutex("x"), b.Mutex("x")
	la, err := ma.Lock(ctx)
	require.NoError(t, err)
	_, err = mb.TryLock(ctx)
	require.ErrorIs(t, err, lock.ErrLocked)
	locks := e.svc.Locks()
	require.Len(t, locks, 1)
	assert.Equal(t, "a", locks[0].Holder)
	assert.Equal(t, la.Token(), locks[0].Token)

	require.NoError(t, ma.Unlock(ctx))
	assert.ErrorIs(t, la.Err(), lock.ErrUnlocked)
	lb, err := mb.TryLock(ctx)
	require.NoError(t, err)
	assert.Greater(t, lb.Token(), la.Token())
	require.NoError(t, mb.Unlock(ctx))
	require.ErrorIs(t, mb.Unlock(ctx), lock.ErrNotHeld)
}

func testWaitersAreGrantedInArrivalOrder(t *testing.T, e *env) {
	ctx := t.Context()
	m := e.client().Mutex("x")
	_, err := m.Lock(ctx)
	require.NoError(t, err)

	const n = 5
	order := make(chan int, n)
	var wg sync.WaitGroup
	for i := range n {
		mi := e.client().Mutex("x")
		wg.Go(func() {
			if _, err := mi.Lock(ctx); err != nil {
				t.Error(err)
				order <- -1
				return
			}
			order <- i
			time.Sleep(time.Second) // hold it a while
			if err := mi.Unlock(ctx); err != nil {
				t.Error(err)
			}
		})
		synctest.Wait() // i is queued before i+1 starts
	}
	require.Len(t, e.waiters("x"), n)
	require.NoError(t, m.Unlock(ctx))
	for want := range n {
		assert.Equal(t, want, <-order)
	}
	wg.Wait()
}

func testLeaseIsRenewedWhileHeld(t *testing.T, e *env) {
	ctx := t.Context()
	a, b := e.client(), e.client()
	l, err := a.Mutex("x").Lock(ctx)
	require.NoError(t, err)
	first := l.Expiry()
	time.Sleep(10 * ttl)
	assert.NoError(t, l.Err())
	assert.True(t, l.Expiry().After(first.Add(9*ttl)), "expiry moved with renewals")
	_, err = b.Mutex("x").TryLock(ctx)
	assert.ErrorIs(t, err, lock.ErrLocked)
}

func testCutOffHolderLosesLease(t *testing.T, e *env) {
	ctx := t.Context()
	a, cut := e.cutOffClient()
	b := e.client()

	la, err := a.Mutex("x").Lock(ctx)
	require.NoError(t, err)
	time.Sleep(2 * ttl) // a renews, several times
	cut.setCut(true)
	lastRenewal := cut.renewalSent()

	lb, err := b.Mutex("x").Lock(ctx) // waits
	require.NoError(t, err)
	granted := time.Now()

	<-la.Done()
	assert.ErrorIs(t, la.Err(), lock.ErrLeaseExpired)
	waited := granted.Sub(lastRenewal)
	assert.GreaterOrEqual(t, waited, ttl+lockDelay, "b was granted %v after a's last renewal, want at least TTL + lock-delay", waited)
	assert.LessOrEqual(t, waited, ttl+lockDelay+slack, "b was granted %v after a's last renewal, want about TTL + lock-delay", waited)
	assert.Greater(t, lb.Token(), la.Token())
}

func testWaiterWhoseSessionDiesStopsWaiting(t *testing.T, e *env) {
	ctx := t.Context()
	a := e.client()
	b, cut := e.cutOffClient()

	_, err := a.Mutex("x").Lock(ctx)
	require.NoError(t, err)
	errs := make(chan error, 1)
	go func() {
		_, err := b.Mutex("x").Lock(ctx)
		errs <- err
	}()
	synctest.Wait()
	require.Len(t, e.waiters("x"), 1)

	cut.setCut(true)
	start := time.Now()
	err = <-errs
	require.ErrorIs(t, err, lock.ErrLeaseExpired)
	assert.LessOrEqual(t, time.Since(start), ttl, "b stopped waiting when its own lease ran out")
	time.Sleep(ttl + slack) // the service expires b's session too
	assert.Empty(t, e.waiters("x"))
}

func testCloseReleasesLocksAtOnce(t *testing.T, e *env) {
	ctx := t.Context()
	a, b, c := e.client(), e.client(), e.client()

	la, err := a.Mutex("x").Lock(ctx)
	require.NoError(t, err)
	errs := make(chan error, 1)
	go func() {
		_, err := c.Mutex("x").Lock(ctx)
		errs <- err
	}()
	synctest.Wait()
	require.NoError(t, c.Close())
	require.ErrorIs(t, <-errs, lock.ErrClosed)

	start := time.Now()
	require.NoError(t, a.Close())
	assert.ErrorIs(t, la.Err(), lock.ErrClosed)
	_, err = b.Mutex("x").Lock(ctx)
	require.NoError(t, err)
	assert.Less(t, time.Since(start), slack, "no lock-delay after a clean close")
	_, err = a.Mutex("y").Lock(ctx)
	require.ErrorIs(t, err, lock.ErrClosed)
}

func testCancelledLockGivesUpItsPlace(t *testing.T, e *env) {
	ctx := t.Context()
	a, b := e.client(), e.client()

	ma := a.Mutex("x")
	_, err := ma.Lock(ctx)
	require.NoError(t, err)
	wctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	_, err = b.Mutex("x").Lock(wctx)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	synctest.Wait() // the renewal that tells the service
	assert.Empty(t, e.waiters("x"))
	require.NoError(t, ma.Unlock(ctx))
	synctest.Wait()
	assert.Empty(t, e.svc.Locks(), "nobody was granted the lock")
}

func testMutexSharedByGoroutinesTakesTurns(t *testing.T, e *env) {
	ctx := t.Context()
	m := e.client().Mutex("x")
	_, err := m.Lock(ctx)
	require.NoError(t, err)
	_, err = m.TryLock(ctx)
	require.ErrorIs(t, err, lock.ErrLocked)
	done := make(chan struct{})
	go func() {
		defer close(done)
		if _, err := m.Lock(ctx); err != nil {
			t.Error(err)
			return
		}
		if err := m.Unlock(ctx); err != nil {
			t.Error(err)
		}
	}()
	time.Sleep(time.Minute)
	select {
	case <-done:
		t.Fatal("second Lock on a held Mutex returned")
	default:
	}
	require.NoError(t, m.Unlock(ctx))
	<-done
}

// A holder cut off long enough loses its lease; when it comes back, its
// Unlock says so, and releases nothing: not the new holder's lock.
func testUnlockOfALostLeaseReleasesNothing(t *testing.T, e *env) {
	ctx := t.Context()
	a, cut := e.cutOffClient()
	b, c := e.client(), e.client()

	ma := a.Mutex("x")
	_, err := ma.Lock(ctx)
	require.NoError(t, err)
	cut.setCut(true)
	lb, err := b.Mutex("x").Lock(ctx)
	require.NoError(t, err)
	cut.setCut(false)

	require.Error(t, ma.Unlock(ctx), "a's lease was lost")
	_, err = c.Mutex("x").TryLock(ctx)
	require.ErrorIs(t, err, lock.ErrLocked, "b still holds the lock")
	require.NoError(t, lb.Err())
}

func testPausedHolderIsStoppedByTheToken(t *testing.T, e *env) {
	// The classic failure: A checks its lease, pauses (a long garbage
	// collection), and writes after its lease has run out and B has taken
	// the lock. A lock alone cannot prevent it; the token can.
	ctx := t.Context()
	a, cut := e.cutOffClient() // the pause also stops a's renewals
	b := e.client()
	var store lock.FencedStore

	la, err := a.Mutex("x").Lock(ctx)
	require.NoError(t, err)
	require.NoError(t, la.Err(), "a checks its lease: fine")
	cut.setCut(true) // ... and a pauses

	lb, err := b.Mutex("x").Lock(ctx)
	require.NoError(t, err)
	require.NoError(t, store.Put(lb.Token(), "file", "b's data"))

	err = store.Put(la.Token(), "file", "a's data") // a wakes and writes
	require.ErrorIs(t, err, lock.ErrStaleToken)
	v, _ := store.Get("file")
	assert.Equal(t, "b's data", v)
}
