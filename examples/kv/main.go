// Command kv runs the key-value server of package kv and a few clients
// over package rpc, and shows three things a course's first project is
// about:
//
//   - Retries with at-most-once execution: clients resend every call until
//     it is answered, and the server runs each call once however many
//     copies reach it (rpc.WithRetry), so appends stay exact on a network
//     that loses and duplicates messages. With -naive, clients resend
//     without it, and marks are appended twice.
//   - Optimistic concurrency: a versioned compare-and-set (kv.PutIf),
//     where a writer whose read is out of date is refused with a typed
//     error (kv.ErrConflict), and reads again.
//   - The same code over a simulated network (package netsim, the default,
//     with a millisecond of delay and jitter; faults are seeded and a run
//     replays), over TCP on 127.0.0.1 (-tcp), and over TLS (-tls).
//
// Commands to try:
//
//	go run ./examples/kv
//	go run ./examples/kv -drop 0.2 -dup 0.1          # counts stay exact
//	go run ./examples/kv -drop 0.2 -dup 0.1 -naive   # retries without at-most-once: they do not
//	go run ./examples/kv -tls -drop 0.1              # over TLS, faults on both ends
//	go run ./examples/kv -n 3 -trace /tmp/kv         # the space-time diagram of a short run
//	go run ./examples/kv -dashboard 127.0.0.1:8080   # live, for a lecture: drop, cut and crash on a web page
package main

import (
	"context"
	"flag"
	"io"
	"time"

	"github.com/distsys-kit/distsys/examples/demo"
	"github.com/distsys-kit/distsys/trace"
	"github.com/distsys-kit/distsys/transport"
)

func main() { demo.Main("kv", run) }

// config is what the flags say.
type config struct {
	clients  int
	n        int // appends, and increments, per client
	naive    bool
	tcp, tls bool
	timeout  time.Duration // how long a client keeps trying one operation
	faults   transport.Faults
	traceDir string
	flags    *flag.FlagSet // the parsed flags, for -dashboard
}

// maxTraceEvents bounds the -trace diagram: a longer run shows its start.
const maxTraceEvents = 3000

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var cfg config
	if err := parseInto(&cfg, args, stderr); err != nil || cfg.clients == 0 {
		return err // nil after -h
	}
	tr := demo.NewTracer(cfg.traceDir, "kv: at-most-once retries and compare-and-set", trace.WithMaxEvents(maxTraceEvents))
	if err := tr.Prepare(); err != nil {
		return err
	}
	if cfg.flags.Lookup("dashboard").Value.String() != "" {
		return live(ctx, cfg, tr, stdout)
	}
	if _, err := show(ctx, cfg, tr, stdout); err != nil {
		return err
	}
	return tr.Write(stdout)
}

// parseInto reads the flags into cfg. It returns demo.ErrUsage after a bad
// flag, and nil with cfg left zero after -h.
func parseInto(cfg *config, args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("kv", flag.ContinueOnError)
	fs.SetOutput(stderr)
	// A little delay by default, so that clients' calls overlap as on a
	// real network.
	c := config{faults: transport.Faults{Delay: time.Millisecond, Jitter: time.Millisecond}}
	fs.IntVar(&c.clients, "clients", 3, "number of clients (at least 2)")
	fs.IntVar(&c.n, "n", 10, "appends, and increments, each client makes in each part")
	fs.BoolVar(&c.naive, "naive", false, "retry without at-most-once: every copy of a request that reaches the server runs")
	fs.BoolVar(&c.tcp, "tcp", false, "run over TCP on 127.0.0.1 instead of the simulated network")
	fs.BoolVar(&c.tls, "tls", false, "run over TLS on 127.0.0.1 (implies -tcp)")
	fs.DurationVar(&c.timeout, "timeout", 0, "how long a client keeps trying one operation, resends included (default 2s, or 20 resends on a slow network)")
	fs.StringVar(&c.traceDir, "trace", "", "write the space-time diagram of the run to this `directory`")
	demo.FaultFlags(fs, &c.faults)
	if ok, err := demo.Parse(fs, args); !ok {
		return err
	}
	c.tcp = c.tcp || c.tls
	switch {
	case c.clients < 2:
		return demo.Usagef(fs, "-clients must be at least 2: part 2 needs two writers")
	case c.n < 1 || c.n > 1000:
		return demo.Usagef(fs, "-n must be between 1 and 1000")
	case c.timeout < 0:
		return demo.Usagef(fs, "-timeout must not be negative")
	case fs.NArg() > 0:
		return demo.Usagef(fs, "kv takes no arguments, only flags (got %q)", fs.Arg(0))
	}
	if err := c.faults.Validate(); err != nil {
		return demo.Usagef(fs, "%v", err)
	}
	if c.timeout == 0 {
		c.timeout = max(2*time.Second, 20*retryAfter(c.faults))
	}
	c.flags = fs
	*cfg = c
	return nil
}
