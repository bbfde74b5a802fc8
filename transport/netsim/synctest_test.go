package netsim_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/transport"
	"github.com/distsys-kit/distsys/transport/netsim"
)

// Inside a synctest bubble, a minute of simulated delay passes in virtual
// time: the test takes milliseconds, and the times it sees are exact.
func TestDelaysPassInVirtualTime(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		n := newNetwork(t, 1)
		require.NoError(t, n.SetFaults("client", "server", transport.Faults{Delay: 20 * time.Second}))
		require.NoError(t, n.SetFaults("server", "client", transport.Faults{Delay: 40 * time.Second}))
		c, s := pipe(t, n, "client", "server")
		ctx := context.Background()
		start := time.Now()
		go func() { // echo
			for {
				msg, err := s.Recv(ctx)
				if err != nil || s.Send(ctx, msg) != nil {
					return
				}
			}
		}()
		require.NoError(t, c.Send(ctx, []byte("ping")))
		reply, err := c.Recv(ctx)
		require.NoError(t, err)
		assert.Equal(t, "ping", string(reply))
		assert.Equal(t, time.Minute, time.Since(start), "one round trip: 20 s there, 40 s back")

		// A client that gives up after 30 s gives up at exactly 30 s.
		short, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		require.NoError(t, c.Send(short, []byte("ping")))
		_, err = c.Recv(short)
		require.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Equal(t, time.Minute+30*time.Second, time.Since(start))
	})
}

// Tens of thousands of messages with random delays go through the delivery
// goroutine's heap in order of arrival time, each at its time.
func TestManyDelayedMessages(t *testing.T) {
	t.Parallel()
	const count = 30_000
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex // guards late and sentAt
		late := 0         // deliveries outside their window: there must be none
		sentAt := make(map[uint64]time.Time, count)
		n := newNetwork(t, 2, netsim.WithObserver(func(e netsim.Event) {
			mu.Lock()
			defer mu.Unlock()
			switch e.Kind {
			case netsim.EventSend:
				sentAt[e.Seq] = e.Time
			case netsim.EventDeliver:
				if d := e.Time.Sub(sentAt[e.Seq]); d < time.Second || d >= 2*time.Second {
					late++
				}
			}
		}))
		require.NoError(t, n.SetDefaultFaults(transport.Faults{Delay: time.Second, Jitter: time.Second}))
		a, b := pipe(t, n, "a", "b")
		ctx := context.Background()
		received := make(chan int)
		go func() {
			k := 0
			for {
				_, err := b.Recv(ctx)
				if errors.Is(err, io.EOF) {
					received <- k
					return
				}
				k++
			}
		}()
		for i := range count {
			require.NoError(t, a.Send(ctx, payload(uint64(i))))
			if i%1000 == 999 {
				time.Sleep(10 * time.Millisecond) // spread the sends over virtual time
			}
		}
		require.NoError(t, a.Close())
		assert.Equal(t, count, <-received)
		mu.Lock()
		defer mu.Unlock()
		assert.Zero(t, late)
	})
}

// Networks share nothing: tests with different faults run in parallel,
// and each gets the schedule its seed gives, as if it ran alone.
func TestParallelNetworksAreIndependent(t *testing.T) {
	t.Parallel()
	run := func(t *testing.T, seed int64) netsim.LinkStats {
		n := newNetwork(t, seed)
		require.NoError(t, n.SetDefaultFaults(transport.Faults{Drop: float64(seed) / 20, Duplicate: 0.1}))
		a, _ := pipe(t, n, "a", "b")
		ctx := testContext(t)
		for i := range 2000 {
			require.NoError(t, a.Send(ctx, payload(uint64(i))))
		}
		return n.LinkStats("a", "b")
	}
	alone := map[int64]netsim.LinkStats{}
	for seed := int64(1); seed <= 8; seed++ {
		alone[seed] = run(t, seed)
	}
	t.Run("group", func(t *testing.T) {
		for seed := int64(1); seed <= 8; seed++ {
			t.Run(fmt.Sprint(seed), func(t *testing.T) {
				t.Parallel()
				assert.Equal(t, alone[seed].Counts, run(t, seed).Counts)
			})
		}
	})
}
