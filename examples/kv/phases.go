package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/distsys-kit/distsys/examples/internal/demo"
	"github.com/distsys-kit/distsys/rpc"
)

// stage is everything a part of the demo uses.
type stage struct {
	cfg     config
	out     io.Writer
	net     *network
	kv      *KV
	srv     *rpc.Server
	clients []*client
}

// show starts the server and the clients and runs the three parts of the
// demo, narrating on out.
func show(ctx context.Context, cfg config, tr *demo.Tracer, out io.Writer) error {
	n, err := newNetwork(cfg, tr)
	if err != nil {
		return err
	}
	defer n.close()

	// Both sides declare errConflict, so it survives the wire.
	kv := newKV()
	srv := rpc.NewServer(append(tr.ServerOptions("server"), rpc.WithErrors(errConflict))...)
	if err := srv.Register(kv); err != nil {
		return err
	}
	l, err := n.listen()
	if err != nil {
		return err
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }() // exits when srv is closed
	defer func() { srv.Close(); <-served }()

	wait := retryAfter(cfg.faults)
	clients := make([]*client, cfg.clients)
	for i := range clients {
		name := fmt.Sprintf("client-%d", i+1)
		opts := append(tr.ClientOptions(name, "server"), rpc.WithErrors(errConflict))
		if !cfg.naive {
			opts = append(opts, rpc.WithRetry(rpc.RetryPolicy{Interval: wait, MaxInterval: 2 * wait}))
		}
		rc, err := n.dial(ctx, name, opts...)
		if err != nil {
			return err
		}
		defer rc.Close()
		clients[i] = &client{name: name, rc: rc, naive: cfg.naive, wait: wait}
	}
	fmt.Fprintf(out, "kv: a key-value server and %d clients %s; %v\n", cfg.clients, n.describe(), cfg.faults)
	if cfg.naive {
		fmt.Fprintf(out, "Clients resend a call that gets no reply in %v as a new call: the server runs every copy (-naive).\n", wait)
	} else {
		fmt.Fprintf(out, "Clients resend a call that gets no reply in %v; the server runs each call at most once (rpc.WithRetry).\n", wait)
	}
	// A client's first at-most-once call is sent twice: once to learn the
	// server's epoch (see package rpc). A first read keeps that out of the
	// counts below.
	if err := each(clients, func(c *client) error { _, err := c.get(ctx, "hits"); return err }); err != nil {
		return err
	}

	s := &stage{cfg: cfg, out: out, net: n, kv: kv, srv: srv, clients: clients}
	for _, part := range []func(context.Context) error{s.addPart, s.racePart, s.casPart} {
		if err := part(ctx); err != nil {
			return err
		}
	}
	if cfg.naive {
		fmt.Fprintln(out, "\nWithout at-most-once, a request whose reply was lost runs again when it is resent, and so does a")
		fmt.Fprintln(out, "duplicated one. A resent KV.Put that already ran is refused by its own first copy, and the writer increments again.")
	} else {
		fmt.Fprintln(out, "\nTry -drop 0.2 -dup 0.1: the counts stay exact. Then add -naive: they do not.")
	}
	return nil
}

// addPart: every client adds 1 to "hits" cfg.n times with KV.Add, which is
// not idempotent, so every copy the server runs counts.
func (s *stage) addPart(ctx context.Context) error {
	fmt.Fprintf(s.out, "\n1. Each client adds 1 to \"hits\" %d times with KV.Add, which is not idempotent.\n", s.cfg.n)
	retried, dups := totalRetries(s.clients), s.srv.Stats().Duplicates
	err := each(s.clients, func(c *client) error {
		for range s.cfg.n {
			if err := c.call(ctx, "KV.Add", &AddArgs{Key: "hits", Delta: 1}, nil); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := s.report(ctx, "hits", s.cfg.clients*s.cfg.n); err != nil {
		return err
	}
	fmt.Fprintf(s.out, "   Clients resent %d requests that got no reply in time; the server ran KV.Add %d times\n",
		totalRetries(s.clients)-retried, s.kv.stats().adds)
	fmt.Fprintf(s.out, "   and answered %d copies of requests it had already run from its reply cache.\n", s.srv.Stats().Duplicates-dups)
	return nil
}

// racePart shows a compare-and-set conflict step by step: two clients both
// read "cas", the first writes, and the second's write, based on an old
// version, is refused.
func (s *stage) racePart(ctx context.Context) error {
	const key = "cas"
	a, b := s.clients[0], s.clients[1]
	fmt.Fprintf(s.out, "\n2. %s and %s both add 1 to %q by read-modify-write: KV.Get, then KV.Put only if the version is still the one read.\n", a.name, b.name, key)
	ea, err := a.get(ctx, key)
	if err != nil {
		return err
	}
	eb, err := b.get(ctx, key)
	if err != nil {
		return err
	}
	fmt.Fprintf(s.out, "   %s reads %q = %d at version %d; %s reads %q = %d at version %d.\n",
		a.name, key, ea.Value, ea.Version, b.name, key, eb.Value, eb.Version)
	for _, w := range []struct {
		c *client
		e Entry
	}{{a, ea}, {b, eb}} {
		got, err := w.c.put(ctx, key, w.e.Value+1, w.e.Version)
		switch {
		case err == nil:
			fmt.Fprintf(s.out, "   %s puts %d at version %d: accepted, %q is now at version %d.\n", w.c.name, w.e.Value+1, w.e.Version, key, got.Version)
		case errors.Is(err, errConflict):
			fmt.Fprintf(s.out, "   %s puts %d at version %d: refused, with the error\n      %v\n", w.c.name, w.e.Value+1, w.e.Version, err)
			fmt.Fprintf(s.out, "   errors.Is(err, errConflict) holds on %s (rpc.WithErrors), so it reads again and retries.\n", w.c.name)
			if _, err := w.c.increment(ctx, key); err != nil {
				return err
			}
		default:
			return err
		}
	}
	if err := s.report(ctx, key, 2); err != nil {
		return err
	}
	fmt.Fprintf(s.out, "   Without the version check, %s would have written %d over %s's %d: an increment lost.\n", b.name, eb.Value+1, a.name, ea.Value+1)
	return nil
}

// casPart: every client increments "cas" cfg.n times at once, by
// read-modify-write with compare-and-set.
func (s *stage) casPart(ctx context.Context) error {
	fmt.Fprintf(s.out, "\n3. Each client increments \"cas\" %d more times the same way, all at once.\n", s.cfg.n)
	before, start := s.kv.stats().refused, s.kv.value("cas").Value
	err := each(s.clients, func(c *client) error {
		for range s.cfg.n {
			if _, err := c.increment(ctx, "cas"); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := s.report(ctx, "cas", start+s.cfg.clients*s.cfg.n); err != nil {
		return err
	}
	fmt.Fprintf(s.out, "   %d KV.Puts were refused because the version had changed: the writer read again and retried.\n", s.kv.stats().refused-before)
	return nil
}

// report waits for late copies of requests to be run, then prints a key's
// final value against the expected one.
func (s *stage) report(ctx context.Context, key string, want int) error {
	busy := func() int64 { return s.srv.Stats().Calls + s.kv.stats().handled }
	if err := s.net.settle(ctx, busy); err != nil {
		return err
	}
	got := s.kv.value(key).Value
	switch {
	case got == want:
		fmt.Fprintf(s.out, "   %q = %d, expected %d: exact.\n", key, got, want)
	case got > want:
		fmt.Fprintf(s.out, "   %q = %d, expected %d: WRONG, %s too many.\n", key, got, want, increments(got-want))
	default:
		fmt.Fprintf(s.out, "   %q = %d, expected %d: WRONG, %s lost.\n", key, got, want, increments(want-got))
	}
	return nil
}

// increments says "1 increment" or "n increments".
func increments(n int) string {
	if n == 1 {
		return "1 increment"
	}
	return fmt.Sprintf("%d increments", n)
}
