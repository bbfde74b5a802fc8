package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"time"

	"github.com/distsys-kit/distsys/dashboard"
	"github.com/distsys-kit/distsys/examples/demo"
	"github.com/distsys-kit/distsys/lock"
	"github.com/distsys-kit/distsys/raft"
	"github.com/distsys-kit/distsys/transport"
	"github.com/distsys-kit/distsys/transport/netsim"
)

// The live demo's pace: raft slowed down so that the page shows its
// messages (elections after 300 to 600ms of silence, heartbeats every
// 60ms); a teller gives one replica 1 s to answer (more than an
// election), and a transfer 3 s. Leases are short, so that a lock held
// by a crashed teller passes on within a few rounds.
const (
	liveTick          = 30 * time.Millisecond
	liveElectionTick  = 10
	liveHeartbeatTick = 2
	liveCallTimeout   = time.Second
	liveTransfer      = 3 * time.Second
	liveTTL           = 3 * time.Second
	liveLockDelay     = time.Second
)

// maxLiveTellers bounds -tellers with -dashboard, so that the page stays
// readable.
const maxLiveTellers = 8

// live runs the bank for a lecture, under the dashboard of -dashboard:
// every round each teller that is up makes one transfer holding the
// bank's lock from the replicated lock service, until Ctrl-C, while the
// instructor crashes and cuts off replicas on the page. Each round says
// which replica leads, the newest fencing token, and the bank's total
// against the opening one.
func live(ctx context.Context, c config, fs *flag.FlagSet, tr *demo.Tracer, stdout io.Writer) error {
	tr.RecordInMemory() // the rpc calls carry stamps: the page names them
	net := netsim.NewNetwork(c.seed, tr.NetsimOptions()...)
	defer net.Close()
	if err := net.SetDefaultFaults(transport.Faults{Delay: time.Millisecond, Jitter: time.Millisecond}); err != nil {
		return err
	}
	cl := newCluster(net, c.seed, tr)
	cl.tick, cl.electionTick, cl.heartbeatTick = liveTick, liveElectionTick, liveHeartbeatTick
	cl.ttl, cl.lockDelay = liveTTL, liveLockDelay
	defer cl.close()
	for id := uint64(1); id <= 3; id++ {
		if err := cl.start(id); err != nil {
			return err
		}
	}
	tellers := make([]*lock.Mutex, c.tellers)
	tellerNames := make([]string, c.tellers)
	rs := make([]*rand.Rand, c.tellers)
	for i := range tellers {
		name := fmt.Sprintf("teller%d", i+1)
		client := lock.NewClient(cl.caller(name, tr), lock.WithName(name), lock.WithCallTimeout(liveCallTimeout))
		defer client.Close()
		tellers[i], rs[i] = client.Mutex("bank"), rand.New(rand.NewPCG(uint64(c.seed), uint64(i)))
		tellerNames[i] = name
	}
	dash, err := demo.StartDashboard(fs, net, stdout, dashboard.WithLabel(demo.RaftLabel),
		dashboard.WithTitle("bankraft: transfers under a replicated lock service"), dashboard.WithNodes(append([]string{"lock1", "raft1", "lock2", "raft2", "lock3", "raft3"}, tellerNames...)...))
	if err != nil {
		return err
	}
	defer dash.Close()
	out := dash.Out()

	var store lock.FencedStore
	balances := make([]int, c.accounts)
	for i := range balances {
		balances[i] = 100
	}
	_ = store.Put(1, ledgerKey, encode(balances)) // token 1: no holder has written yet
	opening := sum(balances)
	fmt.Fprintf(out, "Three lock replicas: lock1 lock2 lock3 serve the tellers, raft1 raft2 raft3 speak raft (one machine each).\n")
	fmt.Fprintf(out, "Each round every teller makes a transfer between %d accounts holding the bank's lock, its fencing token on the\n", c.accounts)
	fmt.Fprintln(out, "ledger's read and write. Crash the leader, or cut it off: only an election, and the tokens keep growing.")

	var done, failed int
	var newest, lastLeader uint64
	round := func(ctx context.Context, r int) error {
		fmt.Fprintf(out, "Round %d:\n", r)
		for i, m := range tellers {
			name := tellerNames[i]
			if !dash.Up(name) {
				fmt.Fprintf(out, "   %s is down, and makes no transfer.\n", name)
				continue
			}
			token, err := liveTransferOnce(ctx, m, &store, rs[i], c.accounts)
			if err != nil {
				failed++
				fmt.Fprintf(out, "   %s: FAILED: %v.\n", name, err)
				continue
			}
			done++
			newest = max(newest, token)
			fmt.Fprintf(out, "   %s: done, with token %d.\n", name, token)
		}
		if id, term := liveLeader(cl); id != 0 && id != lastLeader {
			before := ""
			if lastLeader != 0 {
				before = fmt.Sprintf(" (replica %d led before: only an election; every lease is in the log, tokens keep growing)", lastLeader)
			}
			fmt.Fprintf(out, "   Replica %d leads now, in term %d%s.\n", id, term, before)
			lastLeader = id
		}
		v, _ := store.Get(ledgerKey)
		total := sum(decode(v))
		fmt.Fprintf(out, "   Transfers so far: %d done, %d failed; newest token %d. The bank's total: %d of %d, %s.\n",
			done, failed, newest, total, opening, conserved(total == opening))
		return nil
	}
	react := func(e netsim.Event) error { return reactLive(cl, e, out) }
	if err := dash.Live(ctx, demo.RoundGap, round, react); err != nil {
		return err
	}
	return tr.Write(stdout)
}

// liveTransferOnce takes the lock, moves money under its token, and
// unlocks, all within liveTransfer; it returns the token.
func liveTransferOnce(ctx context.Context, m *lock.Mutex, store *lock.FencedStore, r *rand.Rand, accounts int) (uint64, error) {
	ctx, cancel := context.WithTimeout(ctx, liveTransfer)
	defer cancel()
	l, err := m.Lock(ctx)
	if err != nil {
		return 0, fmt.Errorf("lock: %w", err)
	}
	moved := transfer(store, l.Token(), r, accounts)
	if err := m.Unlock(ctx); err != nil && moved {
		// The money moved under a valid token; only the release was lost,
		// and the lease runs out.
		return l.Token(), nil
	}
	if !moved {
		return 0, fmt.Errorf("the ledger refused token %d", l.Token())
	}
	return l.Token(), nil
}

func conserved(ok bool) string {
	if ok {
		return "conserved"
	}
	return "NOT CONSERVED"
}

// reactLive does what a crash or a restart on the page means for a
// replica, whose two nodes (lockN for the tellers, raftN for raft) are
// one machine: a crash of either stops the replica and takes the other
// down with it; a restart of either brings both back, and the replica
// starts again from its raft storage (kept, as on a disk), replaying its
// log to rebuild its lock table.
func reactLive(cl *cluster, e netsim.Event, out io.Writer) error {
	var id uint64
	for i := uint64(1); i <= 3; i++ {
		if e.Node == cl.raft[i] || e.Node == cl.lock[i] {
			id = i
		}
	}
	if id == 0 {
		return nil
	}
	crashed := func(node string) bool {
		nodes := cl.net.State().Nodes
		i := slices.IndexFunc(nodes, func(n netsim.NodeState) bool { return n.Name == node })
		return i >= 0 && nodes[i].Crashed
	}
	s, running := cl.servers[id]
	switch e.Kind {
	case netsim.EventCrash:
		if running {
			_ = s.Close()
			delete(cl.servers, id)
			fmt.Fprintf(out, "Replica %d is down: its lock table was in memory; its raft log is in its storage.\n", id)
		}
		for _, node := range []string{cl.raft[id], cl.lock[id]} {
			if !crashed(node) {
				cl.net.Crash(node)
			}
		}
	case netsim.EventRestart:
		for _, node := range []string{cl.raft[id], cl.lock[id]} {
			if crashed(node) {
				cl.net.Restart(node)
			}
		}
		if running {
			return nil
		}
		err := cl.start(id)
		if errors.Is(err, netsim.ErrCrashed) {
			return nil // crashed again already: its restart will start it
		}
		if err != nil {
			return err
		}
		last, _ := cl.storage[id].LastIndex()
		fmt.Fprintf(out, "Replica %d starts again from its storage (%d log entries): it replays its log to rebuild its lock table.\n", id, last)
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
