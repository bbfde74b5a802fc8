package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"

	"github.com/distsys-kit/distsys/dashboard"
	"github.com/distsys-kit/distsys/examples/demo"
	"github.com/distsys-kit/distsys/kv"
	"github.com/distsys-kit/distsys/rpc"
	"github.com/distsys-kit/distsys/transport/netsim"
)

// live runs the key-value service for a lecture, under the dashboard of
// -dashboard: every round each client appends a mark to "log" and
// increments "count" by compare-and-set, until Ctrl-C, while the
// instructor makes links lossy, cuts and crashes nodes on the page. The
// narration checks after each round that the server ran every append and
// increment once: a lossy link costs resends, not exactness (unless
// -naive).
func live(ctx context.Context, cfg config, tr *demo.Tracer, stdout io.Writer) error {
	if cfg.tcp {
		_, err := demo.StartDashboard(cfg.flags, nil, stdout) // refused: TCP is not the simulator
		return err
	}
	tr.RecordInMemory() // the rpc calls carry stamps: the page names them
	n, err := newNetwork(cfg, tr)
	if err != nil {
		return err
	}
	defer n.close()
	store := kv.NewStore()
	var servers []func() // stop the servers started, in reverse order
	defer func() {
		for _, stop := range slices.Backward(servers) {
			stop()
		}
	}()
	serve := func() error {
		l, err := n.listen()
		if err != nil {
			return err
		}
		srv := rpc.NewServer(tr.ServerOptions("server")...)
		if err := kv.Register(srv, store); err != nil {
			l.Close()
			return err
		}
		served := make(chan error, 1)
		go func() { served <- srv.Serve(l) }() // exits when srv is closed
		servers = append(servers, func() { srv.Close(); <-served })
		return nil
	}
	if err := serve(); err != nil {
		return err
	}
	wait := retryAfter(cfg.faults)
	names := []string{"server"}
	clients := make([]*client, cfg.clients)
	for i := range clients {
		name := fmt.Sprintf("client-%d", i+1)
		opts := tr.ClientOptions(name, "server")
		if !cfg.naive {
			opts = append(opts, rpc.WithRetry(rpc.RetryPolicy{Interval: wait, MaxInterval: 2 * wait}))
		}
		rc, err := n.dial(ctx, name, opts...)
		if err != nil {
			return err
		}
		defer rc.Close()
		clients[i] = newClient(name, rc, cfg.naive, wait, cfg.timeout)
		names = append(names, name)
	}
	dash, err := demo.StartDashboard(cfg.flags, n.sim, stdout,
		dashboard.WithTitle("kv: at-most-once retries and compare-and-set"), dashboard.WithNodes(names...))
	if err != nil {
		return err
	}
	defer dash.Close()
	out := dash.Out()
	fmt.Fprintf(out, "Each round every client appends a mark to \"log\" and adds one to \"count\" (read, then KV.PutIf).\n")
	fmt.Fprintln(out, "Make a link lossy on the page: clients resend, and the server still runs each call once. Cut or crash: calls give up.")

	var marks, increments int // done, as the clients know it
	var mu sync.Mutex         // protects marks, increments, and the narration of one round's clients
	round := func(ctx context.Context, r int) error {
		fmt.Fprintf(out, "Round %d:\n", r)
		each(clients, func(c *client) error {
			if !dash.Up(c.name) {
				mu.Lock()
				defer mu.Unlock()
				fmt.Fprintf(out, "   %s is down, and makes no calls\n", c.name)
				return nil
			}
			mark := fmt.Sprintf("%s.%d ", strings.TrimPrefix(c.name, "client-"), r)
			aerr := c.appendMark(ctx, "log", mark)
			refused, ierr := c.increment(ctx, "count")
			mu.Lock()
			defer mu.Unlock()
			if aerr == nil {
				marks++
			}
			if ierr == nil {
				increments++
			}
			fmt.Fprintf(out, "   %s appends %q: %s; adds one to count: %s\n", c.name, strings.TrimSpace(mark), verdict(aerr, 0), verdict(ierr, refused))
			return nil
		})
		e, _ := store.Get("log")
		c, _ := store.Get("count")
		fmt.Fprintf(out, "   The server has %d marks in log (the clients saw %d appended) and count = %s (%d increments seen).\n",
			len(strings.Fields(e.Value)), marks, c.Value, increments)
		return nil
	}
	// A restarted server serves the same store, as if it kept it on disk,
	// with a fresh rpc server: a new reply cache, and a new epoch that
	// the clients learn.
	react := func(e netsim.Event) error {
		if e.Kind == netsim.EventRestart && e.Node == "server" {
			return serve()
		}
		return nil
	}
	if err := dash.Live(ctx, demo.RoundGap, round, react); err != nil {
		return err
	}
	return tr.Write(stdout)
}

// verdict says how a client's operation ended.
func verdict(err error, refused int) string {
	switch {
	case errors.Is(err, errGaveUp):
		return "GAVE UP, no answer (did it run? the client cannot tell)"
	case err != nil:
		return "FAILED: " + err.Error()
	case refused == 1:
		return "done, after 1 refusal (another client wrote first)"
	case refused > 1:
		return fmt.Sprintf("done, after %d refusals (others wrote first)", refused)
	}
	return "done"
}
