package reliable_test

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/transport"
	"github.com/distsys-kit/distsys/transport/netsim"
	"github.com/distsys-kit/distsys/transport/reliable"
)

// goodput streams total bytes of 1 KiB messages from client to server over
// a simulated link with the given limits and faults (both directions), and
// returns the message bytes delivered per second of virtual time, with the
// sender's stats.
func goodput(t *testing.T, cfg reliable.Config, limits netsim.Limits, faults transport.Faults, total int) (float64, reliable.Stats) {
	var rate float64
	var st reliable.Stats
	synctest.Test(t, func(t *testing.T) {
		n := netsim.NewNetwork(1)
		n.LogSeedOnFailure(t)
		defer n.Close()
		require.NoError(t, n.SetDefaultFaults(faults))
		require.NoError(t, n.SetLimits("client", "server", limits))
		require.NoError(t, n.SetLimits("server", "client", limits))
		client, server := netsimPipeWith(t, n, cfg)
		ctx := context.Background()
		msg := make([]byte, 1024)
		count := total / len(msg)
		start := time.Now()
		done := make(chan error, 1)
		go func() {
			for range count {
				if _, err := server.Recv(ctx); err != nil {
					done <- err
					return
				}
			}
			done <- nil
		}()
		for range count {
			require.NoError(t, client.Send(ctx, msg))
		}
		require.NoError(t, <-done)
		rate = float64(count*len(msg)) / time.Since(start).Seconds()
		st = client.Stats()
	})
	return rate, st
}

// A link of 2 MB/s with 5 ms of delay each way and a queue of 32 KB, as a
// router in front of a slow link has: sending more than the link carries
// fills the queue, and the queue drops what does not fit.
var limitedLink = netsim.Limits{Bandwidth: 2_000_000, Queue: 32 << 10}

const limitedLinkDelay = 5 * time.Millisecond

// With congestion control, a connection keeps about what the link carries
// in flight: the queue's drops tell it when it has too much, and goodput
// stays near the link's rate. With a fixed window of 4096 segments (5.6 MB
// in flight, against a link that holds 20 KB plus its queue), almost every
// segment is dropped at the queue and sent again and again: goodput falls,
// and most of what the sender puts on the wire is wasted.
func TestCongestionControlKeepsGoodputNearLinkRate(t *testing.T) {
	const total = 2 << 20
	faults := transport.Faults{Delay: limitedLinkDelay}
	cc, ccStats := goodput(t, reliable.Config{}, limitedLink, faults, total)
	fixed, fixedStats := goodput(t, reliable.Config{FixedWindow: true}, limitedLink, faults, total)
	link := float64(limitedLink.Bandwidth)
	t.Logf("goodput on a %.1f MB/s link: %.2f MB/s with congestion control (%d segments sent for %d), %.2f MB/s with a fixed window (%d)",
		link/1e6, cc/1e6, ccStats.SegmentsSent, ccStats.MessagesSent, fixed/1e6, fixedStats.SegmentsSent)
	assert.Greater(t, cc, 0.8*link, "goodput with congestion control")
	assert.Less(t, ccStats.SegmentsSent, ccStats.MessagesSent*11/10, "segments sent with congestion control: few sent again")
	assert.Greater(t, fixedStats.SegmentsSent, 5*fixedStats.MessagesSent, "segments sent with a fixed window: most dropped at the queue")
	assert.Greater(t, cc, fixed)
}

// Random loss on top of the queue's: congestion control still keeps the
// link busier than a fixed window does, with far less sent again.
func TestCongestionControlUnderRandomLoss(t *testing.T) {
	const total = 2 << 20
	faults := transport.Faults{Delay: limitedLinkDelay, Drop: 0.01}
	cc, ccStats := goodput(t, reliable.Config{}, limitedLink, faults, total)
	fixed, fixedStats := goodput(t, reliable.Config{FixedWindow: true}, limitedLink, faults, total)
	t.Logf("with 1%% random loss: %.2f MB/s with congestion control (%d segments sent), %.2f MB/s with a fixed window (%d)",
		cc/1e6, ccStats.SegmentsSent, fixed/1e6, fixedStats.SegmentsSent)
	assert.Greater(t, cc, 0.8*float64(limitedLink.Bandwidth), "goodput with congestion control")
	assert.Greater(t, cc, fixed)
	assert.Less(t, ccStats.SegmentsSent, ccStats.MessagesSent*12/10)
}
