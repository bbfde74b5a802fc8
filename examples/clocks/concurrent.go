package main

import (
	"cmp"
	"context"
	"fmt"
	"io"
	"time"
)

// concurrentWrites is part 3: bob writes y=1 and sends it to carol, and
// carol writes y=2 before bob's message reaches her, and sends it to bob.
// Neither write could have influenced the other. The demo compares what
// Lamport timestamps and vector clocks say of this pair, and of part 1's
// pair x (which are causally ordered).
func concurrentWrites(ctx context.Context, w *world, x []write, out io.Writer, o *outcome) error {
	bob, carol := w.procs["bob"], w.procs["carol"]
	fmt.Fprintln(out, "\n3. Vector clocks (trace.VectorClock). bob sets y=1 and sends it to carol; carol sets y=2 before")
	fmt.Fprintln(out, "   bob's message reaches her, and sends it to bob.")
	first := len(w.events)
	w.after(10 * time.Millisecond)
	y1 := write{by: "bob", key: "y", value: "1", stamp: w.local(bob, "sets y=1")}
	if err := w.send(ctx, bob, "carol", message{Key: "y", Value: "1", Written: y1.stamp}, "sends y=1 to carol"); err != nil {
		return err
	}
	w.after(w.delay / 4) // less than the shortest delay: bob's y=1 is still on its way
	y2 := write{by: "carol", key: "y", value: "2", stamp: w.local(carol, "sets y=2")}
	if err := w.send(ctx, carol, "bob", message{Key: "y", Value: "2", Written: y2.stamp}, "sends y=2 to bob"); err != nil {
		return err
	}
	for _, p := range []*process{carol, bob} {
		if _, _, err := w.receive(ctx, p); err != nil {
			return err
		}
	}
	fmt.Fprintf(out, "   %-6s %-32s %s\n", "", "vector clock", "event")
	for _, e := range w.events[first:] {
		fmt.Fprintf(out, "   %-6s %-32s %s\n", e.node, e.stamp.Vector, e.what)
	}

	fmt.Fprintln(out, "   Two pairs of writes, and what each kind of clock says of them:")
	for _, pair := range [][2]write{{x[0], x[1]}, {y1, y2}} {
		a, b := pair[0], pair[1]
		if a.by == "bob" && b.by == "alice" {
			a, b = b, a // alice's x=1 first, as it was written
		}
		first, second := a, b
		if cmp.Or(cmp.Compare(b.stamp.Lamport, a.stamp.Lamport), cmp.Compare(b.by, a.by)) < 0 {
			first, second = b, a
		}
		fmt.Fprintf(out, "   %s's %s=%s and %s's %s=%s: Lamport puts %s's first (%d, %d);\n",
			a.by, a.key, a.value, b.by, b.key, b.value, first.by, first.stamp.Lamport, second.stamp.Lamport)
		switch order := a.stamp.Vector.Compare(b.stamp.Vector); order.String() {
		case "concurrent":
			o.concurrent++
			fmt.Fprintf(out, "      vector clocks: %s and %s are CONCURRENT: neither had seen the other's write.\n", a.stamp.Vector, b.stamp.Vector)
		case "before":
			fmt.Fprintf(out, "      vector clocks: %s is before %s: %s had seen %s's write.\n", a.stamp.Vector, b.stamp.Vector, b.by, a.by)
		case "after":
			fmt.Fprintf(out, "      vector clocks: %s is after %s: %s had seen %s's write.\n", a.stamp.Vector, b.stamp.Vector, a.by, b.by)
		default:
			fmt.Fprintf(out, "      vector clocks: %s and %s are %s.\n", a.stamp.Vector, b.stamp.Vector, order)
		}
	}
	if o.concurrent > 0 {
		fmt.Fprintln(out, "   Lamport timestamps put every pair in some order, so last writer wins would keep one y and")
		fmt.Fprintln(out, "   silently drop the other. Vector clocks tell the two cases apart: x=2 replaces x=1, but the")
		fmt.Fprintln(out, "   two y's are a conflict to resolve: keep both (Dynamo's siblings), merge them, or ask.")
	}
	return nil
}

// cristian is part 4: bob asks alice, whose clock is the reference, for
// the time, and estimates his clock's offset from the round trip.
func cristian(ctx context.Context, w *world, out io.Writer, o *outcome) error {
	alice, bob := w.procs["alice"], w.procs["bob"]
	fmt.Fprintln(out, "\n4. Cristian's algorithm. bob asks alice, whose clock is the reference, for the time.")
	w.after(10 * time.Millisecond)
	if err := w.send(ctx, bob, "alice", message{Key: "time?"}, "asks alice the time"); err != nil {
		return err
	}
	t0 := w.events[len(w.events)-1].stamp.Phys
	q, t1s, err := w.receive(ctx, alice)
	if err != nil {
		return err
	}
	t1 := t1s.Phys
	outAt := w.now - (q.Stamp.Phys - bob.offset) // how long the question took
	if err := w.send(ctx, alice, "bob", message{Key: "time", Value: clockTime(w.clock(alice))}, "answers"); err != nil {
		return err
	}
	t2 := w.events[len(w.events)-1].stamp.Phys
	sentBack := w.now
	_, t3s, err := w.receive(ctx, bob)
	if err != nil {
		return err
	}
	t3 := t3s.Phys
	back := w.now - sentBack

	rtt := (t3 - t0) - (t2 - t1)
	theta := ((t1 - t0) + (t2 - t3)) / 2
	fmt.Fprintf(out, "   bob sends at %s by his clock (t0); alice receives at %s by hers (t1)\n", clockTime(t0), clockTime(t1))
	fmt.Fprintf(out, "   and answers at once (t2 = t1); bob gets the answer at %s by his clock (t3).\n", clockTime(t3))
	fmt.Fprintf(out, "   Round trip δ = (t3-t0) - (t2-t1) = %v.\n", rtt)
	fmt.Fprintf(out, "   Estimated offset θ = ((t1-t0) + (t2-t3)) / 2 = %v: bob's clock is that far behind alice's.\n", theta)
	truth := -bob.offset
	off := theta - truth
	o.estimateOff, o.roundTrip = off, rtt
	fmt.Fprintf(out, "   It is really %s: the estimate is off by %v, ", describeOffset(bob.offset), abs(off))
	if abs(off) <= rtt/2 {
		fmt.Fprintf(out, "within δ/2 = %v, as Cristian promises.\n", rtt/2)
	} else {
		fmt.Fprintf(out, "MORE than δ/2 = %v: a bug in the demo.\n", rtt/2)
	}
	fmt.Fprintf(out, "   The error is half the difference between the two ways, %v out and %v back: the estimate\n", outAt, back)
	fmt.Fprintln(out, "   assumes they are equal, and nothing bob can measure tells them apart.")
	bob.offset += theta
	fmt.Fprintf(out, "   bob sets his clock by θ; it is now %s.\n", describeOffset(bob.offset))
	fmt.Fprintln(out, "\nPhysical clocks can be made close, never equal: order events by them and a small error can")
	fmt.Fprintln(out, "still put a receive before its send. Lamport clocks respect causality; vector clocks capture it.")
	return nil
}

func abs(d time.Duration) time.Duration {
	if d < 0 {
		return -d
	}
	return d
}
