package netsim_test

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

func TestCountersAddUp(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		n := newNetwork(t, 4)
		require.NoError(t, n.SetDefaultFaults(transport.Faults{Drop: 0.2, Duplicate: 0.2, Jitter: time.Millisecond}))
		ab, ba := pipe(t, n, "a", "b")
		cb, _ := pipe(t, n, "c", "b")
		ctx := context.Background()
		for range 1000 {
			require.NoError(t, ab.Send(ctx, make([]byte, 10)))
			require.NoError(t, ba.Send(ctx, make([]byte, 20)))
			require.NoError(t, cb.Send(ctx, make([]byte, 30)))
		}
		time.Sleep(time.Second) // virtual: everything has arrived

		var in netsim.Counts
		for _, from := range []string{"a", "c"} {
			s := n.LinkStats(from, "b")
			assert.EqualValues(t, 1000, s.Sent, from)
			assert.Equal(t, s.Sent+s.Duplicated, s.Delivered+s.Dropped, from)
			assert.Equal(t, s.Faults.Delivered, s.Delivered, from)
			assert.Equal(t, s.Faults.Dropped, s.Dropped, from)
			in.Sent += s.Sent
			in.Delivered += s.Delivered
			in.DeliveredBytes += s.DeliveredBytes
		}
		b := n.NodeStats("b")
		assert.Equal(t, in.Sent, b.In.Sent)
		assert.Equal(t, in.Delivered, b.In.Delivered)
		assert.Equal(t, in.DeliveredBytes, b.In.DeliveredBytes)
		assert.EqualValues(t, 1000, b.Out.Sent)
		assert.EqualValues(t, 20_000, b.Out.SentBytes)
		assert.Equal(t, n.LinkStats("b", "a").Counts, b.Out)

		assert.Equal(t, netsim.LinkStats{}, n.LinkStats("x", "y"), "a link never used")
		assert.Equal(t, netsim.NodeStats{}, n.NodeStats("x"), "a node never named")
	})
}

func TestNodeStatsCountTimeCutOff(t *testing.T) {
	t.Parallel()
	synctest.Test(t, func(t *testing.T) {
		n := newNetwork(t, 1)
		n.Partition([]string{"a"}, []string{"b", "c"})
		time.Sleep(2 * time.Second)
		n.Heal()
		time.Sleep(time.Second)
		n.Disconnect("c")
		time.Sleep(5 * time.Second)
		assert.Equal(t, 2*time.Second, n.NodeStats("a").Partitioned, "c's Disconnect does not count for a")
		assert.Equal(t, 7*time.Second, n.NodeStats("c").Partitioned, "counted up to now")
		assert.Equal(t, 2*time.Second, n.LinkStats("a", "b").Partitioned)
		assert.Equal(t, 7*time.Second, n.LinkStats("a", "c").Partitioned)
		assert.Equal(t, 5*time.Second, n.LinkStats("b", "c").Partitioned)
		n.Reconnect("c")
		time.Sleep(time.Second)
		assert.Equal(t, 7*time.Second, n.NodeStats("c").Partitioned)
	})
}
