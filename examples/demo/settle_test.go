package demo

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/transport"
	"github.com/distsys-kit/distsys/transport/netsim"
)

func TestSettleWaitsForLateCopies(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := netsim.NewNetwork(1)
		defer n.Close()
		require.NoError(t, n.SetDefaultFaults(transport.Faults{Delay: 30 * time.Millisecond, Duplicate: 1}))
		l, err := n.Listen("b")
		require.NoError(t, err)
		defer l.Close()
		ctx := context.Background()
		c, err := n.Dial(ctx, "a", "b")
		require.NoError(t, err)
		defer c.Close()
		require.NoError(t, c.Send(ctx, []byte("hello")))

		require.NoError(t, Settle(ctx, n, "a", "b"))
		out := n.NodeStats("a").Out
		assert.Equal(t, int64(1), out.Sent)
		assert.Equal(t, int64(2), out.Delivered, "both copies had arrived when Settle returned")
	})
}

func TestSettleEndsWithItsContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := netsim.NewNetwork(1)
		defer n.Close()
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		assert.ErrorIs(t, Settle(ctx, n, "a"), context.Canceled)
	})
}
