// Package tracesim connects package trace to the simulated network of
// package netsim, so that the space-time diagram of a simulated run shows
// the messages the network dropped, and why:
//
//	rec := trace.NewRecorder()
//	net := netsim.NewNetwork(seed, netsim.WithObserver(tracesim.Observer(rec)))
//	l, _ := net.Listen("server")
//	srv := rec.Node("server").WrapListener(l)
//	c, _ := rec.Node("client").WrapDialer(net.Dialer("client")).Dial(ctx, "server")
//
// Without the observer the trace is still complete and correct; a dropped
// message is then only "never received" in the diagram, since a traced conn
// cannot see what happens to a message after Send. The observer ignores
// sends, deliveries and duplicates: the traced conns record those as the
// program sees them (a duplicate is a second receive of the same message).
//
// It is a package of its own so that package trace, whose clocks are used
// by production code (lock/peer), does not depend on the simulator.
package tracesim

import (
	"github.com/distsys-kit/distsys/trace"
	"github.com/distsys-kit/distsys/transport/netsim"
)

// Observer returns a function for netsim.WithObserver that reports every
// message copy the network drops to rec (trace.Recorder.Dropped), noting the
// reason ("dropped by netsim: partition"). Messages that traced conns did
// not send, and copies damaged beyond reading their header by Corrupt or
// Truncate faults, are ignored. The function is safe for concurrent use and
// quick, as netsim requires of an observer.
func Observer(rec *trace.Recorder) func(netsim.Event) {
	return func(e netsim.Event) {
		if e.Kind == netsim.EventDrop {
			rec.Dropped(e.Msg, e.To, "dropped by netsim: "+e.Reason.String())
		}
	}
}
