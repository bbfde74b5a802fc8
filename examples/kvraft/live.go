package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/distsys-kit/distsys/dashboard"
	"github.com/distsys-kit/distsys/examples/demo"
	"github.com/distsys-kit/distsys/kvraft"
	"github.com/distsys-kit/distsys/raft"
	"github.com/distsys-kit/distsys/transport"
	"github.com/distsys-kit/distsys/transport/netsim"
)

// The live demo's pace: raft slowed down so that the page shows its
// messages (elections after 300 to 600ms of silence, heartbeats every
// 60ms); a clerk gives one replica 1 s to answer (more than an election
// timeout, as kvraft.WithAttemptTimeout asks), and an operation 3 s
// before it gives up.
const (
	liveTick          = 30 * time.Millisecond
	liveElectionTick  = 10
	liveHeartbeatTick = 2
	liveAttempt       = time.Second
	liveOpTimeout     = 3 * time.Second
)

// runLive runs the service for a lecture, under the dashboard of -dashboard:
// every round each clerk appends a mark to the key "log" and puts the
// round's number in its own key, until Ctrl-C, while the instructor
// crashes replicas and cuts links on the page. Each round ends with a
// check, through a linearizable read, that "log" holds every
// acknowledged append once and nothing twice, and that each clerk's key
// holds its last put.
func runLive(ctx context.Context, c config, fs *flag.FlagSet, tr *demo.Tracer, stdout io.Writer) error {
	tr.RecordInMemory() // the clerks' rpc calls carry stamps: the page names them
	net := netsim.NewNetwork(c.seed, tr.NetsimOptions()...)
	defer net.Close()
	if err := net.SetDefaultFaults(transport.Faults{Delay: time.Millisecond, Jitter: time.Millisecond}); err != nil {
		return err
	}
	cl := &cluster{net: net, servers: map[uint64]*kvraft.Server{}, raft: map[uint64]string{}, kv: map[uint64]string{},
		hurt: map[uint64]bool{}, storage: map[uint64]*raft.MemoryStorage{},
		tick: liveTick, electionTick: liveElectionTick, heartbeatTick: liveHeartbeatTick}
	for id := uint64(1); id <= 3; id++ {
		cl.raft[id], cl.kv[id] = fmt.Sprintf("r%d", id), fmt.Sprintf("s%d", id)
		cl.storage[id] = raft.NewMemoryStorage()
	}
	defer func() {
		for _, s := range cl.servers {
			_ = s.Close()
		}
	}()
	for id := uint64(1); id <= 3; id++ {
		if err := startReplica(cl, id, c.seed, tr); err != nil {
			return err
		}
	}
	names := []string{"s1", "r1", "s2", "r2", "s3", "r3"}
	clerks := make([]*liveClerk, c.clients)
	for i := range clerks {
		clerks[i] = newLiveClerk(net, fmt.Sprintf("c%d", i+1), uint64(c.seed)<<8|uint64(i+1), tr)
		defer clerks[i].ck.Close()
		names = append(names, clerks[i].name)
	}
	checker := newLiveClerk(net, "checker", uint64(c.seed)<<8|255, tr)
	defer checker.ck.Close()
	dash, err := demo.StartDashboard(fs, net, stdout, dashboard.WithLabel(demo.RaftLabel),
		dashboard.WithTitle("kvraft: a replicated key-value store, live"), dashboard.WithNodes(append(names, "checker")...))
	if err != nil {
		return err
	}
	defer dash.Close()
	out := dash.Out()
	fmt.Fprintf(out, "Three replicas: s1 s2 s3 serve the clerks, r1 r2 r3 speak raft (one machine each: crash either to crash it).\n")
	fmt.Fprintf(out, "Each round every clerk appends its mark to \"log\" and puts the round in its own key; \"checker\" then reads\n")
	fmt.Fprintln(out, "them all and checks that no acknowledged append is lost or doubled. Crash the leader, or cut it off, and watch.")

	a := newAudit(clerks)
	var lastLeader uint64
	var lastSkipped uint64
	round := func(ctx context.Context, r int) error {
		fmt.Fprintf(out, "Round %d:\n", r)
		if id, term := liveLeader(cl); id != lastLeader && id != 0 {
			before := ""
			if lastLeader != 0 {
				before = fmt.Sprintf(" (replica %d led before: the others elected a new leader)", lastLeader)
			}
			fmt.Fprintf(out, "   Replica %d leads now, in term %d%s.\n", id, term, before)
			lastLeader = id
		}
		var wg sync.WaitGroup
		lines := make([]string, len(clerks))
		for i, lc := range clerks {
			if !dash.Up(lc.name) {
				lines[i] = fmt.Sprintf("   %s is down, and makes no calls.", lc.name)
				continue
			}
			wg.Go(func() { lines[i] = lc.round(ctx, r, a) }) // exits when its two operations are done or given up
		}
		wg.Wait()
		for _, line := range lines {
			fmt.Fprintln(out, line)
		}
		if id, _ := liveLeader(cl); id != 0 {
			if skipped := cl.servers[id].RSM().Stats().Duplicates; skipped > lastSkipped {
				fmt.Fprintf(out, "   The log holds %d retried writes that had applied already; the sessions skipped them (%d in all).\n", skipped-lastSkipped, skipped)
				lastSkipped = skipped
			}
		}
		fmt.Fprintln(out, a.check(ctx, checker))
		return nil
	}
	react := func(e netsim.Event) error {
		return reactLive(cl, e, c.seed, tr, out)
	}
	if err := dash.Live(ctx, demo.RoundGap, round, react); err != nil {
		return err
	}
	return tr.Write(stdout)
}

// startReplica starts replica id on its storage, with the live timing.
func startReplica(cl *cluster, id uint64, seed int64, tr *demo.Tracer) error {
	if _, err := cl.start(id, seed, tr); err != nil {
		delete(cl.servers, id)
		return err
	}
	return nil
}

// reactLive does what a crash or a restart on the page means for a
// replica, whose two nodes (sN for the clerks, rN for raft) are one
// machine: a crash of either stops the replica and takes the other down
// with it; a restart of either brings both back, and the replica starts
// again from its raft storage (kept, as on a disk), replaying its log to
// rebuild its key-value state and its clerks' sessions.
func reactLive(cl *cluster, e netsim.Event, seed int64, tr *demo.Tracer, out io.Writer) error {
	var id uint64
	for i := uint64(1); i <= 3; i++ {
		if e.Node == cl.raft[i] || e.Node == cl.kv[i] {
			id = i
		}
	}
	if id == 0 {
		return nil
	}
	crashed := func(node string) bool {
		i := slices.IndexFunc(cl.net.State().Nodes, func(n netsim.NodeState) bool { return n.Name == node })
		return i >= 0 && cl.net.State().Nodes[i].Crashed
	}
	s, running := cl.servers[id]
	switch e.Kind {
	case netsim.EventCrash:
		if running {
			_ = s.Close()
			delete(cl.servers, id)
			fmt.Fprintf(out, "Replica %d is down: its key-value state and sessions were in memory; its raft log is in its storage.\n", id)
		}
		for _, node := range []string{cl.raft[id], cl.kv[id]} {
			if !crashed(node) {
				cl.net.Crash(node)
			}
		}
	case netsim.EventRestart:
		for _, node := range []string{cl.raft[id], cl.kv[id]} {
			if crashed(node) {
				cl.net.Restart(node)
			}
		}
		if running {
			return nil
		}
		err := startReplica(cl, id, seed, tr)
		if errors.Is(err, netsim.ErrCrashed) {
			return nil // crashed again already: its restart will start it
		}
		if err != nil {
			return err
		}
		last, _ := cl.storage[id].LastIndex()
		fmt.Fprintf(out, "Replica %d starts again from its storage (%d log entries): it replays its log to rebuild its state and sessions.\n", id, last)
	}
	return nil
}

// liveLeader returns the running replica that says it leads the highest
// term, and the term, or 0.
func liveLeader(cl *cluster) (id, term uint64) {
	for i, s := range cl.servers {
		if st := s.RSM().Node().Status(); st.State == raft.Leader && st.Term > term {
			id, term = i, st.Term
		}
	}
	return id, term
}

// liveClerk is a clerk of the live demo, on its own node.
type liveClerk struct {
	name string
	ck   *kvraft.Clerk
}

func newLiveClerk(net *netsim.Network, name string, id uint64, tr *demo.Tracer) *liveClerk {
	ck := kvraft.NewClerk(net.Dialer(name), []string{"s1", "s2", "s3"}, kvraft.WithClientID(id),
		kvraft.WithAttemptTimeout(liveAttempt), kvraft.WithDialOptions(tr.ClientOptions(name, "kv")...))
	return &liveClerk{name: name, ck: ck}
}

// round makes the clerk's two writes of round r, records their outcomes
// in a, and returns the line that narrates them. A clerk whose append
// did not end in an answer does not put: the service is in trouble, and
// the round is long enough already.
func (lc *liveClerk) round(ctx context.Context, r int, a *audit) string {
	mark := fmt.Sprintf("%s.%d", lc.name, r)
	actx, cancel := context.WithTimeout(ctx, liveOpTimeout)
	_, aerr := lc.ck.Append(actx, "log", mark+" ")
	cancel()
	a.appended(mark, outcomeOf(aerr))
	line := fmt.Sprintf("   %s appends %s to log: %s", lc.name, mark, says(aerr))
	if aerr != nil {
		return line + "; it makes no put this round."
	}
	pctx, cancel := context.WithTimeout(ctx, liveOpTimeout)
	_, perr := lc.ck.Put(pctx, lc.name, fmt.Sprint(r))
	cancel()
	a.put(lc.name, fmt.Sprint(r), outcomeOf(perr))
	return line + fmt.Sprintf("; puts %s=%d: %s.", lc.name, r, says(perr))
}

// says narrates how a write ended.
func says(err error) string {
	switch outcomeOf(err) {
	case done:
		return "done"
	case maybe:
		return fmt.Sprintf("MAYBE APPLIED, no answer in %v (an attempt reached a replica; the clerk cannot tell)", liveOpTimeout)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Sprintf("not applied, no replica reached in %v", liveOpTimeout)
	}
	return "FAILED: " + strings.TrimPrefix(err.Error(), "kvraft: ")
}
