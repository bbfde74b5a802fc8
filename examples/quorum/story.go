package main

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"strings"

	"github.com/distsys-kit/distsys/examples/demo"
	"github.com/distsys-kit/distsys/rpc"
	"github.com/distsys-kit/distsys/transport/netsim"
)

// key is the one key the demo writes and reads.
const key = "x"

// tally is what one configuration's rounds showed.
type tally struct {
	r, w             int
	reads, stale     int  // reads that finished, and those that missed the latest write
	failedW, failedR int  // writes and reads that did not get their quorum
	hopeless         bool // a round got no answer at all, and the rounds stopped
}

// show runs every configuration of cfg.quorums, narrating on out, and
// returns their tallies.
func show(ctx context.Context, cfg config, tr *demo.Tracer, out io.Writer) ([]tally, error) {
	fmt.Fprintf(out, "quorum: %d replicas and a client on a simulated network (seed %d); %v.\n", cfg.n, cfg.faults.Seed, cfg.faults)
	fmt.Fprintf(out, "Each round the client writes %s with the next version, to W replicas, then reads it from R\n", key)
	fmt.Fprintln(out, "replicas and keeps the newest version it is given. The write's copies to the other replicas")
	fmt.Fprintln(out, "arrive only after that read: the replicas each quorum uses are drawn from the seed.")
	var tallies []tally
	for _, q := range cfg.quorums {
		t, err := rounds(ctx, cfg, q, tr, out)
		if err != nil {
			return tallies, err
		}
		tallies = append(tallies, t)
		if t.hopeless {
			return tallies, nil
		}
	}
	conclude(out, cfg.n, tallies)
	return tallies, ctx.Err()
}

// rounds runs cfg.rounds rounds of write-then-read with quorum sizes q, on
// a network and replicas of their own.
func rounds(ctx context.Context, cfg config, q rw, tr *demo.Tracer, out io.Writer) (tally, error) {
	t := tally{r: q.r, w: q.w}
	net := netsim.NewNetwork(cfg.faults.Seed, tr.NetsimOptions()...)
	defer net.Close()
	if err := net.SetDefaultFaults(cfg.faults); err != nil {
		return t, err
	}
	qc := &quorum{n: cfg.n, r: q.r, w: q.w, rng: rand.New(rand.NewPCG(uint64(cfg.faults.Seed), 0)), timeout: cfg.timeout}
	replicas := make([]*Replica, cfg.n)
	for i := range replicas {
		name := "r" + strconv.Itoa(i+1)
		replicas[i] = newReplica()
		stop, err := serve(net, name, replicas[i], tr)
		if err != nil {
			return t, err
		}
		defer stop()
		rc, err := rpc.Dial(ctx, name, append(tr.ClientOptions("client", name),
			rpc.WithDialer(net.Dialer("client")),
			rpc.WithRetry(rpc.RetryPolicy{Interval: cfg.timeout / 8}))...)
		if err != nil {
			return t, err
		}
		defer rc.Close()
		qc.names = append(qc.names, name)
		qc.replicas = append(qc.replicas, rc)
	}

	fmt.Fprintf(out, "\nN = %d, R = %d, W = %d: R + W = %d %s\n", cfg.n, q.r, q.w, q.r+q.w, overlap(cfg.n, q))
	var latest Versioned // the newest write that got its quorum
	for round := 1; round <= cfg.rounds && ctx.Err() == nil; round++ {
		line, v, late, heard := qc.round(ctx, round, replicas, &latest, &t)
		fmt.Fprintln(out, line)
		tr.Logf("client", "round %d: %s", round, strings.TrimSpace(line))
		if !heard {
			t.hopeless = true
			fmt.Fprintf(out, "   No replica answered in round %d (each was given %v): the network is losing everything. Stopping.\n", round, cfg.timeout)
			return t, ctx.Err()
		}
		qc.deliverLate(ctx, key, v, late)
	}
	fmt.Fprintf(out, "   %d of %d reads were stale", t.stale, t.reads)
	if t.failedW+t.failedR > 0 {
		fmt.Fprintf(out, "; %s and %s did not get their quorum", plural(t.failedW, "write"), plural(t.failedR, "read"))
	}
	fmt.Fprintln(out, ".")
	return t, ctx.Err()
}

// round writes key with version round to a write quorum, then reads it
// from a read quorum, and returns the line that says what happened: the
// write (v), the replicas it has yet to reach (late, for deliverLate),
// and whether any replica answered at all (heard). It counts the outcome
// in t, and keeps in latest the newest write that got its quorum.
func (qc *quorum) round(ctx context.Context, round int, replicas []*Replica, latest *Versioned, t *tally) (line string, v Versioned, late []int, heard bool) {
	v = Versioned{Value: strconv.Itoa(round), Version: int64(round)}
	acked, late, silent, ok := qc.write(ctx, key, v)
	line = fmt.Sprintf("   write %s=%s to %-9s", key, v.Value, qc.list(acked))
	if ok {
		*latest = v
	}
	answers, got, rok := qc.read(ctx, key)
	line += fmt.Sprintf("  read %-9s", qc.list(indexes(answers)))
	switch {
	case !ok:
		t.failedW++
		line += fmt.Sprintf(" WRITE FAILED: %d of W=%d answered", len(acked), qc.w)
	case !rok:
		t.failedR++
		line += fmt.Sprintf(" READ FAILED: %d of R=%d answered", len(answers), qc.r)
	case got.Version < latest.Version:
		t.reads++
		t.stale++
		line += fmt.Sprintf(" -> %-9s STALE: %s", show1(got), qc.whoHas(replicas, *latest))
	default:
		t.reads++
		line += fmt.Sprintf(" -> %-9s fresh", show1(got))
	}
	if len(silent) > 0 {
		line += fmt.Sprintf(" (%s did not answer the write)", qc.list(silent))
	}
	return line, v, late, len(acked)+len(answers) > 0
}

// overlap says whether quorums of sizes q must share a replica.
func overlap(n int, q rw) string {
	if q.r+q.w > n {
		return "> N: every read quorum shares a replica with every write quorum."
	}
	return "≤ N: a read quorum can miss every replica of a write quorum."
}

// serve starts an rpc server for r on node, and returns what stops it.
func serve(net *netsim.Network, node string, r *Replica, tr *demo.Tracer) (stop func(), err error) {
	l, err := net.Listen(node)
	if err != nil {
		return nil, err
	}
	srv := rpc.NewServer(tr.ServerOptions(node)...)
	if err := srv.Register(r); err != nil {
		l.Close()
		return nil, err
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(l) }() // exits when srv is closed
	return func() { srv.Close(); <-served }, nil
}

// list names the replicas is: "r1,r3", or "none".
func (q *quorum) list(is []int) string {
	if len(is) == 0 {
		return "none"
	}
	names := make([]string, len(is))
	for j, i := range is {
		names[j] = q.names[i]
	}
	return strings.Join(names, ",")
}

// whoHas says which replicas hold v, the write the read missed.
func (q *quorum) whoHas(replicas []*Replica, v Versioned) string {
	var has []int
	for i, r := range replicas {
		if r.value(key).Version >= v.Version {
			has = append(has, i)
		}
	}
	return fmt.Sprintf("%s=%s is only on %s", key, v.Value, q.list(has))
}

// indexes returns the replicas of answers.
func indexes(answers []answer) []int {
	is := make([]int, len(answers))
	for j, a := range answers {
		is[j] = a.replica
	}
	return is
}

// show1 prints a value read.
func show1(v Versioned) string {
	if v.Version == 0 {
		return "not set"
	}
	return key + "=" + v.Value
}

// conclude says what the configurations showed.
func conclude(out io.Writer, n int, tallies []tally) {
	fmt.Fprintln(out)
	for _, t := range tallies {
		switch {
		case t.reads == 0:
			fmt.Fprintf(out, "R=%d W=%d: no read got its quorum: nothing to compare.\n", t.r, t.w)
		case t.r+t.w > n && t.stale == 0:
			fmt.Fprintf(out, "R=%d W=%d: no stale read. Each read asked a replica that had the last write, and the\n", t.r, t.w)
			fmt.Fprintln(out, "   highest version among the answers is that write: R + W > N makes the two quorums overlap.")
		case t.r+t.w > n:
			fmt.Fprintf(out, "R=%d W=%d: %d stale reads although the quorums overlap: a bug in the demo.\n", t.r, t.w, t.stale)
		case t.stale > 0:
			fmt.Fprintf(out, "R=%d W=%d: %d stale reads. R + W ≤ N: a read can ask only replicas the last write has not\n", t.r, t.w, t.stale)
			fmt.Fprintln(out, "   reached yet. Cheap and fast, and a read may go back in time.")
		default:
			fmt.Fprintf(out, "R=%d W=%d: no stale read this time, but only by luck: R + W ≤ N, so a read can miss the\n", t.r, t.w)
			fmt.Fprintln(out, "   last write. Try other seeds.")
		}
	}
}

// plural returns "1 thing" or "n things".
func plural(n int, thing string) string {
	if n == 1 {
		return "1 " + thing
	}
	return fmt.Sprintf("%d %ss", n, thing)
}
