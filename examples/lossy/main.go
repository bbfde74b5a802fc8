// Command lossy sends the same stream of numbered messages three ways
// between two sockets on 127.0.0.1, and counts what arrived, what was
// lost, what came twice and what came out of order:
//
//  1. over raw UDP (transport.ListenUDP), as the operating system gives it;
//  2. over UDP whose sender meets faults (transport.NewFaultyPacketConn):
//     drop 10%, duplicate 5%, reorder 10% unless flags say otherwise;
//  3. over transport/reliable, a reliable protocol on top of UDP, with the
//     same faults on both of its sockets.
//
// Raw UDP on loopback rarely loses anything; the faults show what a real
// network may do, and the reliable protocol shows that every message can
// still arrive exactly once, in order.
//
// With -dashboard the same lesson runs round after round on the simulated
// network of package netsim, drawn on a web page where the instructor
// changes the faults, cuts the link and crashes a node (see live.go).
//
//	go run ./examples/lossy
//	go run ./examples/lossy -drop 0.3 -dup 0.2 -seed 7    # a worse network
//	go run ./examples/lossy -drop 0 -dup 0 -reorder 0     # no faults: all three agree
//	go run ./examples/lossy -burst 0 -n 20000             # no rests: the kernel's buffer overflows
//	go run ./examples/lossy -n 20 -trace /tmp/lossy       # the reliable run's space-time diagram
//	go run ./examples/lossy -dashboard 127.0.0.1:8080     # live, for a lecture: round after round on a simulated network, faults on a web page
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/distsys-kit/distsys/examples/demo"
	"github.com/distsys-kit/distsys/trace"
	"github.com/distsys-kit/distsys/transport"
)

func main() { demo.Main("lossy", run) }

// maxMessages bounds -n: the receiver keeps a counter per message.
const maxMessages = 10_000_000

// minSize is the smallest -size: room for the largest number and a space.
const minSize = 9

// config is what the flags ask for.
type config struct {
	n       int           // messages, numbered 1..n
	size    int           // bytes per message
	burst   int           // UDP datagrams sent back to back before the sender rests; 0: never rests
	silence time.Duration // the reliable connection declares its peer lost after this long without a packet
	faults  transport.Faults
}

// defaults is the config before the flags change it.
func defaults() config {
	return config{n: 1000, size: 1000, burst: 50, silence: 3 * time.Second,
		faults: transport.Faults{Drop: 0.1, Duplicate: 0.05, Reorder: 0.1, Seed: 1}}
}

// maxTraceEvents bounds the -trace diagram: a longer run shows its start.
const maxTraceEvents = 2000

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("lossy", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg := defaults()
	fs.IntVar(&cfg.n, "n", cfg.n, fmt.Sprintf("how many numbered messages to send each way (with -dashboard: each round, default %d)", liveMessages))
	fs.IntVar(&cfg.size, "size", cfg.size, "bytes per message")
	fs.IntVar(&cfg.burst, "burst", cfg.burst, fmt.Sprintf("UDP datagrams sent back to back before the sender rests %v (0: it never rests)", pause))
	fs.DurationVar(&cfg.silence, "silence", cfg.silence, "the reliable run gives up on its peer after this long without a packet from it")
	traceDir := fs.String("trace", "", "write the space-time diagram of the reliable run to this `directory`")
	demo.FaultFlags(fs, &cfg.faults)
	if ok, err := demo.Parse(fs, args); !ok {
		return err // nil after -h
	}
	isLive := fs.Lookup("dashboard").Value.String() != ""
	if isLive && !given(fs, "n") {
		cfg.n = liveMessages
	}
	switch {
	case cfg.n < 1 || cfg.n > maxMessages:
		return demo.Usagef(fs, "-n must be between 1 and %d", maxMessages)
	case cfg.size < minSize || cfg.size > transport.MaxDatagramSize:
		return demo.Usagef(fs, "-size must be between %d and %d bytes (one UDP datagram)", minSize, transport.MaxDatagramSize)
	case cfg.burst < 0:
		return demo.Usagef(fs, "-burst must not be negative")
	case cfg.silence < time.Second || cfg.silence > time.Minute:
		return demo.Usagef(fs, "-silence must be between 1s and 1m")
	case fs.NArg() > 0:
		return demo.Usagef(fs, "lossy takes no arguments, only flags")
	case isLive && cfg.n > maxLiveMessages:
		return demo.Usagef(fs, "-dashboard sends at most %d messages a round (-n)", maxLiveMessages)
	}
	if err := cfg.faults.Validate(); err != nil {
		return demo.Usagef(fs, "%v", err)
	}
	tr := demo.NewTracer(*traceDir, "lossy: reliable messages over faulty UDP", trace.WithMaxEvents(maxTraceEvents))
	if err := tr.Prepare(); err != nil {
		return err
	}
	if isLive {
		return live(ctx, cfg, fs, tr, stdout)
	}
	if _, err := lossy(ctx, cfg, tr, stdout); err != nil {
		return err
	}
	return tr.Write(stdout)
}

// runs is what the three runs did: lossy narrates it, and the tests check
// it.
type runs struct {
	raw, bad result
	did      transport.FaultStats // what the faults did to run 2's datagrams
	rel      reliableRun
}

func lossy(ctx context.Context, cfg config, tr *demo.Tracer, out io.Writer) (runs, error) {
	var rs runs
	fmt.Fprintf(out, "Sending messages 1..%d of %d bytes from one socket to another on 127.0.0.1, three ways.\n", cfg.n, cfg.size)
	fmt.Fprintf(out, "The faults of runs 2 and 3: %s (seed %d).\n\n", cfg.faults, cfg.faults.Seed)

	fmt.Fprintln(out, "1. Raw UDP (transport.ListenUDP), as the operating system gives it.")
	if cfg.burst > 0 {
		fmt.Fprintf(out, "   UDP has no flow control: the sender rests %v after every %d datagrams (-burst) to let the receiver keep up.\n", pause, cfg.burst)
	} else {
		fmt.Fprintln(out, "   UDP has no flow control, and with -burst 0 the sender never rests: it sends as fast as it can.")
	}
	fmt.Fprintf(out, "   UDP has no end of stream: the receiver stops once the sender is done and %v pass with nothing new.\n", settle)
	raw, err := rawUDP(ctx, cfg)
	if err != nil {
		return rs, fmt.Errorf("raw UDP: %w", err)
	}
	rs.raw = raw
	raw.describe(out)
	if len(raw.missing) == 0 {
		fmt.Fprintln(out, "   Loopback lost nothing, as it usually does: no wire, no router. But UDP promises nothing:")
		fmt.Fprint(out, "   when the receiver's kernel buffer is full, the kernel drops new datagrams and tells nobody")
		if cfg.burst > 0 {
			fmt.Fprint(out, "\n   (try -burst 0 -n 20000)")
		}
		fmt.Fprintln(out, ".")
	} else {
		fmt.Fprintln(out, "   Even loopback lost some: the receiver's kernel buffer filled up during the burst,")
		fmt.Fprintln(out, "   and the kernel dropped what did not fit. Nobody told the sender.")
	}

	fmt.Fprintln(out, "\n2. UDP whose sender meets the faults (transport.NewFaultyPacketConn).")
	if q := quietPeriod(cfg.faults); q != settle {
		fmt.Fprintf(out, "   The receiver waits for %v of silence: the faults' delays make datagrams late.\n", q)
	}
	bad, did, err := faultyUDP(ctx, cfg)
	if err != nil {
		return rs, fmt.Errorf("UDP with faults: %w", err)
	}
	rs.bad, rs.did = bad, did
	fmt.Fprintf(out, "   the faults dropped %d, duplicated %d and held back %d of the %d datagrams\n",
		did.Dropped, did.Duplicated, did.Reordered, did.Messages)
	bad.describe(out)
	if extra := int64(len(bad.missing)) - did.Dropped; extra > 0 {
		fmt.Fprintf(out, "   %d more than the faults dropped went missing: the kernel's buffer overflowed, as in run 1.\n", extra)
	}
	fmt.Fprintln(out, "   The receiver sees the damage but cannot repair it: nothing tells it what it missed.")

	fmt.Fprintln(out, "\n3. transport/reliable over the same faults, on both sockets (data one way, acknowledgements back).")
	rel, err := overReliable(ctx, cfg, tr, out)
	if err != nil {
		return rs, fmt.Errorf("reliable: %w", err)
	}
	rs.rel = rel
	rel.describe(out)
	if rel.err == nil || rel.distinct > 0 {
		fmt.Fprintf(out, "   the sender sent %d segments again (losses seen: %d by a gap in later acknowledgements, %d by a timeout);\n",
			rel.sender.Retransmissions, rel.sender.FastRetransmits, rel.sender.Timeouts)
		fmt.Fprintf(out, "   the receiver threw away %d duplicate segments, and held early ones back until the gaps before them filled.\n", rel.receiver.Duplicates)
	}
	switch {
	case rel.err != nil && ctx.Err() == nil:
		fmt.Fprintf(out, "   The connection FAILED: %v.\n", rel.err)
		fmt.Fprintf(out, "   For %v nothing got through either way, and the protocol declared its peer lost. It had delivered\n", lostAfter(protocol(cfg)))
		fmt.Fprintf(out, "   %d of %d messages, in order. No protocol does better than the network lets it: reliability\n", rel.distinct, rel.sent)
		fmt.Fprintln(out, "   costs retransmissions, and past a point it costs the connection.")
	case rel.err != nil:
		return rs, ctx.Err()
	case rel.perfect():
		fmt.Fprintln(out, "   Every message arrived exactly once, in order: numbered, acknowledged, sent again until acknowledged.")
		fmt.Fprintln(out, "   The receiver knew the stream was over from the sender's Close (io.EOF), not from silence.")
	default:
		fmt.Fprintln(out, "   The reliable run did NOT deliver every message once, in order: that is a bug in transport/reliable.")
	}

	fmt.Fprintln(out)
	printTable(out, []result{raw, bad, rel.result})
	return rs, ctx.Err()
}
