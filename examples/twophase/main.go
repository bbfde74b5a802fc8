// Command twophase moves money between two banks with two-phase commit,
// on a simulated network (package netsim), and shows why the protocol
// blocks: a coordinator that crashes after the participants have voted
// YES leaves them holding their locks, unable to commit or abort alone,
// until it recovers from its log.
//
//  1. A transfer that commits: both banks vote YES; the coordinator logs
//     commit (the commit point) and tells them.
//
//  2. A transfer that aborts: one bank votes NO (not enough money).
//
//  3. A transfer whose coordinator crashes after logging its decision and
//     before sending it (-crash decision, the default) or before deciding
//     (-crash prepare). Both banks stay prepared, holding their locks; a
//     bank that asks the coordinator gets no answer; a deposit into a
//     locked account waits in vain.
//
//  4. The coordinator restarts, reads its log, and finishes the
//     transaction: commit if the log says so, abort if it had not decided.
//
//     go run ./examples/twophase
//     go run ./examples/twophase -crash prepare   # no decision in the log: recovery aborts
//     go run ./examples/twophase -crash none      # no crash: nobody waits
//     go run ./examples/twophase -drop 0.2        # a lossy network: retries hide the losses
//     go run ./examples/twophase -trace /tmp/2pc  # the space-time diagram of the run
//     go run ./examples/twophase -dashboard 127.0.0.1:8080   # live, for a lecture: crash the coordinator on a web page
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

func main() { demo.Main("twophase", run) }

// config is what the flags say.
type config struct {
	crash    crashPoint
	timeout  time.Duration // how long the coordinator waits for a participant
	decide   time.Duration // with -dashboard, how long the coordinator waits between the votes and its decision
	faults   transport.Faults
	traceDir string
}

// maxTraceEvents bounds the -trace diagram.
const maxTraceEvents = 2000

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, fs, ok, err := parse(args, stderr)
	if !ok {
		return err // nil after -h
	}
	tr := demo.NewTracer(cfg.traceDir, "twophase: two-phase commit, a crash and a recovery", trace.WithMaxEvents(maxTraceEvents))
	if err := tr.Prepare(); err != nil {
		return err
	}
	if fs.Lookup("dashboard").Value.String() != "" {
		return live(ctx, cfg, fs, tr, stdout)
	}
	if _, err := show(ctx, cfg, tr, stdout); err != nil {
		return err
	}
	return tr.Write(stdout)
}

// parse reads the flags into a config, and returns them too (for
// -dashboard); ok is false if the demo should not run, with err nil after
// -h and ErrUsage after a bad flag.
func parse(args []string, stderr io.Writer) (cfg config, fs *flag.FlagSet, ok bool, err error) {
	fs = flag.NewFlagSet("twophase", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg.faults = transport.Faults{Delay: time.Millisecond, Jitter: time.Millisecond}
	crash := fs.String("crash", "decision", "where the coordinator crashes in the third transaction: decision (logged, not sent), prepare (votes in, nothing logged) or none")
	demo.TimeoutFlag(fs, &cfg.timeout)
	fs.DurationVar(&cfg.decide, "decide", 3*time.Second, "with -dashboard: how long the coordinator waits between the votes and its decision (time to crash it)")
	fs.StringVar(&cfg.traceDir, "trace", "", "write the space-time diagram of the run to this `directory`")
	demo.FaultFlags(fs, &cfg.faults)
	if ok, err := demo.Parse(fs, args); !ok {
		return cfg, fs, false, err
	}
	switch {
	case fs.NArg() > 0:
		return cfg, fs, false, demo.Usagef(fs, "twophase takes no arguments, only flags (got %q)", fs.Arg(0))
	case *crash != "decision" && *crash != "prepare" && *crash != "none":
		return cfg, fs, false, demo.Usagef(fs, "-crash must be decision, prepare or none, not %q", *crash)
	case cfg.timeout < 0:
		return cfg, fs, false, demo.Usagef(fs, "-timeout must not be negative")
	case cfg.decide < 0:
		return cfg, fs, false, demo.Usagef(fs, "-decide must not be negative")
	}
	if err := cfg.faults.Validate(); err != nil {
		return cfg, fs, false, demo.Usagef(fs, "%v", err)
	}
	cfg.crash = map[string]crashPoint{"decision": afterDecision, "prepare": afterPrepare, "none": noCrash}[*crash]
	cfg.timeout = demo.ReplyTimeout(cfg.timeout, cfg.faults)
	return cfg, fs, true, nil
}
