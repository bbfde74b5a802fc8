package demo

import (
	"context"
	"time"

	"github.com/distsys-kit/distsys/transport/netsim"
)

// settleTick and settleTicks: Settle looks at the network every settleTick
// and returns after settleTicks looks in a row that found nothing in
// flight and nothing new.
const (
	settleTick  = time.Millisecond
	settleTicks = 5
)

// Settle waits until no message is on its way between the nodes named,
// and none has been sent or delivered for a few milliseconds: late
// copies of duplicated messages have arrived, and the replies they caused
// have been sent and delivered too. An example calls it before it prints
// the network's counters, so that they do not depend on when it looks. It
// returns ctx.Err() if ctx ends first.
func Settle(ctx context.Context, n *netsim.Network, nodes ...string) error {
	last, still := netsim.Counts{}, 0
	t := time.NewTicker(settleTick)
	defer t.Stop()
	for still < settleTicks {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.C:
		}
		var now netsim.Counts
		for _, node := range nodes {
			out := n.NodeStats(node).Out
			now.Sent += out.Sent
			now.Duplicated += out.Duplicated
			now.Delivered += out.Delivered
			now.Dropped += out.Dropped
		}
		quiet := now.Sent+now.Duplicated == now.Delivered+now.Dropped
		if quiet && now == last {
			still++
		} else {
			still = 0
		}
		last = now
	}
	return nil
}
