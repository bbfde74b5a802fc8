package demo

import (
	"context"
	"fmt"
	"time"

	"github.com/distsys-kit/distsys/transport/netsim"
)

// RoundGap is the pause between two rounds of an example's live mode
// (Live): long enough for a class to follow each round on the dashboard,
// where every message takes most of a second to cross its link.
const RoundGap = 1500 * time.Millisecond

// Live runs an example for a lecture, under its dashboard: it calls round
// at once and then every gap after the last round ended, with the round's
// number (1, 2, ...), until ctx ends (Ctrl-C); it returns nil then. The
// example's network runs in real time, and round narrates on d.Out(), so
// the class reads on the page what the code sees.
//
// Between rounds Live narrates each change the instructor makes on the
// page (a crash, a partition, new faults: what it means for the nodes),
// and then calls react, if it is not nil, so that the example can start
// again the service of a node the page restarted, as a rebooted machine
// does. A round should survive whatever the page does, saying what failed
// and going on; an error from round or react (other than ctx's) ends Live
// and is returned.
//
// Without the dashboard Live returns nil at once.
func (d *Dashboard) Live(ctx context.Context, gap time.Duration, round func(ctx context.Context, n int) error, react func(netsim.Event) error) error {
	if d.srv == nil {
		return nil
	}
	// changes is how the network's observer tells the loop below what the
	// instructor did. It never blocks the network: a change that finds it
	// full is not narrated (the page lists every change itself), and 64
	// is more clicks than a class makes in one round.
	changes := make(chan netsim.Event, 64)
	stop := d.net.Observe(func(e netsim.Event) {
		if !e.Kind.Message() && e.Kind != netsim.EventHold && e.Kind != netsim.EventResume && e.Kind != netsim.EventLimits {
			select {
			case changes <- e:
			default:
			}
		}
	})
	defer stop()
	timer := time.NewTimer(0)
	defer timer.Stop()
	for n := 1; ; {
		select {
		case <-ctx.Done():
			return nil // Ctrl-C: the lecture is over
		case e := <-changes:
			fmt.Fprintln(d.out, Explain(e))
			if react != nil {
				if err := react(e); err != nil {
					return err
				}
			}
			continue
		case <-timer.C:
		}
		if err := round(ctx, n); err != nil && ctx.Err() == nil {
			return err
		}
		n++
		timer.Reset(gap)
	}
}

// Explain says in a sentence what a change of the network means for the
// nodes on it, as Live narrates it.
func Explain(e netsim.Event) string {
	switch e.Kind {
	case netsim.EventCrash:
		return fmt.Sprintf("%s crashed: its peers hear nothing, not even a goodbye; their calls to it time out.", e.Node)
	case netsim.EventRestart:
		return fmt.Sprintf("%s restarted: it starts its service again, and its peers' next calls reach it.", e.Node)
	case netsim.EventPartition, netsim.EventCutLink, netsim.EventDisconnect:
		return "The network is cut: messages across the cut are lost, and nobody is told."
	case netsim.EventHeal, netsim.EventHealLink, netsim.EventReconnect:
		return "The network heals: messages get through again; lost ones stay lost."
	case netsim.EventFaults:
		return fmt.Sprintf("Faults changed: %v.", e.Faults)
	}
	return fmt.Sprintf("The network changed: %v.", e.Kind)
}

// Up reports whether node is up: not crashed by the page. A live round
// skips the calls of a node that is down, and says so.
func (d *Dashboard) Up(node string) bool {
	if d.net == nil {
		return true
	}
	for _, nd := range d.net.State().Nodes {
		if nd.Name == node {
			return !nd.Crashed
		}
	}
	return true
}
