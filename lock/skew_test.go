package lock_test

import (
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/lock"
)

func TestClockOffsetDoesNotMatter(t *testing.T) {
	// Only durations cross the wire, never times, so a client whose clock
	// is hours off keeps its lease like any other.
	for _, offset := range []time.Duration{-3 * time.Hour, 5 * time.Hour} {
		t.Run(offset.String(), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				ctx := t.Context()
				f := newFixture(t, testConfig())
				a := f.client(ctx, lock.WithClock(newSkewedClock(offset, 1)))
				l, err := a.Mutex("x").Lock(ctx)
				require.NoError(t, err)
				assert.WithinDuration(t, time.Now().Add(offset+ttl), l.Expiry(), time.Second)
				time.Sleep(5 * ttl)
				assert.NoError(t, l.Err())
			})
		})
	}
}

func TestSlowClockHolderBelievesTooLongButIsFenced(t *testing.T) {
	// A's clock runs at a tenth of the speed: it renews every 33 real
	// seconds instead of every 3.3, so the server expires its session
	// while A still believes in its lease. Only the fencing token stops
	// its write.
	synctest.Test(t, func(t *testing.T) {
		ctx := t.Context()
		f := newFixture(t, testConfig())
		a := f.client(ctx, lock.WithClock(newSkewedClock(0, 0.1)))
		b := f.client(ctx)
		var store lock.FencedStore

		la, err := a.Mutex("x").Lock(ctx)
		require.NoError(t, err)
		require.NoError(t, store.Put(la.Token(), "owner", "a"))

		lb, err := b.Mutex("x").Lock(ctx) // granted once a's session expires, plus the lock-delay
		require.NoError(t, err)
		require.NoError(t, store.Put(lb.Token(), "owner", "b"))

		require.NoError(t, la.Err(), "a still believes it holds the lock")
		require.ErrorIs(t, store.Put(la.Token(), "owner", "a"), lock.ErrStaleToken)
		v, _ := store.Get("owner")
		assert.Equal(t, "b", v)

		<-la.Done() // a's next renewal finds its session gone
		assert.ErrorIs(t, la.Err(), lock.ErrSessionExpired)
	})
}
