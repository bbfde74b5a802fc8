// Command clocks runs three processes whose physical clocks disagree, and
// shows what their timestamps say about the order of events:
//
//  1. Physical timestamps: bob's clock runs slow, so a message he receives
//     is stamped before it was sent, and carol, keeping the write with the
//     latest stamp (last writer wins), keeps alice's x=1 over bob's x=2,
//     which bob wrote after he had seen x=1.
//  2. Lamport clocks (trace.LamportClock) on the same events: a receive is
//     always stamped after its send, and last writer wins keeps x=2.
//  3. Vector clocks (trace.VectorClock): bob and carol each write y without
//     having heard of the other's write. Lamport timestamps still order the
//     two writes; vector clocks say they are concurrent: a conflict.
//  4. Cristian's algorithm: bob asks alice for the time and estimates his
//     clock's offset from the round trip, to within half of it.
//
// True time is simulated: the messages cross a simulated network (package
// netsim), and each takes a delay drawn from the seed, so the same seed
// replays the same run.
//
//	go run ./examples/clocks
//	go run ./examples/clocks -skew 0            # clocks agree: no anomaly, and the logical clocks say the same
//	go run ./examples/clocks -skew -3ms         # a small error, smaller than any delay: no anomaly either
//	go run ./examples/clocks -seed 4            # other delays
//	go run ./examples/clocks -trace /tmp/clocks # the space-time diagram of the run
//	go run ./examples/clocks -dashboard 127.0.0.1:8080   # live, for a lecture: delay and cut links on a web page
package main

import (
	"context"
	"flag"
	"io"
	"time"

	"github.com/distsys-kit/distsys/examples/demo"
)

func main() { demo.Main("clocks", run) }

// config is what the flags say.
type config struct {
	skew     time.Duration // how far bob's clock is from true time (negative: slow)
	carol    time.Duration // how far carol's clock is from true time
	delay    time.Duration // the mean one-way delay of a message
	seed     int64
	traceDir string
}

// maxSkew bounds -skew and -carol: beyond it the times printed get long.
const maxSkew = time.Hour

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("clocks", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg := config{skew: -30 * time.Millisecond, carol: 20 * time.Millisecond, delay: 10 * time.Millisecond}
	fs.DurationVar(&cfg.skew, "skew", cfg.skew, "how far bob's clock is from true time (negative: slow)")
	fs.DurationVar(&cfg.carol, "carol", cfg.carol, "how far carol's clock is from true time")
	fs.DurationVar(&cfg.delay, "delay", cfg.delay, "mean one-way delay of a message; each takes from half to one and a half times it")
	fs.StringVar(&cfg.traceDir, "trace", "", "write the space-time diagram of the run to this `directory`")
	demo.SeedFlag(fs, &cfg.seed)
	demo.DashboardFlag(fs)
	if ok, err := demo.Parse(fs, args); !ok {
		return err // nil after -h
	}
	switch {
	case fs.NArg() > 0:
		return demo.Usagef(fs, "clocks takes no arguments, only flags (got %q)", fs.Arg(0))
	case cfg.skew < -maxSkew || cfg.skew > maxSkew || cfg.carol < -maxSkew || cfg.carol > maxSkew:
		return demo.Usagef(fs, "-skew and -carol must be within %v of true time", maxSkew)
	case cfg.delay < 2*time.Millisecond || cfg.delay > time.Minute:
		return demo.Usagef(fs, "-delay must be between 2ms and 1m")
	}
	tr := demo.NewTracer(cfg.traceDir, "clocks: physical, Lamport and vector timestamps")
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
