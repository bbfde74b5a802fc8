package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/distsys-kit/distsys/dashboard"
	"github.com/distsys-kit/distsys/examples/demo"
	"github.com/distsys-kit/distsys/transport"
	"github.com/distsys-kit/distsys/transport/netsim"
)

// liveWait is how long a process of the live demo waits for a message it
// expects before it goes on without it: shorter than a round, longer than
// any delay a class wants to watch.
const liveWait = 800 * time.Millisecond

// live runs alice, bob and carol for a lecture, under the dashboard of
// -dashboard, in real time: every round alice sets x and sends it to bob
// and carol; bob, once he has it, sets x too and sends his to carol and
// alice; carol keeps one of the two by last writer wins, by physical
// timestamp and by Lamport timestamp, and the vector clocks judge the
// choice. Each receive is narrated with its three stamps. Set a link's
// delay on the page above bob's skew and his receives stop being stamped
// before their sends; cut alice -> bob and bob's write becomes concurrent
// with alice's, which the vector clocks say and Lamport's do not.
func live(ctx context.Context, cfg config, fs *flag.FlagSet, tr *demo.Tracer, stdout io.Writer) error {
	tr.RecordInMemory() // the messages carry stamps: the page shows them
	offsets := map[string]time.Duration{"alice": 0, "bob": cfg.skew, "carol": cfg.carol}
	w, err := newWorld(ctx, cfg, tr, offsets)
	defer w.close()
	if err != nil {
		return err
	}
	if err := w.net.SetDefaultFaults(transport.Faults{Delay: cfg.delay / 2, Jitter: cfg.delay, Seed: cfg.seed}); err != nil {
		return err
	}
	dash, err := demo.StartDashboard(fs, w.net, stdout,
		dashboard.WithTitle("clocks: physical, Lamport and vector timestamps"), dashboard.WithNodes("alice", "bob", "carol"))
	if err != nil {
		return err
	}
	defer dash.Close()
	out := dash.Out()
	fmt.Fprintf(out, "alice's clock is right; bob's is %s; carol's is %s. A message takes %v to %v.\n",
		describeOffset(cfg.skew), describeOffset(cfg.carol), (cfg.delay / 2).Truncate(time.Millisecond), (cfg.delay * 3 / 2).Truncate(time.Millisecond))
	fmt.Fprintln(out, "Each round alice sets x and sends it; bob, once he has it, sets x and sends his; carol keeps one by last")
	fmt.Fprintln(out, "writer wins. Delay or cut the links on the page, and watch the stamps and carol's choice.")

	l := &liveRun{w: w, out: out, start: time.Now()}
	round := func(ctx context.Context, r int) error {
		fmt.Fprintf(out, "Round %d:\n", r)
		l.round(ctx, r, dash.Up)
		t := l.tally
		fmt.Fprintf(out, "   So far: %d receives, %d stamped BEFORE their send by the physical clocks, %d by Lamport's; carol's last\n", t.receives, t.physicalBefore, t.lamportBefore)
		fmt.Fprintf(out, "   writer wins was WRONG %d times by physical clocks and %d by Lamport's; the two writes were concurrent %d times.\n", t.physicalWrong, t.lamportWrong, t.concurrent)
		return nil
	}
	react := func(e netsim.Event) error {
		if e.Kind == netsim.EventRestart && w.procs[e.Node] != nil {
			fmt.Fprintf(out, "%s connects to the others again; its clocks were kept, as on disk.\n", e.Node)
			l.reconnect(ctx, e.Node, dash.Up)
		}
		return nil
	}
	if err := dash.Live(ctx, demo.RoundGap, round, react); err != nil {
		return err
	}
	return tr.Write(stdout)
}

// liveRun is the state of the live demo: the processes, in real time.
type liveRun struct {
	w     *world
	out   io.Writer
	start time.Time // the clocks read noon plus the time since start, plus their offsets
	tally liveTally
}

// liveTally counts what the rounds showed.
type liveTally struct {
	receives       int // messages received
	physicalBefore int // receives stamped before their send by the physical clocks
	lamportBefore  int // ... by Lamport clocks: never
	physicalWrong  int // carol's last writer wins, by physical clock, lost a newer write
	lamportWrong   int // ... by Lamport clock
	concurrent     int // rounds whose two writes were concurrent
}

// clock returns what p's clock reads now.
func (l *liveRun) clock(p *process) time.Duration {
	return time.Since(l.start) + 100*time.Millisecond + p.offset
}

// round is one round: alice writes, bob writes after her, carol chooses.
func (l *liveRun) round(ctx context.Context, r int, up func(string) bool) {
	alice, bob, carol := l.w.procs["alice"], l.w.procs["bob"], l.w.procs["carol"]
	xa := message{Key: "x", Value: fmt.Sprintf("a%d", r)}
	xb := message{Key: "x", Value: fmt.Sprintf("b%d", r)}
	if up("alice") {
		l.write(ctx, alice, &xa, "bob", "carol")
	}
	if up("bob") {
		l.await(ctx, bob, "alice", xa.Value)
		l.write(ctx, bob, &xb, "carol", "alice")
	}
	if !up("carol") {
		fmt.Fprintln(l.out, "   carol is down, and keeps nothing.")
		return
	}
	var got []write
	for _, m := range []struct {
		from string
		m    *message
	}{{"alice", &xa}, {"bob", &xb}} {
		if w, ok := l.await(ctx, carol, m.from, m.m.Value); ok {
			got = append(got, write{by: m.from, key: w.Key, value: w.Value, stamp: w.Written})
		}
	}
	if up("alice") {
		l.await(ctx, alice, "bob", xb.Value)
	}
	l.judge(got)
}

// write has p set x to m.Value and send it to each of to.
func (l *liveRun) write(ctx context.Context, p *process, m *message, to ...string) {
	m.Written = l.stamp(p)
	fmt.Fprintf(l.out, "   %-5s sets x=%s at %s by its clock (Lamport %d, vector %v), and sends it.\n",
		p.name, m.Value, clockTime(m.Written.Phys), m.Written.Lamport, m.Written.Vector)
	for _, peer := range to {
		m.Stamp = l.stamp(p)
		data, err := json.Marshal(m)
		if err == nil {
			err = p.conns[peer].Send(ctx, data)
		}
		if err != nil {
			fmt.Fprintf(l.out, "   %-5s cannot send x=%s to %s: %v.\n", p.name, m.Value, peer, err)
		}
	}
}

// stamp ticks p's logical clocks for one of its events and returns the
// event's three stamps. The write itself is one event, and each send
// another.
func (l *liveRun) stamp(p *process) stamp {
	s := stamp{Phys: l.clock(p), Lamport: p.lamport.Tick(), Vector: p.vector.Tick(p.name)}
	p.vector = s.Vector
	return s
}

// await has p receive from the process named from, each message
// narrated, until the one with value arrives or liveWait passes; it
// returns that message.
func (l *liveRun) await(ctx context.Context, p *process, from, value string) (message, bool) {
	ctx, cancel := context.WithTimeout(ctx, liveWait)
	defer cancel()
	for {
		data, err := p.conns[from].Recv(ctx)
		if err != nil {
			why := err.Error()
			if errors.Is(err, context.DeadlineExceeded) {
				why = fmt.Sprintf("nothing came in %v", liveWait)
			}
			fmt.Fprintf(l.out, "   %-5s waits for x=%s from %s: %s; it goes on without it.\n", p.name, value, from, why)
			return message{}, false
		}
		var m message
		if err := json.Unmarshal(data, &m); err != nil {
			fmt.Fprintf(l.out, "   %-5s gets a garbled message from %s: %v.\n", p.name, from, err)
			continue
		}
		l.received(p, from, m)
		if m.Value == value {
			return m, true
		}
	}
}

// received stamps p's receive of m, and narrates it with its verdicts.
func (l *liveRun) received(p *process, from string, m message) {
	s := stamp{Phys: l.clock(p), Lamport: p.lamport.Witness(m.Stamp.Lamport), Vector: p.vector.Merge(m.Stamp.Vector).Tick(p.name)}
	p.vector = s.Vector
	l.tally.receives++
	verdict := "after its send"
	if s.Phys < m.Stamp.Phys {
		l.tally.physicalBefore++
		verdict = fmt.Sprintf("%v BEFORE its send", (m.Stamp.Phys - s.Phys).Round(100*time.Microsecond))
	}
	if s.Lamport <= m.Stamp.Lamport {
		l.tally.lamportBefore++ // trace.LamportClock would have a bug
	}
	fmt.Fprintf(l.out, "   %-5s receives x=%s from %s: sent %s, received %s by the clocks, %s; Lamport %d -> %d.\n",
		p.name, m.Value, from, clockTime(m.Stamp.Phys), clockTime(s.Phys), verdict, m.Stamp.Lamport, s.Lamport)
}

// judge is carol's choice between the writes she got, by both kinds of
// timestamp, and the vector clocks' verdict on it.
func (l *liveRun) judge(got []write) {
	if len(got) < 2 {
		fmt.Fprintf(l.out, "   carol got %d of the 2 writes: nothing to choose.\n", len(got))
		return
	}
	a, b := got[0], got[1]
	byPhys := lastWriter(got, func(a, b write) int { return cmp.Compare(a.stamp.Phys, b.stamp.Phys) })
	byLamport := lastWriter(got, func(a, b write) int { return cmp.Compare(a.stamp.Lamport, b.stamp.Lamport) })
	if a.stamp.Vector.Concurrent(b.stamp.Vector) {
		l.tally.concurrent++
		fmt.Fprintf(l.out, "   x=%s and x=%s are CONCURRENT by their vector clocks: bob had not heard of alice's write. carol\n", a.value, b.value)
		fmt.Fprintf(l.out, "   keeps x=%s by physical clock and x=%s by Lamport's; either way a write is lost.\n", byPhys.value, byLamport.value)
		return
	}
	newest := b
	if b.stamp.Vector.HappensBefore(a.stamp.Vector) {
		newest = a
	}
	verdict := func(kept write, n *int) string {
		if kept.value == newest.value {
			return "right"
		}
		*n++
		return "WRONG"
	}
	fmt.Fprintf(l.out, "   %s wrote x=%s after seeing the other write. carol keeps x=%s by physical clock (%s), x=%s by Lamport's (%s).\n",
		newest.by, newest.value, byPhys.value, verdict(byPhys, &l.tally.physicalWrong), byLamport.value, verdict(byLamport, &l.tally.lamportWrong))
}

// reconnect opens new conns between a restarted process and every other
// process that is up, in place of the conns the crash closed.
func (l *liveRun) reconnect(ctx context.Context, name string, up func(string) bool) {
	for peer := range l.w.procs {
		if peer == name || !up(peer) {
			continue
		}
		l.w.procs[peer].conns[name].Close()
		l.w.procs[name].conns[peer].Close()
		cctx, cancel := context.WithTimeout(ctx, liveWait)
		if err := l.w.connect(cctx, name, peer); err != nil {
			fmt.Fprintf(l.out, "%s cannot reach %s: %v.\n", name, peer, err)
		}
		cancel()
	}
}
