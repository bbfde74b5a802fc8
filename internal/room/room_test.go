package room_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"testing/synctest"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/internal/room"
)

var errClosed = errors.New("queue closed")

// queue is a bounded queue whose push waits for room, as the package's
// doc shows.
type queue struct {
	mu     sync.Mutex
	items  []int
	max    int
	room   room.Cond
	closed bool
	stop   chan struct{}
}

func newQueue(max int) *queue { return &queue{max: max, stop: make(chan struct{})} }

func (q *queue) push(ctx context.Context, v int) error {
	q.mu.Lock()
	for {
		if q.closed {
			q.mu.Unlock()
			return errClosed
		}
		if len(q.items) < q.max {
			break
		}
		if err := q.room.Wait(ctx, &q.mu, q.stop); err != nil {
			q.mu.Unlock()
			return err
		}
	}
	q.items = append(q.items, v)
	q.mu.Unlock()
	return nil
}

func (q *queue) pop() int {
	q.mu.Lock()
	defer q.mu.Unlock()
	v := q.items[0]
	q.items = q.items[1:]
	q.room.Broadcast()
	return v
}

func (q *queue) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	close(q.stop)
}

func TestWaitEndsAtBroadcastAndEverySenderGetsIn(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := newQueue(1)
		require.NoError(t, q.push(t.Context(), 0))
		errs := make(chan error, 3)
		for i := 1; i <= 3; i++ {
			go func() { errs <- q.push(t.Context(), i) }()
		}
		synctest.Wait() // all three wait for room
		var got []int
		for range 4 {
			got = append(got, q.pop())
			synctest.Wait() // one waiter got in; the others wait again
		}
		for range 3 {
			require.NoError(t, <-errs)
		}
		assert.ElementsMatch(t, []int{0, 1, 2, 3}, got)
	})
}

func TestWaitEndsWithContextAndHoldsTheLock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := newQueue(0)
		ctx, cancel := context.WithCancel(t.Context())
		var mu sync.Mutex
		var c room.Cond
		done := make(chan error, 1)
		go func() {
			mu.Lock()
			err := c.Wait(ctx, &mu, q.stop)
			done <- err
			mu.Unlock() // Wait returned holding mu: unlocking it does not panic
		}()
		synctest.Wait()
		require.True(t, mu.TryLock(), "Wait releases mu while it waits")
		mu.Unlock()
		cancel()
		require.ErrorIs(t, <-done, context.Canceled)
	})
}

func TestCloseUnblocksASenderWaitingForRoom(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		q := newQueue(0)
		done := make(chan error, 1)
		go func() { done <- q.push(t.Context(), 1) }()
		synctest.Wait()
		q.close()
		require.ErrorIs(t, <-done, errClosed)
		assert.Empty(t, q.items)
	})
}

func TestBroadcastWithNoWaiterIsNotRemembered(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		var c room.Cond
		mu.Lock()
		c.Broadcast() // no one waits: nothing to wake, nothing kept
		mu.Unlock()
		woke := make(chan struct{})
		go func() {
			mu.Lock()
			_ = c.Wait(t.Context(), &mu, nil)
			mu.Unlock()
			close(woke)
		}()
		synctest.Wait()
		select {
		case <-woke:
			t.Fatal("Wait returned on a Broadcast made before it began")
		default:
		}
		mu.Lock()
		c.Broadcast()
		mu.Unlock()
		<-woke
	})
}
