package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"time"

	"github.com/distsys-kit/distsys/examples/demo"
)

// outcome is what the run showed, for the tests: the narration is made
// from the same numbers.
type outcome struct {
	anomalies     int           // part 1: receives stamped before their send by physical clocks
	physicalRight bool          // part 1: last writer wins by physical clocks kept the newest x
	lateLamport   int           // part 2: receives stamped no later than their send by Lamport clocks
	lamportRight  bool          // part 2: last writer wins by Lamport clocks kept the newest x
	concurrent    int           // part 3: pairs of writes the vector clocks call concurrent
	estimateOff   time.Duration // part 4: how far Cristian's estimate is from the truth
	roundTrip     time.Duration // part 4: δ
}

// show runs the four parts of the demo, narrating on out.
func show(ctx context.Context, cfg config, tr *demo.Tracer, out io.Writer) (outcome, error) {
	var o outcome
	offsets := map[string]time.Duration{"alice": 0, "bob": cfg.skew, "carol": cfg.carol}
	w, err := newWorld(ctx, cfg, tr, offsets)
	defer w.close()
	if err != nil {
		return o, err
	}
	fmt.Fprintf(out, "clocks: alice, bob and carol on a simulated network (seed %d); a message takes %v to %v.\n",
		cfg.seed, (cfg.delay / 2).Truncate(time.Millisecond), (cfg.delay * 3 / 2).Truncate(time.Millisecond))
	fmt.Fprintf(out, "True time is simulated, so a seed replays the run. alice's clock is right; bob's is %s;\ncarol's is %s.\n",
		describeOffset(cfg.skew), describeOffset(cfg.carol))

	x, err := causalWrites(ctx, w, out, &o)
	if err != nil {
		return o, err
	}
	lamportView(w, x, out, &o)
	if err := concurrentWrites(ctx, w, x, out, &o); err != nil {
		return o, err
	}
	return o, cristian(ctx, w, out, &o)
}

// write is a write of a key, as a process that received it knows it.
type write struct {
	by         string
	key, value string
	stamp      stamp
}

// causalWrites is part 1: alice writes x=1 and sends it; bob, having seen
// it, writes x=2. carol gets both and keeps the one with the latest
// physical timestamp. It returns the two writes, as carol got them.
func causalWrites(ctx context.Context, w *world, out io.Writer, o *outcome) ([]write, error) {
	alice, bob, carol := w.procs["alice"], w.procs["bob"], w.procs["carol"]
	fmt.Fprintln(out, "\n1. Physical clocks. alice sets x=1 and sends it to bob and carol; bob, once he has it, sets")
	fmt.Fprintln(out, "   x=2 and sends that to carol. Each event is stamped with its own process's clock.")
	first := len(w.events)
	x1 := message{Key: "x", Value: "1", Written: w.local(alice, "sets x=1")}
	for _, to := range []string{"bob", "carol"} {
		if err := w.send(ctx, alice, to, x1, "sends x=1 to "+to); err != nil {
			return nil, err
		}
	}
	if _, _, err := w.receive(ctx, bob); err != nil {
		return nil, err
	}
	w.after(2 * time.Millisecond)
	x2 := message{Key: "x", Value: "2", Written: w.local(bob, "sets x=2")}
	if err := w.send(ctx, bob, "carol", x2, "sends x=2 to carol"); err != nil {
		return nil, err
	}
	var got []write
	for range 2 {
		m, _, err := w.receive(ctx, carol)
		if err != nil {
			return nil, err
		}
		got = append(got, write{by: writer(m, x1), key: m.Key, value: m.Value, stamp: m.Written})
	}

	fmt.Fprintf(out, "   %-13s %-6s %-13s %s\n", "true time", "", "its clock", "event")
	for _, e := range w.events[first:] {
		fmt.Fprintf(out, "   %-13s %-6s %-13s %s\n", clockTime(e.at), e.node, clockTime(e.stamp.Phys), e.what)
	}
	for _, e := range w.events[first:] {
		if e.sent != nil && e.stamp.Phys < e.sent.Phys {
			o.anomalies++
			fmt.Fprintf(out, "   %s's receive is stamped %v BEFORE the send it received: by the clocks, the message\n", e.node, e.sent.Phys-e.stamp.Phys)
			fmt.Fprintf(out, "   arrived before it left (%s).\n", e.what)
		}
	}
	if o.anomalies == 0 {
		fmt.Fprintln(out, "   Every receive is stamped after its send: the clocks disagree by less than any message takes.")
	}
	kept := lastWriter(got, func(a, b write) int { return cmp.Compare(a.stamp.Phys, b.stamp.Phys) })
	fmt.Fprintf(out, "   carol keeps the write with the latest stamp (last writer wins): x=%s, stamped %s by %s.\n",
		kept.value, clockTime(kept.stamp.Phys), kept.by)
	o.physicalRight = judge(out, got, kept, "physical clocks")
	return got, nil
}

// writer says who wrote m: alice wrote x1, bob the other.
func writer(m, x1 message) string {
	if m.Value == x1.Value {
		return "alice"
	}
	return "bob"
}

// lastWriter returns the write that last writer wins keeps, by order of
// timestamps, ties broken by the writer's name (a total order).
func lastWriter(ws []write, byStamp func(a, b write) int) write {
	kept := ws[0]
	for _, o := range ws[1:] {
		if cmp.Or(byStamp(o, kept), cmp.Compare(o.by, kept.by)) > 0 {
			kept = o
		}
	}
	return kept
}

// judge says whether keeping kept lost a write that came after it: one
// whose writer had seen kept (its vector clock says so). It reports
// whether kept is right: after every other write.
func judge(out io.Writer, ws []write, kept write, by string) bool {
	for _, o := range ws {
		if kept.stamp.Vector.HappensBefore(o.stamp.Vector) {
			fmt.Fprintf(out, "   WRONG: %s set x=%s after seeing x=%s, but by %s it is older, and it is lost.\n",
				o.by, o.value, kept.value, by)
			return false
		}
	}
	for _, o := range ws {
		if o.by != kept.by && !o.stamp.Vector.HappensBefore(kept.stamp.Vector) {
			fmt.Fprintf(out, "   x=%s and x=%s are concurrent: whichever is kept, the other is lost.\n", kept.value, o.value)
			return false
		}
	}
	fmt.Fprintf(out, "   Right: %s set x=%s after seeing the other write, so it is the newest.\n", kept.by, kept.value)
	return true
}

// lamportView is part 2: the same events, with Lamport timestamps.
func lamportView(w *world, x []write, out io.Writer, o *outcome) {
	fmt.Fprintln(out, "\n2. Lamport clocks (trace.LamportClock) on the same events: tick at every event, and on a")
	fmt.Fprintln(out, "   receive jump past the message's stamp first.")
	fmt.Fprintf(out, "   %-7s %-6s %s\n", "Lamport", "", "event")
	for _, e := range w.events {
		fmt.Fprintf(out, "   %-7d %-6s %s\n", e.stamp.Lamport, e.node, e.what)
		if e.sent != nil && e.stamp.Lamport <= e.sent.Lamport {
			o.lateLamport++
		}
	}
	if o.lateLamport == 0 {
		fmt.Fprintln(out, "   Every receive is stamped after its send, whatever the physical clocks say.")
	} else {
		fmt.Fprintf(out, "   %d receives are stamped no later than their send: a bug in trace.LamportClock.\n", o.lateLamport)
	}
	kept := lastWriter(x, func(a, b write) int { return cmp.Compare(a.stamp.Lamport, b.stamp.Lamport) })
	fmt.Fprintf(out, "   Last writer wins by Lamport timestamp keeps x=%s (Lamport %d, by %s).\n", kept.value, kept.stamp.Lamport, kept.by)
	o.lamportRight = judge(out, x, kept, "Lamport timestamps")
}

// describeOffset says how far a clock is from true time.
func describeOffset(d time.Duration) string {
	switch {
	case d < 0:
		return fmt.Sprintf("%v slow", -d)
	case d > 0:
		return fmt.Sprintf("%v fast", d)
	}
	return "right too"
}

// noon is where the clocks of the demo start from: only the time of day
// is printed.
var noon = time.Date(2000, 1, 1, 12, 0, 0, 0, time.UTC)

// clockTime prints d after noon as a clock does, to the millisecond.
func clockTime(d time.Duration) string { return noon.Add(d).Format("15:04:05.000") }
