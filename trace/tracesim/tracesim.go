// Package tracesim connects package trace to the simulated network of
// package netsim, so that the space-time diagram of a simulated run shows
// what the network did: the messages it dropped and why, the ones it
// duplicated, the ones a program sent again (retries, reply-cache
// answers), the crashes and restarts of nodes, the partitions and heals,
// and the faults set on links:
//
//	rec := trace.NewRecorder()
//	net := netsim.NewNetwork(seed, netsim.WithObserver(tracesim.Observer(rec)))
//	l, _ := net.Listen("server")
//	srv := rec.Node("server").WrapListener(l)
//	c, _ := rec.Node("client").WrapDialer(net.Dialer("client")).Dial(ctx, "server")
//
// It works for messages traced by a traced Conn (trace.Node.Wrap) and for
// rpc calls traced by package tracerpc alike: it finds the stamp inside
// the message (trace.FindStamp). Trace node names must be the netsim node
// names, so that a crash of netsim's node "b" is drawn on trace's lane
// "b".
//
// Without the observer the trace is still complete and correct; a dropped
// message is then only "never received" in the diagram, since a traced
// conn cannot see what happens to a message after Send.
//
// It is a package of its own so that package trace, whose clocks are used
// by production code (lock/peer), does not depend on the simulator.
package tracesim

import (
	"fmt"
	"strings"

	"github.com/distsys-kit/distsys/trace"
	"github.com/distsys-kit/distsys/transport/netsim"
)

// Observer returns a function for netsim.WithObserver (or
// Network.Observe) that reports to rec what the network does:
//
//   - every send to rec.Transmitted, which records a resend when the
//     same message is sent again;
//   - every delivery to rec.Arrived, which notes copies beyond the first;
//   - every drop to rec.Dropped, with the reason ("dropped by netsim:
//     partition");
//   - crashes and restarts as events of the node (Node.Crashed,
//     Node.Restarted);
//   - partitions, cut links, disconnections, heals and fault changes as
//     marks (Recorder.Mark).
//
// Messages that carry no trace stamp, and copies damaged beyond reading
// their stamp by Corrupt or Truncate faults, are ignored. The function is
// safe for concurrent use and quick, as netsim requires of an observer.
func Observer(rec *trace.Recorder) func(netsim.Event) {
	return func(e netsim.Event) {
		switch e.Kind {
		case netsim.EventSend:
			rec.Transmitted(e.Msg, e.To)
		case netsim.EventDeliver:
			rec.Arrived(e.Msg, e.To)
		case netsim.EventDrop:
			rec.Dropped(e.Msg, e.To, "dropped by netsim: "+e.Reason.String())
		case netsim.EventCrash:
			rec.Node(e.Node).Crashed()
		case netsim.EventRestart:
			rec.Node(e.Node).Restarted()
		case netsim.EventPartition:
			rec.Mark(trace.KindPartition, groups(e.Groups))
		case netsim.EventCutLink:
			rec.Mark(trace.KindPartition, "cut "+e.From+" → "+e.To)
		case netsim.EventDisconnect:
			rec.Mark(trace.KindPartition, "disconnect "+e.Node)
		case netsim.EventHeal:
			rec.Mark(trace.KindHeal, "every link")
		case netsim.EventHealLink:
			rec.Mark(trace.KindHeal, "heal "+e.From+" → "+e.To)
		case netsim.EventReconnect:
			rec.Mark(trace.KindHeal, "reconnect "+e.Node)
		case netsim.EventFaults:
			rec.Mark(trace.KindFaults, link(e.From, e.To)+": "+e.Faults.String())
		}
	}
}

// groups describes a partition: "{a b} | {c}".
func groups(gs [][]string) string {
	parts := make([]string, len(gs))
	for i, g := range gs {
		parts[i] = "{" + strings.Join(g, " ") + "}"
	}
	return strings.Join(parts, " | ")
}

// link names a link, or every link for the default faults.
func link(from, to string) string {
	if from == "" && to == "" {
		return "every link"
	}
	return fmt.Sprintf("%s → %s", from, to)
}
