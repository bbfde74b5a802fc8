package main

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/distsys-kit/distsys/devcert"
	"github.com/distsys-kit/distsys/examples/demo"
	"github.com/distsys-kit/distsys/rpc"
	"github.com/distsys-kit/distsys/transport"
	"github.com/distsys-kit/distsys/transport/netsim"
)

// network is where the demo runs: the simulator (the default), or TCP on
// 127.0.0.1, with TLS if asked. The same faults apply either way: netsim
// applies them to every link; over TCP, the server's listener is wrapped
// by transport.NewFaultyListener (its replies meet the faults) and each
// client's conn by transport.NewFaultyConn (its requests do).
type network struct {
	sim     *netsim.Network // nil over TCP
	certs   *devcert.Set    // nil without TLS
	faults  transport.Faults
	addr    string       // the server's address
	clients []string     // the clients' node names, on the simulator
	conns   atomic.Int64 // client conns made so far, to give each its own fault seed
}

// newNetwork makes the network the flags ask for. On the simulator, tr
// draws the messages it drops.
func newNetwork(cfg config, tr *demo.Tracer) (*network, error) {
	n := &network{faults: cfg.faults}
	if !cfg.tcp {
		n.sim = netsim.NewNetwork(cfg.faults.Seed, tr.NetsimOptions()...)
		if err := n.sim.SetDefaultFaults(cfg.faults); err != nil {
			n.sim.Close()
			return nil, err
		}
		return n, nil
	}
	if cfg.tls {
		certs, err := devcert.New()
		if err != nil {
			return nil, err
		}
		n.certs = certs
	}
	return n, nil
}

// describe says where the demo runs, once the server is listening.
func (n *network) describe() string {
	switch {
	case n.sim != nil:
		return fmt.Sprintf("on a simulated network (seed %d)", n.sim.Seed())
	case n.certs != nil:
		return "over TLS on " + n.addr + " (throwaway certificates)"
	}
	return "over TCP on " + n.addr
}

// listen returns the server's listener.
func (n *network) listen() (transport.Listener, error) {
	if n.sim != nil {
		n.addr = "server"
		return n.sim.Listen(n.addr)
	}
	var opts []transport.Option
	if n.certs != nil {
		opts = append(opts, transport.WithTLS(n.certs.Server))
	}
	l, err := transport.ListenTCP("127.0.0.1:0", opts...)
	if err != nil {
		return nil, err
	}
	n.addr = l.Addr().String()
	if n.faults.IsZero() {
		return l, nil
	}
	fl, err := transport.NewFaultyListener(l, n.faults)
	if err != nil {
		l.Close()
		return nil, err
	}
	return fl, nil
}

// dial connects a client called name to the server.
func (n *network) dial(ctx context.Context, name string, opts ...rpc.DialOption) (*rpc.Client, error) {
	if n.sim != nil {
		n.clients = append(n.clients, name)
		return rpc.Dial(ctx, n.addr, append(opts, rpc.WithDialer(n.sim.Dialer(name)))...)
	}
	var topts []transport.Option
	if n.certs != nil {
		topts = append(topts, transport.WithTLS(n.certs.Client))
	}
	d := transport.DialerFunc(func(ctx context.Context, addr string) (transport.Conn, error) {
		c, err := transport.DialTCP(ctx, addr, topts...)
		if err != nil || n.faults.IsZero() {
			return c, err
		}
		// Client conns get seeds of their own, above the listener's.
		f := n.faults
		f.Seed += 1000 + n.conns.Add(1)
		fc, err := transport.NewFaultyConn(c, f)
		if err != nil {
			c.Close()
			return nil, err
		}
		return fc, nil
	})
	return rpc.Dial(ctx, n.addr, append(opts, rpc.WithDialer(d))...)
}

// close shuts the simulated network down; TCP needs nothing.
func (n *network) close() {
	if n.sim != nil {
		n.sim.Close()
	}
}

// settle waits until the server has run every request that will reach it,
// late copies included, so that a report counts them. A duplicate can
// arrive after its original was answered, and a naive client's resent
// request after the client got the reply to an earlier copy: the client
// has moved on, but the server has not finished.
//
// On the simulator, the counters show when nothing is in flight
// (demo.Settle). Over TCP they cannot, so settle waits for as long as the
// faults may hold a message back, then until busy, which counts the
// server's calls, has stopped moving for a while.
func (n *network) settle(ctx context.Context, busy func() int64) error {
	if n.sim != nil {
		return demo.Settle(ctx, n.sim, append([]string{n.addr}, n.clients...)...)
	}
	if err := pause(ctx, heldBack(n.faults)); err != nil {
		return err
	}
	const tick, idleTicks = 5 * time.Millisecond, 4
	last := busy()
	for idle := 0; idle < idleTicks; {
		if err := pause(ctx, tick); err != nil {
			return err
		}
		if now := busy(); now != last {
			last, idle = now, 0
			continue
		}
		idle++
	}
	return nil
}

// delivered reports how many messages the simulator has delivered to the
// server; over TCP it cannot tell, and says -1.
func (n *network) delivered() int64 {
	if n.sim == nil {
		return -1
	}
	return n.sim.NodeStats(n.addr).In.Delivered
}

// pause waits for d, or until ctx ends.
func pause(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

// heldBack is the longest the faults hold a message back.
func heldBack(f transport.Faults) time.Duration {
	d := f.Delay + f.Jitter
	switch {
	case f.Reorder > 0 && f.ReorderDelay > 0:
		d += f.ReorderDelay
	case f.Reorder > 0:
		d += transport.DefaultReorderDelay
	}
	return d
}

// retryAfter is how long a client waits for a reply before sending the
// request again: far more than a round trip on this network, so that
// retries answer losses rather than slowness, and a seed replays the run.
func retryAfter(f transport.Faults) time.Duration {
	return 40*time.Millisecond + 4*heldBack(f)
}
