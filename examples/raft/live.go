package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/distsys-kit/distsys/dashboard"
	"github.com/distsys-kit/distsys/examples/demo"
	"github.com/distsys-kit/distsys/transport/netsim"
)

// The live demo's pace: raft slowed down so that a class can follow an
// election on the page. With the default tick of 100ms, a follower that
// hears no leader for 2 to 4 s campaigns, a leader sends heartbeats every
// 300ms, and a client waits 1 s for its command to commit.
const (
	liveTick          = 100 * time.Millisecond
	liveElectionTick  = 20
	liveHeartbeatTick = 3
	liveDelay         = 5 * time.Millisecond
	commitTicks       = 10
)

// live runs the servers for a lecture, under the dashboard of -dashboard:
// every round a client sends a command to the server it believes leads
// and waits for it to commit, until Ctrl-C, while the instructor cuts
// links and crashes servers on the page. The narration follows what the
// servers report: elections as they happen, commits and their indexes,
// commands a leader cut off in a minority cannot commit, entries
// overwritten when it comes back, and every server's term and applied
// log at the end of each round.
func live(ctx context.Context, n int, seed int64, tick time.Duration, fs *flag.FlagSet, tr *demo.Tracer, stdout io.Writer) error {
	tr.RecordInMemory() // the raft messages carry stamps: the page names them
	t := timing{tick: tick, electionTick: liveElectionTick, heartbeatTick: liveHeartbeatTick, delay: liveDelay}
	c, err := newCluster(n, seed, tr, t)
	if err != nil {
		return err
	}
	defer c.close()
	dash, err := demo.StartDashboard(fs, c.net, stdout,
		dashboard.WithTitle("raft: elections, commits and log repair, live"), dashboard.WithNodes(nodeNames(c.ids())...))
	if err != nil {
		return err
	}
	defer dash.Close()
	out := &lockedWriter{w: dash.Out()}
	fmt.Fprintf(out, "Raft on %d servers (%s), with PreVote and CheckQuorum. A follower that hears no leader for %v to %v\n",
		n, names(c.ids()), tick*liveElectionTick, 2*tick*liveElectionTick)
	fmt.Fprintf(out, "stands for election; a leader sends heartbeats every %v. Each round a client sends a command to the server\n", tick*liveHeartbeatTick)
	fmt.Fprintln(out, "it believes leads, and the round ends with every server's role, term and applied log.")
	fmt.Fprintln(out, "Cut the leader off, or crash it: the others elect a new one. Heal: the old leader's log is repaired.")

	var wg sync.WaitGroup
	defer wg.Wait()
	wctx, stopWatch := context.WithCancel(ctx)
	defer stopWatch() // before wg.Wait and c.close: deferred calls run last first
	w := &watcher{c: c, out: out}
	wg.Go(func() { w.run(wctx, tick/2) }) // exits when wctx ends

	cl := &client{c: c, out: out, tick: tick, wait: commitTicks * tick}
	round := func(ctx context.Context, r int) error {
		fmt.Fprintf(out, "Round %d:\n", r)
		cl.send(ctx, fmt.Sprintf("x=%d", r))
		cl.settle()
		fmt.Fprintln(out, c.summary())
		return nil
	}
	react := func(e netsim.Event) error {
		id, ok := c.idOf(e.Node)
		if !ok {
			return nil
		}
		switch e.Kind {
		case netsim.EventCrash:
			c.stop(id)
			fmt.Fprintf(out, "%s's raft server stopped. Its term, vote and log are in its storage, as on a disk; what it applied was in memory.\n", e.Node)
		case netsim.EventRestart:
			err := c.start(id)
			if errors.Is(err, netsim.ErrCrashed) {
				return nil // crashed again already: its restart will start it
			}
			if err != nil {
				return err
			}
			hs, _ := c.storage[id].InitialState()
			last, _ := c.storage[id].LastIndex()
			fmt.Fprintf(out, "%s starts again from its storage: term %d, %d log entries, commit index %d. It applies its committed entries again,\n",
				e.Node, hs.Term, last, hs.Commit)
			fmt.Fprintln(out, "and the leader sends it what it missed.")
		}
		return nil
	}
	if err := dash.Live(ctx, demo.RoundGap, round, react); err != nil {
		return err
	}
	stopWatch()
	wg.Wait()
	return tr.Write(stdout)
}

// lockedWriter serializes the lines that the rounds and the watcher
// narrate at once.
type lockedWriter struct {
	mu sync.Mutex // protects w
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
