package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/distsys-kit/distsys/transport/netsim"
)

// The values -nodes accepts.
const (
	minNodes = 2
	maxNodes = 32
)

// nodeList is the value of -nodes: "2,4,8".
type nodeList []int

func (l *nodeList) String() string {
	var s []string
	for _, n := range *l {
		s = append(s, strconv.Itoa(n))
	}
	return strings.Join(s, ",")
}

func (l *nodeList) Set(v string) error {
	var ns nodeList
	for _, f := range strings.Split(v, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < minNodes || n > maxNodes {
			return fmt.Errorf("%q is not a number of nodes from %d to %d", f, minNodes, maxNodes)
		}
		ns = append(ns, n)
	}
	*l = ns
	return nil
}

// algorithm is one way to take turns, and what the textbook says it costs.
type algorithm struct {
	name   string
	theory func(n int) string // messages per entry, in the textbook
	start  func(context.Context, env) (*group, error)
}

func algorithms(nolock bool) []algorithm {
	as := []algorithm{
		{"Ricart-Agrawala", func(n int) string { return fmt.Sprintf("2(N-1) = %d", 2*(n-1)) }, startRicartAgrawala},
		{"token ring", func(int) string { return "1 to ∞" }, startRing},
		{"lock service", func(int) string { return "3" }, startService},
	}
	if nolock {
		as = append(as, algorithm{"no lock", func(int) string { return "0" }, startNoLock})
	}
	return as
}

// row is the outcome of one algorithm with N nodes.
type row struct {
	n        int
	alg      string
	entries  int64 // critical sections entered
	want     int64 // N × k
	wire     int64 // messages the network carried
	own      int64 // messages by the library's own count
	ownWhat  string
	theory   string
	overlaps int64 // entries made while another node was inside
	lostInc  int64 // increments of the shared counter lost to overlaps
	stuck    error // why the nodes did not all finish, if they did not
}

func (r row) held() bool { return r.overlaps == 0 && r.lostInc == 0 }

// measure runs one algorithm with e.n nodes on a network of its own.
func measure(ctx context.Context, e env, alg algorithm) (row, error) {
	e.net = netsim.NewNetwork(e.cfg.faults.Seed, e.tr.NetsimOptions()...)
	defer e.net.Close()
	if err := e.net.SetDefaultFaults(e.cfg.faults); err != nil {
		return row{}, err
	}
	g, err := alg.start(ctx, e)
	if err != nil {
		return row{}, fmt.Errorf("start %s with %d nodes: %w", alg.name, e.n, err)
	}
	defer g.close()

	cs := &criticalSection{hold: e.cfg.hold}
	vctx, cancel := context.WithTimeout(ctx, e.cfg.timeout)
	defer cancel()
	verr := visit(vctx, g, e.cfg.k, e.cfg.think, cs, e.tr)
	if ctx.Err() != nil {
		return row{}, ctx.Err() // interrupted: no row to show
	}
	r := row{
		n: e.n, alg: alg.name, theory: alg.theory(e.n),
		entries: cs.entries.Load(), want: int64(e.n * e.cfg.k),
		overlaps: cs.overlaps.Load(), lostInc: cs.entries.Load() - cs.counter.Load(),
	}
	for _, name := range append(g.names, g.servers...) {
		r.wire += e.net.NodeStats(name).Out.Sent
	}
	r.own, r.ownWhat = g.own()
	if verr != nil {
		r.stuck = firstError(verr)
	}
	return r, nil
}

// firstError returns one of the errors joined in err.
func firstError(err error) error {
	if j, ok := err.(interface{ Unwrap() []error }); ok && len(j.Unwrap()) > 0 {
		return j.Unwrap()[0]
	}
	return err
}

// printTable prints one line per run.
func printTable(out io.Writer, rows []row) {
	fmt.Fprintf(out, "%3s  %-16s %9s %9s %10s  %-13s %-28s %s\n",
		"N", "algorithm", "entries", "messages", "per entry", "textbook", "counted by the library", "mutual exclusion")
	for _, r := range rows {
		per := "-"
		if r.entries > 0 {
			per = fmt.Sprintf("%.2f", float64(r.wire)/float64(r.entries))
		}
		excl := "held"
		if !r.held() {
			excl = fmt.Sprintf("VIOLATED: %d overlaps, %d increments lost", r.overlaps, r.lostInc)
		}
		if r.stuck != nil {
			excl += " (unfinished)"
		}
		fmt.Fprintf(out, "%3d  %-16s %9s %9d %10s  %-13s %-28s %s\n",
			r.n, r.alg, fmt.Sprintf("%d/%d", r.entries, r.want), r.wire, per, r.theory,
			fmt.Sprintf("%d = %s", r.own, r.ownWhat), excl)
	}
}

// explainTable says what the numbers mean.
func explainTable(out io.Writer, rows []row, cfg config) {
	fmt.Fprintln(out, `
"messages" is what the simulated network carried; "counted by the library" is the algorithm's own count.`)
	fmt.Fprintln(out, `Ricart-Agrawala: an entry asks the N-1 others and waits for N-1 replies, 2(N-1) messages:
  the cost grows with N. A reply is the return of the request's rpc call, so the count is exact.
Token ring: a node enters when the token passes by; with every node waiting, about one pass per
  entry, and more when few want it (the token goes round anyway). A pass is an rpc call: 2 messages.
Lock service: 3 messages in the textbook (request, grant, release), whatever N. Over rpc the
  release is acknowledged too, so 4; and each client opens a session with its first call.`)
	held := true
	fmt.Fprintln(out)
	for _, r := range rows {
		held = held && r.held()
		if r.stuck != nil {
			fmt.Fprintf(out, "%s with N = %d did not finish in %v: %d of %d entries (%v).\n",
				r.alg, r.n, cfg.timeout, r.entries, r.want, r.stuck)
		}
	}
	if held {
		fmt.Fprintf(out, "Mutual exclusion held in every run: no node entered while another was inside,\nand the shared counter lost no increment.\n")
	} else {
		fmt.Fprintf(out, "Mutual exclusion was VIOLATED (see the table): nodes were inside together, and the shared\ncounter lost the increments they made at the same time.\n")
	}
}
