package rpc_test

import (
	"context"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/rpc"
	"github.com/distsys-kit/distsys/transport"
	"github.com/distsys-kit/distsys/transport/netsim"
)

// TestRetriedCallsTakeEffectExactlyOnce makes many non-idempotent calls
// (Incr) over a network that loses requests and replies, and checks that
// each took effect exactly once: the server's counter equals the number of
// calls, and the replies are 1..n, each once. At most once comes from the
// server's reply cache, "at least once" from the client's retries.
//
// With one calling goroutine the run is fully determined by the seed (the
// bubble's virtual time orders every timer); with several, which message
// meets which fault also depends on how the goroutines interleave.
func TestRetriedCallsTakeEffectExactlyOnce(t *testing.T) {
	tests := []struct {
		name       string
		faults     transport.Faults
		seed       int64
		goroutines int
	}{
		{"Drop10%", transport.Faults{Drop: 0.1}, 1, 1},
		{"Drop10%/seed2", transport.Faults{Drop: 0.1}, 2, 1},
		{"Drop10%/concurrent", transport.Faults{Drop: 0.1}, 3, 8},
		{"DropDuplicateReorderDelay", lossyFaults, 4, 1},
		{"DropDuplicateReorderDelay/concurrent", lossyFaults, 5, 8},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			t.Cleanup(func() {
				if t.Failed() {
					t.Logf("faults %v, seed %d", tt.faults, tt.seed)
				}
			})
			synctest.Test(t, func(t *testing.T) {
				sim, l, d := lossyNetsim(t, tt.faults, tt.seed)
				svc := newArith()
				srv := rpc.NewServer()
				require.NoError(t, srv.Register(svc))
				go func() { _ = srv.Serve(l) }()
				defer srv.Close()
				c, err := rpc.Dial(t.Context(), "server", rpc.WithDialer(d),
					rpc.WithRetry(rpc.RetryPolicy{Interval: 50 * time.Millisecond}))
				require.NoError(t, err)
				defer c.Close()

				const total = 400
				calls := total / tt.goroutines
				var mu sync.Mutex
				var got []int
				var wg sync.WaitGroup
				for range tt.goroutines {
					wg.Go(func() {
						for range calls {
							var r Reply
							if err := c.Call(t.Context(), "Arith.Incr", &Args{A: 1}, &r); err != nil {
								t.Error(err)
								return
							}
							mu.Lock()
							got = append(got, r.C)
							mu.Unlock()
						}
					})
				}
				wg.Wait()

				const n = total
				assert.EqualValues(t, n, svc.n.Load(), "calls that took effect")
				slices.Sort(got)
				want := make([]int, n)
				for i := range want {
					want[i] = i + 1
				}
				assert.Equal(t, want, got, "each call saw its own increment")
				assert.Positive(t, c.Stats().Retries, "the faults made the client retry")
				assert.Positive(t, srv.Stats().Duplicates, "the faults made copies reach the server")
				assert.Positive(t, sim.LinkStats("client", "server").Dropped, "requests were lost")
				assert.Positive(t, sim.LinkStats("server", "client").Dropped, "replies were lost")
			})
		})
	}
}

// lossyNetsim is a simulated network whose links between "client" and
// "server" both apply f.
func lossyNetsim(t *testing.T, f transport.Faults, seed int64) (*netsim.Network, transport.Listener, transport.Dialer) {
	n, l, d := simNet(t, seed)
	require.NoError(t, n.SetFaults("client", "server", f))
	require.NoError(t, n.SetFaults("server", "client", f))
	return n, l, d
}

// startServer serves a fresh Arith on l; stop closes the server.
func startServer(t *testing.T, l transport.Listener) (svc *Arith, stop func()) {
	svc = newArith()
	srv := rpc.NewServer()
	require.NoError(t, srv.Register(svc))
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(l)
	}()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			require.NoError(t, srv.Close())
			<-done
		})
	}
	t.Cleanup(stop)
	return svc, stop
}

// TestServerRestart checks what at most once means across a restart, when
// the server's memory of past calls is lost: a call that was never sent to
// the old server runs on the new one; a call that may have run on the old
// one fails with ErrMaybeExecuted rather than run twice.
func TestServerRestart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n, l, d := simNet(t, 0)
		old, stopOld := startServer(t, l)
		c, err := rpc.Dial(t.Context(), "server", rpc.WithDialer(d),
			rpc.WithRetry(rpc.RetryPolicy{Interval: 100 * time.Millisecond}))
		require.NoError(t, err)
		defer c.Close()
		require.NoError(t, c.Call(t.Context(), "Arith.Incr", &Args{A: 1}, new(Reply)))

		// A call runs on the old server, whose reply is lost; the server
		// is replaced while the client waits to retry.
		require.NoError(t, n.SetFaults("server", "client", transport.Faults{Drop: 1}))
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		call := c.Go(ctx, "Arith.Incr", &Args{A: 1}, new(Reply), nil)
		synctest.Wait()
		require.EqualValues(t, 2, old.n.Load(), "the old server ran the call")
		stopOld() // its goodbye is lost too, as the reply was
		n.ClearFaults("server", "client")
		l, err = n.Listen("server")
		require.NoError(t, err)
		fresh, _ := startServer(t, l)

		err = (<-call.Done).Error
		var re *rpc.RemoteError
		require.ErrorAs(t, err, &re)
		require.ErrorIs(t, err, rpc.ErrMaybeExecuted)
		assert.EqualValues(t, 2, old.n.Load())
		assert.Zero(t, fresh.n.Load(), "the new server did not run it again")

		// A new call, never sent to the old server, runs normally.
		var r Reply
		require.NoError(t, c.Call(ctx, "Arith.Incr", &Args{A: 1}, &r))
		assert.Equal(t, 1, r.C)
		assert.EqualValues(t, 1, fresh.n.Load())
	})
}

// TestCrashAndRestartOnNetsim is TestServerRestart with a simulated crash:
// the server's machine dies while the reply is in flight, and comes back
// with a new server that knows nothing of the call.
func TestCrashAndRestartOnNetsim(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := netsim.NewNetwork(3)
		defer n.Close()
		n.LogSeedOnFailure(t)
		require.NoError(t, n.SetDefaultFaults(transport.Faults{Delay: 10 * time.Millisecond}))
		l, err := n.Listen("server")
		require.NoError(t, err)
		old, stopOld := startServer(t, l)
		c, err := rpc.Dial(t.Context(), "server", rpc.WithDialer(n.Dialer("client")),
			rpc.WithRetry(rpc.RetryPolicy{Interval: 100 * time.Millisecond}))
		require.NoError(t, err)
		defer c.Close()
		require.NoError(t, c.Call(t.Context(), "Arith.Incr", &Args{A: 1}, new(Reply)))

		call := c.Go(t.Context(), "Arith.Incr", &Args{A: 1}, new(Reply), nil)
		// In virtual time, 15 ms on: the request arrived at 10 ms and ran,
		// the reply is on its way (due at 20 ms).
		time.Sleep(15 * time.Millisecond)
		require.EqualValues(t, 2, old.n.Load())
		n.Crash("server")
		stopOld()
		n.Restart("server")
		l, err = n.Listen("server")
		require.NoError(t, err)
		fresh, _ := startServer(t, l)

		err = (<-call.Done).Error
		require.ErrorIs(t, err, rpc.ErrMaybeExecuted)
		assert.Zero(t, fresh.n.Load(), "the new server did not run it again")
		var r Reply
		require.NoError(t, c.Call(t.Context(), "Arith.Incr", &Args{A: 1}, &r))
		assert.Equal(t, 1, r.C)
	})
}

// TestIdleClientSurvivesRestart checks that a client whose last calls went
// to an old server, which shut down gracefully (and so told the client),
// makes its next call on the new one without error: the call never
// reached the old server, so it is safe to run. After a crash it is
// otherwise: see TestIdleClientAfterCrash.
func TestIdleClientSurvivesRestart(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n, l, d := simNet(t, 0)
		_, stopOld := startServer(t, l)
		c, err := rpc.Dial(t.Context(), "server", rpc.WithDialer(d), rpc.WithRetry(rpc.RetryPolicy{}))
		require.NoError(t, err)
		defer c.Close()
		require.NoError(t, c.Call(t.Context(), "Arith.Incr", &Args{A: 1}, new(Reply)))

		stopOld()
		l, err = n.Listen("server")
		require.NoError(t, err)
		fresh, _ := startServer(t, l)
		var r Reply
		require.NoError(t, c.Call(t.Context(), "Arith.Incr", &Args{A: 5}, &r))
		assert.Equal(t, 5, r.C)
		assert.EqualValues(t, 5, fresh.n.Load())
	})
}

// TestTooManyUnacknowledgedCalls checks the per-client bound of the reply
// cache: calls beyond it are refused, not run.
func TestTooManyUnacknowledgedCalls(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		_, l, d := simNet(t, 0)
		svc := newArith()
		srv := rpc.NewServer(rpc.WithReplyCache(0, 2))
		require.NoError(t, srv.Register(svc))
		go func() { _ = srv.Serve(l) }()
		defer srv.Close()
		c, err := rpc.Dial(t.Context(), "server", rpc.WithDialer(d), rpc.WithRetry(rpc.RetryPolicy{}))
		require.NoError(t, err)
		defer c.Close()

		first := c.Go(t.Context(), "Arith.Wait", &Args{}, new(Reply), nil)
		second := c.Go(t.Context(), "Arith.Wait", &Args{}, new(Reply), nil)
		for range 2 {
			<-svc.entered
		}
		err = c.Call(t.Context(), "Arith.Incr", &Args{A: 1}, new(Reply))
		require.ErrorIs(t, err, rpc.ErrTooManyCalls)
		assert.Zero(t, svc.n.Load())

		close(svc.release)
		require.NoError(t, (<-first.Done).Error)
		require.NoError(t, (<-second.Done).Error)
		require.NoError(t, c.Call(t.Context(), "Arith.Incr", &Args{A: 1}, new(Reply)), "acknowledged replies make room")
	})
}

// TestWindowHoldsNewCallsBack checks the client's window: with two calls
// unfinished and a window of two, a third call waits, and sends nothing,
// until the oldest finishes.
func TestWindowHoldsNewCallsBack(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		_, l, d := simNet(t, 0)
		svc, _ := startServerWith(t, l)
		c, err := rpc.Dial(t.Context(), "server", rpc.WithDialer(d), rpc.WithRetry(rpc.RetryPolicy{Window: 2}))
		require.NoError(t, err)
		defer c.Close()

		first := c.Go(t.Context(), "Arith.Wait", &Args{}, new(Reply), nil)
		second := c.Go(t.Context(), "Arith.Wait", &Args{}, new(Reply), nil)
		for range 2 {
			<-svc.entered
		}
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		err = c.Call(ctx, "Arith.Incr", &Args{A: 1}, new(Reply))
		require.ErrorIs(t, err, context.DeadlineExceeded)
		assert.Zero(t, svc.n.Load(), "the held call did not run")

		third := c.Go(t.Context(), "Arith.Incr", &Args{A: 1}, new(Reply), nil)
		synctest.Wait()
		assert.Zero(t, svc.n.Load(), "still held back")
		close(svc.release)
		require.NoError(t, (<-first.Done).Error)
		require.NoError(t, (<-second.Done).Error)
		require.NoError(t, (<-third.Done).Error)
		assert.EqualValues(t, 1, svc.n.Load())
	})
}

// The resend that follows the server's epoch answer is part of how
// WithRetry starts, not a loss: on a perfect network Retries stays zero.
func TestRetriesCountOnlyLosses(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		_, l, d := simNet(t, 1)
		srv := rpc.NewServer()
		require.NoError(t, srv.Register(newArith()))
		go func() { _ = srv.Serve(l) }()
		defer srv.Close()
		c, err := rpc.Dial(t.Context(), "server", rpc.WithDialer(d),
			rpc.WithRetry(rpc.RetryPolicy{Interval: 50 * time.Millisecond}))
		require.NoError(t, err)
		defer c.Close()
		for range 5 {
			var r Reply
			require.NoError(t, c.Call(t.Context(), "Arith.Incr", &Args{A: 1}, &r))
		}
		assert.Zero(t, c.Stats().Retries)
	})
}

// TestIdleClientAfterCrash pins down what TestIdleClientSurvivesRestart
// does not promise: after a crash, unlike a graceful restart, nobody tells
// an idle client its connection is dead. Its next call goes out on it, and
// by the time the client resends on a new connection it cannot know
// whether the first copy reached the old server: the call fails with
// ErrMaybeExecuted, although it never ran. The call after it runs.
func TestIdleClientAfterCrash(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := netsim.NewNetwork(5)
		defer n.Close()
		n.LogSeedOnFailure(t)
		l, err := n.Listen("server")
		require.NoError(t, err)
		_, stopOld := startServer(t, l)
		c, err := rpc.Dial(t.Context(), "server", rpc.WithDialer(n.Dialer("client")),
			rpc.WithRetry(rpc.RetryPolicy{Interval: 100 * time.Millisecond}))
		require.NoError(t, err)
		defer c.Close()
		require.NoError(t, c.Call(t.Context(), "Arith.Incr", &Args{A: 1}, new(Reply)))

		n.Crash("server")
		stopOld()
		n.Restart("server")
		l, err = n.Listen("server")
		require.NoError(t, err)
		fresh, _ := startServer(t, l)

		err = c.Call(t.Context(), "Arith.Incr", &Args{A: 1}, new(Reply))
		require.ErrorIs(t, err, rpc.ErrMaybeExecuted)
		assert.Zero(t, fresh.n.Load(), "it did not run")
		var r Reply
		require.NoError(t, c.Call(t.Context(), "Arith.Incr", &Args{A: 1}, &r))
		assert.Equal(t, 1, r.C)
	})
}
