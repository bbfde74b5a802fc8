package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strconv"

	"github.com/distsys-kit/distsys/dashboard"
	"github.com/distsys-kit/distsys/examples/demo"
	"github.com/distsys-kit/distsys/rpc"
	"github.com/distsys-kit/distsys/transport/netsim"
)

// live runs the replicas for a lecture, under the dashboard of
// -dashboard: every round the client writes x with the next version and
// reads it back, with majority quorums (or -r and -w), until Ctrl-C, while
// the instructor crashes replicas and cuts links on the page. With
// majorities, one replica down changes nothing; two of three and every
// write and read fails to get its quorum.
func live(ctx context.Context, cfg config, fs *flag.FlagSet, tr *demo.Tracer, stdout io.Writer) error {
	tr.RecordInMemory()                  // the rpc calls carry stamps: the page names them
	q := cfg.quorums[len(cfg.quorums)-1] // majorities, unless -r and -w say otherwise
	net := netsim.NewNetwork(cfg.faults.Seed, tr.NetsimOptions()...)
	defer net.Close()
	if err := net.SetDefaultFaults(cfg.faults); err != nil {
		return err
	}
	var stops []func() // stop the servers started, in reverse order
	defer func() {
		for _, stop := range slices.Backward(stops) {
			stop()
		}
	}()
	qc := &quorum{n: cfg.n, r: q.r, w: q.w, rng: rand.New(rand.NewPCG(uint64(cfg.faults.Seed), 0)), timeout: cfg.timeout}
	replicas := make([]*Replica, cfg.n)
	for i := range replicas {
		name := "r" + strconv.Itoa(i+1)
		replicas[i] = newReplica()
		stop, err := serve(net, name, replicas[i], tr)
		if err != nil {
			return err
		}
		stops = append(stops, stop)
		rc, err := rpc.Dial(ctx, name, append(tr.ClientOptions("client", name),
			rpc.WithDialer(net.Dialer("client")),
			rpc.WithRetry(rpc.RetryPolicy{Interval: cfg.timeout / 8}))...)
		if err != nil {
			return err
		}
		defer rc.Close()
		qc.names = append(qc.names, name)
		qc.replicas = append(qc.replicas, rc)
	}
	dash, err := demo.StartDashboard(fs, net, stdout,
		dashboard.WithTitle("quorum: reads and writes with N, R, W"), dashboard.WithNodes(append([]string{"client"}, qc.names...)...))
	if err != nil {
		return err
	}
	defer dash.Close()
	out := dash.Out()
	fmt.Fprintf(out, "N = %d, R = %d, W = %d: R + W = %d %s\n", cfg.n, q.r, q.w, q.r+q.w, overlap(cfg.n, q))
	fmt.Fprintf(out, "Each round the client writes %s with the next version to W replicas, then reads it from R.\n", key)
	fmt.Fprintln(out, "Crash replicas on the page: the quorums go on while enough answer, and fail when too few do.")

	var latest Versioned
	var t tally
	round := func(ctx context.Context, r int) error {
		line, v, late, _ := qc.round(ctx, r, replicas, &latest, &t)
		fmt.Fprintf(out, "Round %d:%s\n", r, line)
		qc.deliverLate(ctx, key, v, late)
		return nil
	}
	// A restarted replica serves what it had stored, as if kept on disk.
	react := func(e netsim.Event) error {
		i := slices.Index(qc.names, e.Node)
		if e.Kind != netsim.EventRestart || i < 0 {
			return nil
		}
		stop, err := serve(net, e.Node, replicas[i], tr)
		if err != nil {
			return err
		}
		stops = append(stops, stop)
		return nil
	}
	if err := dash.Live(ctx, demo.RoundGap, round, react); err != nil {
		return err
	}
	return tr.Write(stdout)
}
