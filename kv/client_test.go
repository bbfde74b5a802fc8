package kv_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/kv"
	"github.com/distsys-kit/distsys/rpc"
	"github.com/distsys-kit/distsys/transport"
	"github.com/distsys-kit/distsys/transport/netsim"
)

// serve starts the service on node "server" of n, with opts, and returns
// its store.
func serve(tb testing.TB, n *netsim.Network, opts ...kv.Option) *kv.Store {
	tb.Helper()
	store := kv.NewStore()
	srv := rpc.NewServer()
	require.NoError(tb, kv.Register(srv, store, opts...))
	l, err := n.Listen("server")
	require.NoError(tb, err)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()
	tb.Cleanup(func() { srv.Close(); <-served })
	return store
}

// dial returns a client on node from, with the rpc options given.
func dial(tb testing.TB, n *netsim.Network, from string, opts ...rpc.DialOption) *kv.Client {
	tb.Helper()
	rc, err := rpc.Dial(context.Background(), "server", append(opts, rpc.WithDialer(n.Dialer(from)))...)
	require.NoError(tb, err)
	tb.Cleanup(func() { rc.Close() })
	return kv.NewClient(rc)
}

func TestClientOperations(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := netsim.NewNetwork(1)
		defer n.Close()
		serve(t, n)
		c := dial(t, n, "client")
		ctx := context.Background()

		_, _, err := c.Get(ctx, "k")
		require.ErrorIs(t, err, kv.ErrNoKey, "a missing key is ErrNoKey, across the wire")
		ver, err := c.Put(ctx, "k", "a")
		require.NoError(t, err)
		assert.Equal(t, uint64(1), ver)
		ver, err = c.Append(ctx, "k", "b")
		require.NoError(t, err)
		assert.Equal(t, uint64(2), ver)
		v, ver, err := c.Get(ctx, "k")
		require.NoError(t, err)
		assert.Equal(t, "ab", v)
		assert.Equal(t, uint64(2), ver)
	})
}

func TestConflictCrossesTheWireAsATypedError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := netsim.NewNetwork(1)
		defer n.Close()
		serve(t, n)
		a, b := dial(t, n, "a"), dial(t, n, "b") // no rpc.WithErrors needed
		ctx := context.Background()
		_, err := a.Put(ctx, "n", "0")
		require.NoError(t, err)

		_, verA, _ := a.Get(ctx, "n")
		_, verB, _ := b.Get(ctx, "n")
		_, err = a.PutIf(ctx, "n", "1", verA)
		require.NoError(t, err)
		have, err := b.PutIf(ctx, "n", "1", verB)
		require.ErrorIs(t, err, kv.ErrConflict)
		var ce *kv.ConflictError
		require.True(t, errors.As(err, &ce))
		assert.Equal(t, kv.ConflictError{Key: "n", Want: 1, Have: 2}, *ce)
		assert.Equal(t, uint64(2), have, "the version the key is at")
	})
}

func TestAtMostOnceAppendsAreExactOnALossyNetwork(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := netsim.NewNetwork(7)
		defer n.Close()
		require.NoError(t, n.SetDefaultFaults(transport.Faults{Drop: 0.2, Duplicate: 0.2, Delay: time.Millisecond, Jitter: time.Millisecond}))
		store := serve(t, n)
		c := dial(t, n, "client", rpc.WithRetry(rpc.RetryPolicy{Interval: 20 * time.Millisecond}))
		ctx := context.Background()
		var want strings.Builder
		for i := range 50 {
			mark := fmt.Sprintf("%d,", i)
			_, err := c.Append(ctx, "log", mark)
			require.NoError(t, err)
			want.WriteString(mark)
		}
		v, _, err := c.Get(ctx, "log")
		require.NoError(t, err)
		assert.Equal(t, want.String(), v, "every append exactly once, in order")
		assert.Equal(t, int64(50), store.Stats().Appends, "the server ran each append once")
		assert.Positive(t, n.LinkStats("client", "server").Faults.Dropped, "the faults hit")
	})
}

func TestNaiveResendsAppendTwice(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := netsim.NewNetwork(3)
		defer n.Close()
		// Replies are lost, requests are not: every resend runs again.
		require.NoError(t, n.SetFaults("server", "client", transport.Faults{Drop: 0.5}))
		store := serve(t, n)
		c := dial(t, n, "client") // no rpc.WithRetry
		ctx := context.Background()
		for i := range 10 {
			for { // resend, as a new call, until a reply arrives
				actx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
				_, err := c.Append(actx, "log", fmt.Sprint(i))
				cancel()
				if err == nil {
					break
				}
				require.ErrorIs(t, err, context.DeadlineExceeded)
			}
		}
		assert.Greater(t, store.Stats().Appends, int64(10), "a lost reply's append ran again")
	})
}

func TestCancelledCallReturnsTheContextError(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := netsim.NewNetwork(1)
		defer n.Close()
		serve(t, n)
		c := dial(t, n, "client")
		n.Disconnect("client")
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_, err := c.Put(ctx, "k", "v")
		require.ErrorIs(t, err, context.DeadlineExceeded)
		assert.ErrorContains(t, err, `kv: put "k"`)
	})
}
