package reliable_test

import (
	"flag"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/transport"
	"github.com/distsys-kit/distsys/transport/reliable"
)

var soak = flag.Bool("soak", false, "send 100,000 messages each way in the fault tests even under the race detector")

// messagesEachWay is how many messages the fault tests send each way:
// 100,000, or 20,000 under the race detector (which slows everything about
// twentyfold) unless -soak is given.
func messagesEachWay() int {
	if raceEnabled && !*soak {
		return 20_000
	}
	return 100_000
}

// badNetwork is the network of the acceptance test: a fifth of the
// datagrams lost, a tenth duplicated, a tenth held back to be overtaken,
// some corrupted or cut short, all on top of a jittery delay.
var badNetwork = transport.Faults{
	Drop: 0.2, Duplicate: 0.1, Reorder: 0.1, Corrupt: 0.05, Truncate: 0.02,
	Delay: time.Millisecond, Jitter: time.Millisecond, Seed: 20,
}

func TestExactlyOnceInOrderUnderFaults(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := newMemNet()
		client, server := memPipe(t, n, reliable.Config{Seed: 1}, badNetwork)
		exchange(t, client, server, messagesEachWay())

		// The faults really happened, and the protocol repaired them.
		cs, ss := client.Stats(), server.Stats()
		assert.Positive(t, cs.Retransmissions+ss.Retransmissions, "retransmissions")
		assert.Positive(t, cs.Duplicates+ss.Duplicates, "duplicates discarded")
		assert.Positive(t, cs.FastRetransmits+ss.FastRetransmits, "fast retransmits")
		require.NoError(t, client.Close())
		require.NoError(t, server.Close())
	})
}

// The same over real loopback UDP sockets, wrapped in fault injectors, in
// real time (under a second without the race detector).
func TestExactlyOnceInOrderUnderFaultsOverUDP(t *testing.T) {
	t.Parallel()
	client, server := udpPipe(t, reliable.Config{Seed: 1}, badNetwork)
	exchange(t, client, server, messagesEachWay())
	require.NoError(t, client.Close())
	require.NoError(t, server.Close())
	assert.Positive(t, client.(*reliable.Conn).Stats().Retransmissions, "retransmissions")
}
