package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strconv"
	"time"

	"github.com/distsys-kit/distsys/examples/demo"
	"github.com/distsys-kit/distsys/primarybackup"
	"github.com/distsys-kit/distsys/rpc"
)

// partition runs the demo: the network whole, split, and healed again, with
// what the clients see at each step.
func partition(ctx context.Context, cfg config, tr *demo.Tracer, out io.Writer) error {
	_, err := runSteps(ctx, cfg, tr, out)
	return err
}

// result is what the clients saw in each step, for the tests: the
// narration is made from the same counts.
type result struct {
	whole, cut, healed tally
	hopeless           bool  // nothing was delivered: the run stopped in step 1
	lostAtCut          int64 // messages netsim lost to the partition or crash
	lostToFaults       int64 // messages netsim lost to the faults (-drop)
}

// runSteps runs the three steps and returns what the clients saw in each.
func runSteps(ctx context.Context, cfg config, tr *demo.Tracer, out io.Writer) (result, error) {
	var res result
	c, err := startCluster(ctx, cfg, tr)
	defer c.close()
	if err != nil {
		return res, err
	}
	n := &narrator{out: out, c: c, timeout: cfg.timeout}

	fmt.Fprintf(out, "partition: a primary/backup key-value store on a simulated network (seed %d); %v.\n", cfg.faults.Seed, cfg.faults)
	fmt.Fprintln(out, "alice works next to the primary, bob next to the backup. Both write to the primary;")
	fmt.Fprintln(out, "each reads from the replica next to them. A client waits", cfg.timeout, "for a reply.")
	if cfg.sync {
		fmt.Fprintln(out, "The primary acknowledges a write only once the backup has it, and refuses it otherwise (-sync).")
	} else {
		fmt.Fprintln(out, "The primary acknowledges a write at once and copies it to the backup in the background.")
	}

	fmt.Fprintln(out, "\n1. The network is whole.")
	n.put(ctx, "alice", "x", "1")
	n.put(ctx, "bob", "y", "1")
	if n.hopeless() {
		res.hopeless, res.whole = true, n.tally
		return res, n.giveUp(ctx)
	}
	n.waitSynced(ctx, "   (the demo waits until the backup has confirmed the primary's table)")
	n.get(ctx, "bob", "x")

	if cfg.crash {
		fmt.Fprintln(out, "\n2. The backup crashes.")
		c.net.Crash("backup") // the trace draws it (tracesim)
	} else {
		fmt.Fprintln(out, "\n2. The network splits: {primary, alice} | {backup, bob}.")
		c.net.Partition(sides())
	}
	res.whole = n.tally
	before := n.tally
	for i := range cfg.writes {
		if ctx.Err() != nil {
			break // interrupted
		}
		n.put(ctx, "alice", "x", strconv.Itoa(i+2))
	}
	n.get(ctx, "alice", "x")
	n.get(ctx, "bob", "x")
	n.put(ctx, "bob", "y", "2")
	n.cut = n.tally.minus(before)
	lost, where := c.lostAtCut(), "between the two sides"
	if cfg.crash {
		where = "to and from the backup"
	}
	fmt.Fprintf(out, "   netsim: %d messages lost so far %s; no sender was told.\n", lost, where)

	if cfg.crash {
		fmt.Fprintln(out, "\n3. The backup restarts, with an empty table: its memory died with it.")
		c.net.Restart("backup")
		if err := c.serve("backup", &primarybackup.Backup{}, tr); err != nil {
			return res, err
		}
	} else {
		fmt.Fprintln(out, "\n3. The network heals.")
		c.net.Heal()
	}
	n.waitSynced(ctx, "   A copy from the primary got through: the backup has the primary's table again.")
	n.put(ctx, "bob", "y", "3")
	n.waitSynced(ctx, "")
	n.get(ctx, "bob", "x")
	n.get(ctx, "bob", "y")
	if err := ctx.Err(); err != nil {
		return res, err // interrupted: the narration above is cut short
	}
	res.cut, res.healed = n.cut, n.tally.minus(n.cut).minus(res.whole)
	res.lostAtCut, res.lostToFaults = lost, c.lostToFaults()

	t := n.tally
	fmt.Fprintf(out, "\nSummary: %d calls answered, %d timed out, %d refused, %d failed otherwise; reads at the backup: %d fresh, %d stale.\n",
		t.ok, t.timedOut, t.refused, t.failed, t.fresh, t.stale)
	cause := "the partition"
	if cfg.crash {
		cause = "the crash"
	}
	fmt.Fprintf(out, "netsim lost %d messages to %s and %d to the faults.\n\n", res.lostAtCut, cause, res.lostToFaults)
	conclude(out, cfg, n.cut)
	return res, nil
}

// conclude says what the run showed, from what the clients saw while the
// backup was cut off (or down).
func conclude(out io.Writer, cfg config, cut tally) {
	wrote := cut.writesOK > 0
	switch {
	case cfg.crash && cut.timedOut > 0:
		fmt.Fprintln(out, "To bob, the crashed backup looked like the primary behind a partition: no reply, and a timeout")
		fmt.Fprintln(out, "that cannot say why. The restarted backup had lost its table; the primary's copies restore it.")
		if cfg.sync && !wrote {
			fmt.Fprintln(out, "With -sync, nobody could write while the backup was down.")
		}
	case !wrote && cut.stale == 0 && cut.refused > 0:
		fmt.Fprintln(out, "The primary refused the writes it could not copy: no read was stale, but alice could not write.")
		fmt.Fprintln(out, "Consistency was kept and availability lost. Run without -sync for the other choice.")
	case wrote && cut.stale > 0:
		fmt.Fprintln(out, "The primary kept accepting writes it could not copy: alice could write, but bob read old data.")
		fmt.Fprintln(out, "Availability was kept and consistency lost. Try -sync for the other choice.")
	case wrote:
		fmt.Fprintln(out, "The primary accepted alice's writes while the backup was cut off, but no read at the backup")
		fmt.Fprintln(out, "answered meanwhile, so none was seen stale: the faults hid the choice this time. Try another -seed.")
	default:
		fmt.Fprintln(out, "No write of alice's got through while the backup was cut off: the faults, not the replication,")
		fmt.Fprintln(out, "decided this run. Try fewer faults, or another -seed.")
	}
}

// hopeless reports whether the network is losing everything: every call
// so far has failed, at least two, and not one message was delivered.
func (n *narrator) hopeless() bool {
	t := n.tally
	return t.ok == 0 && t.timedOut+t.failed >= 2 && n.c.delivered() == 0
}

// giveUp says that the network lets nothing through, and stops the demo.
func (n *narrator) giveUp(ctx context.Context) error {
	fmt.Fprintf(n.out, "\nNot one message has been delivered (%d calls tried, each waiting %v): the network is losing everything. Stopping.\n",
		n.tally.timedOut+n.tally.failed, n.timeout)
	return ctx.Err()
}

// tally counts what the clients saw.
type tally struct {
	ok, timedOut, refused, failed int // calls
	writesOK                      int // writes acknowledged
	maybe                         int // calls that met a restarted server, and were made again
	fresh, stale                  int // reads at the backup, compared with the primary
}

// narrator makes the clients' calls and says what they see.
type narrator struct {
	out     io.Writer
	c       *cluster
	timeout time.Duration
	tally   tally // every call
	cut     tally // the calls of step 2, while the backup is cut off or down
}

// put has who write key=value at the primary.
func (n *narrator) put(ctx context.Context, who, key, value string) {
	rc := n.c.alice
	if who == "bob" {
		rc = n.c.bobPut
	}
	ctx, cancel := context.WithTimeout(ctx, n.timeout)
	defer cancel()
	err := rc.Call(ctx, "Primary.Put", &primarybackup.PutArgs{Key: key, Value: value}, nil)
	what := n.outcome(err)
	if err == nil {
		n.tally.writesOK++
	}
	if errors.Is(err, context.DeadlineExceeded) {
		what += "; did the write happen? " + who + " cannot tell"
	}
	fmt.Fprintf(n.out, "   %-5s put %s=%s at the primary: %s\n", who, key, value, what)
}

// get has who read key: alice at the primary, bob at the backup. A read at
// the backup is compared with what the primary holds.
func (n *narrator) get(ctx context.Context, who, key string) {
	rc, method, where := n.c.alice, "Primary.Get", "primary"
	if who == "bob" {
		rc, method, where = n.c.bobGet, "Backup.Get", "backup"
	}
	ctx, cancel := context.WithTimeout(ctx, n.timeout)
	defer cancel()
	var r primarybackup.GetReply
	err := rc.Call(ctx, method, &key, &r)
	if errors.Is(err, rpc.ErrMaybeExecuted) {
		// The server restarted between two attempts of the call, and
		// cannot say whether its old self ran it. A read is safe to repeat.
		fmt.Fprintf(n.out, "   %-5s get %s at the %s: MAYBE EXECUTED: the %s has restarted and cannot tell whether\n", who, key, where, where)
		fmt.Fprintf(n.out, "         its old self ran the call (rpc.ErrMaybeExecuted); a read is safe to repeat, so %s asks again\n", who)
		n.tally.maybe++
		err = rc.Call(ctx, method, &key, &r)
	}
	if err != nil {
		fmt.Fprintf(n.out, "   %-5s get %s at the %s: %s\n", who, key, where, n.outcome(err))
		return
	}
	n.tally.ok++
	got := show(key, r)
	if where == "primary" {
		fmt.Fprintf(n.out, "   %-5s get %s at the %s: %s\n", who, key, where, got)
		return
	}
	if truth := n.c.primary.Value(key); !r.Same(truth) {
		n.tally.stale++
		fmt.Fprintf(n.out, "   %-5s get %s at the %s: %s, STALE: the primary has %s\n", who, key, where, got, show(key, truth))
		return
	}
	n.tally.fresh++
	fmt.Fprintf(n.out, "   %-5s get %s at the %s: %s, as at the primary\n", who, key, where, got)
}

// show prints a read's result.
func show(key string, r primarybackup.GetReply) string {
	if !r.Found {
		return key + " not set"
	}
	return key + "=" + r.Value
}

// outcome says what an error means to the client that got it, and counts it.
func (n *narrator) outcome(err error) string {
	switch {
	case err == nil:
		n.tally.ok++
		return "ok"
	case errors.Is(err, primarybackup.ErrNotReplicated):
		n.tally.refused++
		return "REFUSED: the backup did not confirm it in time, so the primary did not keep it"
	case errors.Is(err, context.DeadlineExceeded):
		n.tally.timedOut++
		return fmt.Sprintf("TIMED OUT: no reply within %v", n.timeout)
	case errors.Is(err, rpc.ErrClosed), errors.Is(err, context.Canceled):
		n.tally.failed++
		return "interrupted"
	}
	n.tally.failed++
	return "FAILED: " + err.Error()
}

// minus returns what t counts beyond u.
func (t tally) minus(u tally) tally {
	return tally{
		ok: t.ok - u.ok, timedOut: t.timedOut - u.timedOut, refused: t.refused - u.refused, failed: t.failed - u.failed,
		writesOK: t.writesOK - u.writesOK, maybe: t.maybe - u.maybe, fresh: t.fresh - u.fresh, stale: t.stale - u.stale,
	}
}

// waitSynced waits, a bounded time, until a copy from the primary made
// from now on has been confirmed by the backup, with the primary's table,
// and says so with msg, if any.
func (n *narrator) waitSynced(ctx context.Context, msg string) {
	ctx, cancel := context.WithTimeout(ctx, 5*n.timeout)
	defer cancel()
	if err := n.c.primary.WaitSynced(ctx, n.c.primary.Confirmations()); err != nil {
		fmt.Fprintf(n.out, "   The backup has not confirmed the primary's table after %v: its reads may be stale.\n", 5*n.timeout)
		return
	}
	if msg != "" {
		fmt.Fprintln(n.out, msg)
	}
}
