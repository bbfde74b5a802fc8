package tally_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/distsys-kit/distsys/rpc"
	"github.com/distsys-kit/distsys/transport"
	"github.com/distsys-kit/distsys/transport/netsim"

	"example.com/starter/tally"
)

// TestMain fails the package's tests if any goroutine outlives them.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// start serves a fresh tally server on node "server" of n and returns it
// with a client on node "client", retrying at most once with retry.
func start(t *testing.T, n *netsim.Network, retry bool) (*tally.Server, *tally.Client) {
	t.Helper()
	s := tally.NewServer()
	srv := rpc.NewServer()
	require.NoError(t, srv.Register(s))
	l, err := n.Listen("server")
	require.NoError(t, err)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }()
	t.Cleanup(func() { srv.Close(); <-served })

	opts := []rpc.DialOption{rpc.WithDialer(n.Dialer("client"))}
	if retry {
		opts = append(opts, rpc.WithRetry(rpc.RetryPolicy{Interval: 50 * time.Millisecond}))
	}
	rc, err := rpc.Dial(context.Background(), "server", opts...)
	require.NoError(t, err)
	t.Cleanup(func() { rc.Close() })
	return s, tally.NewClient(rc)
}

// On a network that loses and duplicates a fifth of all messages, 100
// additions with at-most-once retries leave the counter at exactly 100.
// The test runs in virtual time (synctest): the retries' waits take no
// real time, and the seed makes every run the same.
func TestAddIsExactOnALossyNetwork(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := netsim.NewNetwork(42)
		defer n.Close()
		require.NoError(t, n.SetDefaultFaults(transport.Faults{Drop: 0.2, Duplicate: 0.2, Delay: time.Millisecond}))
		s, c := start(t, n, true)
		for range 100 {
			_, err := c.Add(context.Background(), "visits", 1)
			require.NoError(t, err)
		}
		assert.Equal(t, 100, s.Value("visits"), "each addition ran exactly once")
		assert.Positive(t, n.LinkStats("client", "server").Faults.Dropped, "the faults hit")
	})
}

// Without retries, a lost message fails the call: the caller sees an
// error rather than a wrong count.
func TestALostCallFailsWithoutRetries(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := netsim.NewNetwork(1)
		defer n.Close()
		require.NoError(t, n.SetDefaultFaults(transport.Faults{Drop: 1}))
		_, c := start(t, n, false)
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		_, err := c.Add(ctx, "visits", 1)
		require.ErrorIs(t, err, context.DeadlineExceeded)
	})
}
