// Command dfs runs a small distributed file service in the style of AFS:
// clients cache whole files, and the server promises each client that
// fetched a file to call it back when the file changes. alice opens a file
// (a fetch from the server), then opens it again (from her cache, no
// message at all); bob writes the file; the server breaks alice's callback
// before bob's write returns, so alice's next open fetches the new version.
//
// With -nocallbacks the clients cache the same way, but nobody tells alice
// that her copy is old: she reads a stale file, for as long as she likes.
// The summary counts the opens served from the cache (fetches saved), the
// fetches, the callbacks and the messages on the network.
//
// The clients call the server over package rpc, and the server calls the
// clients back over connections of its own, where each client is the rpc
// server. It all runs on the simulated network of package netsim.
//
//	go run ./examples/dfs
//	go run ./examples/dfs -nocallbacks          # alice reads stale copies
//	go run ./examples/dfs -opens 10 -rounds 3   # more opens: more saved fetches
//	go run ./examples/dfs -drop 0.2 -seed 7     # a lossy network: retries hide the losses
//	go run ./examples/dfs -trace /tmp/dfs       # the space-time diagram of the run
//	go run ./examples/dfs -dashboard 127.0.0.1:8080   # live, for a lecture: cut alice off on a web page, watch her read stale
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

func main() { demo.Main("dfs", run) }

// fileName is the file the demo opens and writes.
const fileName = "notes.txt"

// config is what the flags say.
type config struct {
	nocallbacks bool
	opens       int           // alice's opens in each step
	rounds      int           // bob's edits
	timeout     time.Duration // how long a client waits for a reply
	faults      transport.Faults
	traceDir    string
}

// defaults is the config before the flags change it. A little delay, as
// on a real network: then every message has its own time of arrival, and
// a seed replays the same run.
func defaults() config {
	return config{opens: 3, rounds: 2, faults: transport.Faults{Delay: time.Millisecond, Jitter: time.Millisecond, Seed: 1}}
}

// maxTraceEvents bounds the -trace diagram: a longer run shows its start.
const maxTraceEvents = 2000

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("dfs", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg := defaults()
	fs.BoolVar(&cfg.nocallbacks, "nocallbacks", false, "the server makes no callback promises: cached copies are never invalidated")
	fs.IntVar(&cfg.opens, "opens", cfg.opens, "how many times alice opens the file in each step")
	fs.IntVar(&cfg.rounds, "rounds", cfg.rounds, "how many times bob edits the file")
	demo.TimeoutFlag(fs, &cfg.timeout)
	fs.StringVar(&cfg.traceDir, "trace", "", "write the space-time diagram of the run to this `directory`")
	demo.FaultFlags(fs, &cfg.faults)
	if ok, err := demo.Parse(fs, args); !ok {
		return err // nil after -h
	}
	switch {
	case fs.NArg() > 0:
		return demo.Usagef(fs, "dfs takes no arguments, only flags")
	case cfg.opens < 1 || cfg.rounds < 1:
		return demo.Usagef(fs, "-opens and -rounds must be at least 1")
	case cfg.timeout < 0:
		return demo.Usagef(fs, "-timeout must not be negative")
	}
	if err := cfg.faults.Validate(); err != nil {
		return demo.Usagef(fs, "%v", err)
	}
	cfg.timeout = demo.ReplyTimeout(cfg.timeout, cfg.faults)
	tr := demo.NewTracer(cfg.traceDir, "dfs: whole-file caching with callbacks", trace.WithMaxEvents(maxTraceEvents))
	if err := tr.Prepare(); err != nil {
		return err
	}
	if fs.Lookup("dashboard").Value.String() != "" {
		return live(ctx, cfg, fs, tr, stdout)
	}
	if _, err := dfs(ctx, cfg, tr, stdout); err != nil {
		return err
	}
	return tr.Write(stdout)
}
