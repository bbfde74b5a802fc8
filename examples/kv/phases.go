package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/distsys-kit/distsys/examples/demo"
	"github.com/distsys-kit/distsys/kv"
	"github.com/distsys-kit/distsys/rpc"
)

// stage is everything a part of the demo uses.
type stage struct {
	cfg     config
	out     io.Writer
	net     *network
	store   *kv.Store
	srv     *rpc.Server
	clients []*client
}

// result is what the run showed, for the tests: the narration is made
// from the same numbers.
type result struct {
	marks, wantMarks int      // part 1: marks in "log", and how many appends were made
	twice            []string // part 1: marks that appear more than once
	appends          int64    // part 1: appends the server ran
	resent, cached   int64    // part 1: requests resent, and copies answered from the reply cache
	raceRefused      bool     // part 2: the second writer was refused with kv.ErrConflict
	cas, wantCAS     int      // part 3: "cas" at the end, and what it should be
	refused          int64    // part 3: PutIfs refused
	gaveUp           bool     // a client got no answer in its time: the run stopped
}

// show starts the server and the clients and runs the three parts of the
// demo, narrating on out.
func show(ctx context.Context, cfg config, tr *demo.Tracer, out io.Writer) (result, error) {
	var res result
	n, err := newNetwork(cfg, tr)
	if err != nil {
		return res, err
	}
	defer n.close()

	store := kv.NewStore()
	srv := rpc.NewServer(tr.ServerOptions("server")...)
	if err := kv.Register(srv, store); err != nil {
		return res, err
	}
	l, err := n.listen()
	if err != nil {
		return res, err
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }() // exits when srv is closed
	defer func() { srv.Close(); <-served }()

	wait := retryAfter(cfg.faults)
	clients := make([]*client, cfg.clients)
	for i := range clients {
		name := fmt.Sprintf("client-%d", i+1)
		opts := tr.ClientOptions(name, "server")
		if !cfg.naive {
			opts = append(opts, rpc.WithRetry(rpc.RetryPolicy{Interval: wait, MaxInterval: 2 * wait}))
		}
		rc, err := n.dial(ctx, name, opts...)
		if err != nil {
			return res, err
		}
		defer rc.Close()
		clients[i] = newClient(name, rc, cfg.naive, wait, cfg.timeout)
	}
	fmt.Fprintf(out, "kv: a key-value server (package kv) and %d clients %s; %v\n", cfg.clients, n.describe(), cfg.faults)
	if cfg.naive {
		fmt.Fprintf(out, "Clients resend a call that gets no reply in %v as a new call: the server runs every copy (-naive).\n", wait)
	} else {
		fmt.Fprintf(out, "Clients resend a call that gets no reply in %v; the server runs each call at most once (rpc.WithRetry).\n", wait)
	}
	// A client's first at-most-once call is sent twice: once to learn the
	// server's epoch (see package rpc). A first read keeps that out of the
	// counts below, and finds out whether the network lets anything through.
	err = each(clients, func(c *client) error { _, _, err := c.number(ctx, "log"); return err })
	if errors.Is(err, errGaveUp) {
		res.gaveUp = true
		fmt.Fprintf(out, "No client got an answer to its first read within %v: the network is losing everything. Stopping.\n", cfg.timeout)
		return res, nil
	}
	if err != nil {
		return res, err
	}

	s := &stage{cfg: cfg, out: out, net: n, store: store, srv: srv, clients: clients}
	for _, part := range []func(context.Context, *result) error{s.appendPart, s.racePart, s.casPart} {
		err := part(ctx, &res)
		if errors.Is(err, errGaveUp) {
			res.gaveUp = true
			for _, line := range strings.Split(err.Error(), "\n") {
				fmt.Fprintf(out, "   %s.\n", line)
			}
			fmt.Fprintln(out, "The network is losing too much for the demo to go on. Stopping.")
			return res, nil
		}
		if err != nil {
			return res, err
		}
	}
	if cfg.naive {
		fmt.Fprintln(out, "\nWithout at-most-once, a request whose reply was lost runs again when it is resent, and so does a")
		fmt.Fprintln(out, "duplicated one. A resent KV.PutIf that already ran is refused by its own first copy, and the writer increments again.")
	} else if cfg.faults.Drop == 0 && cfg.faults.Duplicate == 0 {
		fmt.Fprintln(out, "\nTry -drop 0.2 -dup 0.1: the counts stay exact. Then add -naive: they do not.")
	} else {
		fmt.Fprintln(out, "\nThe faults cost resends, not exactness. Add -naive: the counts go wrong.")
	}
	return res, nil
}

// appendPart: every client appends its marks to "log" with KV.Append,
// which is not idempotent, so every copy the server runs counts.
func (s *stage) appendPart(ctx context.Context, res *result) error {
	fmt.Fprintf(s.out, "\n1. Each client appends %d marks to \"log\" with KV.Append, which is not idempotent. A mark\n", s.cfg.n)
	fmt.Fprintln(s.out, "   names its client and its number: \"2.7\" is client-2's 7th.")
	retried, dups, appends := totalRetries(s.clients), s.srv.Stats().Duplicates, s.store.Stats().Appends
	err := each(s.clients, func(c *client) error {
		for j := range s.cfg.n {
			if err := c.appendMark(ctx, "log", fmt.Sprintf("%s.%d ", strings.TrimPrefix(c.name, "client-"), j+1)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := s.settle(ctx); err != nil {
		return err
	}
	e, _ := s.store.Get("log")
	marks := strings.Fields(e.Value)
	res.marks, res.wantMarks = len(marks), s.cfg.clients*s.cfg.n
	res.twice = repeated(marks)
	res.appends = s.store.Stats().Appends - appends
	res.resent, res.cached = totalRetries(s.clients)-retried, s.srv.Stats().Duplicates-dups
	switch {
	case res.marks == res.wantMarks && len(res.twice) == 0:
		fmt.Fprintf(s.out, "   \"log\" holds %d marks, expected %d: exact, each mark once.\n", res.marks, res.wantMarks)
	default:
		fmt.Fprintf(s.out, "   \"log\" holds %d marks, expected %d: WRONG, appended more than once: %s.\n",
			res.marks, res.wantMarks, strings.Join(res.twice, ", "))
	}
	fmt.Fprintf(s.out, "   Clients resent %d requests that got no reply in time; the server ran KV.Append %d times\n", res.resent, res.appends)
	fmt.Fprintf(s.out, "   and answered %d copies of requests it had already run from its reply cache.\n", res.cached)
	return nil
}

// repeated returns the marks that appear more than once, sorted.
func repeated(marks []string) []string {
	seen := map[string]int{}
	for _, m := range marks {
		seen[m]++
	}
	var twice []string
	for m, n := range seen {
		if n > 1 {
			twice = append(twice, m)
		}
	}
	slices.SortFunc(twice, func(a, b string) int { // "3.2" before "3.10"
		var ca, na, cb, nb int
		fmt.Sscanf(a, "%d.%d", &ca, &na)
		fmt.Sscanf(b, "%d.%d", &cb, &nb)
		return cmp.Or(cmp.Compare(ca, cb), cmp.Compare(na, nb))
	})
	return twice
}

// settle waits for late copies of requests to be run.
func (s *stage) settle(ctx context.Context) error {
	busy := func() int64 {
		st := s.store.Stats()
		return s.srv.Stats().Calls + st.Gets + st.Puts + st.Appends + st.PutIfs
	}
	return s.net.settle(ctx, busy)
}
