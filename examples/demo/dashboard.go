package demo

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/distsys-kit/distsys/dashboard"
	"github.com/distsys-kit/distsys/raft"
	"github.com/distsys-kit/distsys/trace"
	"github.com/distsys-kit/distsys/transport/netsim"
)

// dashboardFlag is the name of the flag DashboardFlag adds.
const dashboardFlag = "dashboard"

// DashboardFlag adds -dashboard ADDR: serve a live dashboard of the
// simulated network on ADDR (such as 127.0.0.1:8080), where an instructor
// watches the messages and partitions, heals and crashes nodes with a
// click. FaultFlags adds it; an example that does not use FaultFlags may
// add it alone. StartDashboard reads it.
func DashboardFlag(fs *flag.FlagSet) {
	if fs.Lookup(dashboardFlag) == nil {
		fs.String(dashboardFlag, "", "serve a live dashboard of the simulated network on this `address` (such as 127.0.0.1:8080), and run until Ctrl-C (an example that cannot run on the simulated network refuses it)")
	}
}

// Dashboard is an example's running dashboard, or nothing when -dashboard
// was not given: then its methods do nothing, so an example calls them
// unconditionally.
type Dashboard struct {
	srv *dashboard.Server // nil when off
	net *netsim.Network   // the network it shows, when on
	out io.Writer
}

// StartDashboard serves the dashboard of n on the address of fs's
// -dashboard flag, if it was given, and tells out where to open it. It is
// the one line that wires an example:
//
//	dash, err := demo.StartDashboard(fs, net, stdout)
//	if err != nil {
//		return err
//	}
//	defer dash.Close()
//
// n may be nil for an example that runs over TCP; -dashboard is then an
// error, as it is when the address cannot be listened on. Options go to
// dashboard.New (the nodes' order, the title).
func StartDashboard(fs *flag.FlagSet, n *netsim.Network, out io.Writer, opts ...dashboard.Option) (*Dashboard, error) {
	d := &Dashboard{out: out}
	f := fs.Lookup(dashboardFlag)
	if f == nil || f.Value.String() == "" {
		return d, nil
	}
	if n == nil {
		return nil, errors.New("-dashboard: the dashboard shows the simulated network, and this run has none")
	}
	srv, err := dashboard.Serve(f.Value.String(), n, opts...)
	if err != nil {
		return nil, fmt.Errorf("-dashboard: %w", err)
	}
	d.srv, d.net = srv, n
	d.out = io.MultiWriter(out, srv.Dashboard())
	fmt.Fprintf(out, "The dashboard is at %s: open it in a browser. Ctrl-C ends the run.\n\n", srv.URL())
	return d, nil
}

// On reports whether the dashboard runs.
func (d *Dashboard) On() bool { return d.srv != nil }

// Out returns where the example narrates: the out StartDashboard was
// given, and the dashboard's page too when it runs.
func (d *Dashboard) Out() io.Writer { return d.out }

// Wait blocks until ctx ends, if the dashboard runs, so that the
// instructor can go on using it after the example's own steps; it returns
// at once otherwise. It returns nil.
func (d *Dashboard) Wait(ctx context.Context) error {
	if d.srv != nil {
		<-ctx.Done()
	}
	return nil
}

// Close stops the dashboard, if it runs.
func (d *Dashboard) Close() {
	if d.srv != nil {
		d.srv.Close()
	}
}

// RaftLabel names a message on the dashboard of a service on raft (pass
// it to dashboard.WithLabel): an rpc call by its trace stamp, a raft
// message by its type, anything else not at all.
func RaftLabel(msg []byte) string {
	if s, err := trace.FindStamp(msg); err == nil {
		return s.Label
	}
	if m, err := raft.DecodeMessage(msg); err == nil {
		return m.Type.String()
	}
	return ""
}
