package peer_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/lock/peer"
	"github.com/distsys-kit/distsys/transport"
	"github.com/distsys-kit/distsys/transport/netsim"
)

// newRing starts n ring members, "r0" to "r<n-1>", r0 holding the token.
func newRing(tb testing.TB, net *netsim.Network, n int) ([]*peer.Ring, func()) {
	tb.Helper()
	require.NoError(tb, net.SetDefaultFaults(transport.Faults{Delay: time.Millisecond}))
	ring := make([]*peer.Ring, n)
	for i := range ring {
		name, next := fmt.Sprint("r", i), fmt.Sprint("r", (i+1)%n)
		l, err := net.Listen(name)
		require.NoError(tb, err)
		r, err := peer.NewRing(peer.RingConfig{ID: name, Next: next, First: i == 0, Dialer: net.Dialer(name)}, l)
		require.NoError(tb, err)
		ring[i] = r
	}
	return ring, func() {
		for _, r := range ring {
			_ = r.Close()
		}
	}
}

func TestRingAdmitsOneMemberAtATime(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := t.Context()
		net := netsim.NewNetwork(3)
		defer net.Close()
		const n, rounds = 4, 25
		ring, closeAll := newRing(t, net, n)
		defer closeAll()

		var inside atomic.Int32
		var wg sync.WaitGroup
		for _, r := range ring {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range rounds {
					if err := r.Lock(ctx); err != nil {
						t.Error(err)
						return
					}
					if k := inside.Add(1); k != 1 {
						t.Errorf("%d members in the critical section", k)
					}
					time.Sleep(time.Millisecond)
					inside.Add(-1)
					if err := r.Unlock(ctx); err != nil {
						t.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
		var entries, passes uint64
		for _, r := range ring {
			s := r.Stats()
			entries, passes = entries+s.Entries, passes+s.Passes
		}
		assert.Equal(t, uint64(n*rounds), entries)
		// Everyone always wants the token: about one pass per entry. A
		// member that wants in again at once does not keep the token: it
		// passes it on after every entry.
		assert.LessOrEqual(t, passes, entries+uint64(n))
		assert.GreaterOrEqual(t, passes+1, entries, "the token moves on after every entry")
	})
}

func TestRingStopsWhenAMemberCrashes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := t.Context()
		net := netsim.NewNetwork(3)
		defer net.Close()
		ring, closeAll := newRing(t, net, 3)
		defer closeAll()
		require.NoError(t, ring[1].Lock(ctx)) // the token is at r1...
		net.Crash("r1")                       // ...and is lost with it
		for _, r := range []*peer.Ring{ring[0], ring[2]} {
			wctx, cancel := context.WithTimeout(ctx, time.Hour)
			err := r.Lock(wctx)
			cancel()
			require.ErrorIs(t, err, context.DeadlineExceeded)
		}
	})
}

func TestRingCloseInterruptsLockAndUnlockWithoutLockFails(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := t.Context()
		net := netsim.NewNetwork(3)
		defer net.Close()
		ring, closeAll := newRing(t, net, 2)
		defer closeAll()
		require.ErrorIs(t, ring[0].Unlock(ctx), peer.ErrNotHeld)
		require.NoError(t, ring[1].Lock(ctx))
		errs := make(chan error, 1)
		go func() { errs <- ring[0].Lock(ctx) }()
		synctest.Wait()
		require.NoError(t, ring[0].Close())
		require.ErrorIs(t, <-errs, peer.ErrClosed)
		require.NoError(t, ring[1].Unlock(ctx))
	})
}

func TestRingLockGivesUpWhenItsContextEnds(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := t.Context()
		net := netsim.NewNetwork(3)
		defer net.Close()
		ring, closeAll := newRing(t, net, 2)
		defer closeAll()
		require.NoError(t, ring[1].Lock(ctx))
		wctx, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		require.ErrorIs(t, ring[0].Lock(wctx), context.DeadlineExceeded)
		require.NoError(t, ring[1].Unlock(ctx))
		require.NoError(t, ring[0].Lock(ctx), "the token still goes round")
		require.NoError(t, ring[0].Unlock(ctx))
	})
}
