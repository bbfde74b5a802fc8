package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/distsys-kit/distsys/dashboard"
	"github.com/distsys-kit/distsys/examples/demo"
	"github.com/distsys-kit/distsys/primarybackup"
	"github.com/distsys-kit/distsys/transport/netsim"
)

// roundGap is the pause between two rounds of calls in the live demo: long
// enough for a class to follow each round on the dashboard.
const roundGap = 1500 * time.Millisecond

// live runs the store for a lecture, under the dashboard of -dashboard:
// the clients make a round of calls every roundGap and say what they see,
// until Ctrl-C, while the instructor partitions, heals and crashes nodes
// on the page. A node the page restarts comes back as a rebooted machine
// does: it starts its service again, the backup with an empty table, the
// primary with the table it had (as if it kept it on disk).
func live(ctx context.Context, cfg config, fs *flag.FlagSet, tr *demo.Tracer, stdout io.Writer) error {
	tr.RecordInMemory() // the rpc calls carry stamps: the page names them
	c, err := startCluster(ctx, cfg, tr)
	defer c.close()
	if err != nil {
		return err
	}
	dash, err := demo.StartDashboard(fs, c.net, stdout,
		dashboard.WithTitle("partition: a primary/backup store"),
		dashboard.WithNodes("alice", "primary", "backup", "bob"))
	if err != nil {
		return err
	}
	defer dash.Close()
	out := dash.Out()

	// changes is how the network's observer tells the loop below what the
	// instructor did. It never blocks the network: a change that finds it
	// full is not narrated (the page lists every change itself), and 64
	// is more clicks than a class makes in one round.
	changes := make(chan netsim.Event, 64)
	stop := c.net.Observe(func(e netsim.Event) {
		if !e.Kind.Message() && e.Kind != netsim.EventHold && e.Kind != netsim.EventResume {
			select {
			case changes <- e:
			default:
			}
		}
	})
	defer stop()

	fmt.Fprintln(out, "alice works next to the primary, bob next to the backup. Split, heal and crash them on the page:")
	fmt.Fprintln(out, "each round, alice writes x and reads it at the primary, bob writes y and reads x at the backup.")
	n := &narrator{out: out, c: c, timeout: cfg.timeout}
	behind := false
	timer := time.NewTimer(0)
	defer timer.Stop()
	for round := 1; ; {
		select {
		case <-ctx.Done():
			return nil // Ctrl-C: the lecture is over
		case e := <-changes:
			if err := react(c, e, tr, out); err != nil {
				return err
			}
			continue
		case <-timer.C:
		}
		fmt.Fprintf(out, "Round %d:\n", round)
		n.round(ctx, round)
		if synced := c.primary.Synced(); synced == behind {
			behind = !synced
			if behind {
				fmt.Fprintln(out, "   The backup is behind the primary: bob's reads there are stale until it catches up.")
			} else {
				fmt.Fprintln(out, "   The backup has caught up: it has the primary's table.")
			}
		}
		round++
		timer.Reset(roundGap)
	}
}

// round makes one round of calls, from the clients that are up: the
// writes, then (once the primary's copy has reached the backup, or could
// not within a timeout) the reads.
func (n *narrator) round(ctx context.Context, round int) {
	up := map[string]bool{}
	for _, nd := range n.c.net.State().Nodes {
		up[nd.Name] = !nd.Crashed
	}
	v := strconv.Itoa(round)
	for _, who := range []string{"alice", "bob"} {
		if !up[who] {
			fmt.Fprintf(n.out, "   %s is down, and makes no calls\n", who)
		}
	}
	if up["alice"] {
		n.put(ctx, "alice", "x", v)
	}
	if up["bob"] {
		n.put(ctx, "bob", "y", v)
	}
	synced, cancel := context.WithTimeout(ctx, n.timeout)
	_ = n.c.primary.WaitSynced(synced, n.c.primary.Confirmations()) // a healthy network copies at once; a cut one never does
	cancel()
	if up["alice"] {
		n.get(ctx, "alice", "x")
	}
	if up["bob"] {
		n.get(ctx, "bob", "x")
	}
}

// react says what a change of the network means, and restarts the service
// of a node that the page restarted.
func react(c *cluster, e netsim.Event, tr *demo.Tracer, out io.Writer) error {
	switch {
	case e.Kind == netsim.EventCrash:
		fmt.Fprintf(out, "%s crashed: its peers hear nothing, not even a goodbye; their calls to it time out.\n", e.Node)
	case e.Kind == netsim.EventRestart && e.Node == "backup":
		fmt.Fprintln(out, "backup restarted with an empty table: the primary's next copy refills it.")
		return c.serve("backup", &primarybackup.Backup{}, tr)
	case e.Kind == netsim.EventRestart && e.Node == "primary":
		fmt.Fprintln(out, "primary restarted, with the table it kept.")
		return c.serve("primary", c.primary, tr)
	case e.Kind == netsim.EventRestart:
		fmt.Fprintf(out, "%s restarted: its client dials again at its next call.\n", e.Node)
	case e.Kind == netsim.EventPartition, e.Kind == netsim.EventCutLink, e.Kind == netsim.EventDisconnect:
		fmt.Fprintln(out, "The network is cut: messages across the cut are lost, and nobody is told.")
	case e.Kind == netsim.EventHeal, e.Kind == netsim.EventHealLink, e.Kind == netsim.EventReconnect:
		fmt.Fprintln(out, "The network heals: messages get through again; lost ones stay lost.")
	case e.Kind == netsim.EventFaults:
		fmt.Fprintf(out, "Faults changed: %v.\n", e.Faults)
	}
	return nil
}
