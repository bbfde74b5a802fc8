package kvraft_test

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/internal/vfs"
	"github.com/distsys-kit/distsys/kvraft"
	lin "github.com/distsys-kit/distsys/linearizability"
	"github.com/distsys-kit/distsys/raft"
	"github.com/distsys-kit/distsys/raft/wal"
	"github.com/distsys-kit/distsys/rpc"
	"github.com/distsys-kit/distsys/trace"
	"github.com/distsys-kit/distsys/trace/tracerpc"
	"github.com/distsys-kit/distsys/trace/tracesim"
	"github.com/distsys-kit/distsys/transport/netsim"
)

// world is a cluster of kvraft servers and their clerks on a simulated
// network, with a history recorder and a trace, for one seed. Each
// replica is two netsim nodes: "s1" serves clerks, "r1" speaks raft;
// they crash and partition together. Make it inside a synctest bubble.
type world struct {
	t       *testing.T
	seed    int64
	net     *netsim.Network
	rng     *rand.Rand
	rec     *lin.Recorder
	tr      *trace.Recorder
	n       int
	persist bool // raft state on a wal over a crashable in-memory disk
	conf    kvraft.Config

	raftAddrs, kvAddrs map[uint64]string
	mem                map[uint64]*raft.MemoryStorage
	disks              map[uint64]*vfs.Mem
	wals               map[uint64]*wal.Storage
	servers            map[uint64]*kvraft.Server
	hooks              []func(*kvraft.Server)
	clerks             int
}

func newWorld(t *testing.T, seed int64, n int, persist bool, conf kvraft.Config) *world {
	t.Helper()
	w := &world{
		t: t, seed: seed, rng: rand.New(rand.NewPCG(uint64(seed), 0)), rec: lin.NewRecorder(),
		tr: trace.NewRecorder(trace.WithTitle(t.Name()), trace.WithMaxEvents(20000)), n: n, persist: persist, conf: conf,
		raftAddrs: map[uint64]string{}, kvAddrs: map[uint64]string{},
		mem: map[uint64]*raft.MemoryStorage{}, disks: map[uint64]*vfs.Mem{}, wals: map[uint64]*wal.Storage{},
		servers: map[uint64]*kvraft.Server{},
	}
	w.net = netsim.NewNetwork(seed, netsim.WithObserver(tracesim.Observer(w.tr)))
	w.net.LogSeedOnFailure(t)
	w.tr.WriteOnFailure(t, seed)
	for id := uint64(1); id <= uint64(n); id++ {
		w.raftAddrs[id], w.kvAddrs[id] = fmt.Sprintf("r%d", id), fmt.Sprintf("s%d", id)
		w.mem[id], w.disks[id] = raft.NewMemoryStorage(), vfs.NewMem()
	}
	t.Cleanup(func() {
		for id := range w.servers {
			w.stop(id)
		}
		for _, s := range w.wals {
			_ = s.Close()
		}
		w.net.Close()
	})
	for id := range w.raftAddrs {
		w.start(id)
	}
	return w
}

func (w *world) storage(id uint64) raft.Storage {
	if !w.persist {
		return w.mem[id]
	}
	s, err := wal.Open("/raft", wal.WithFS(w.disks[id]))
	require.NoError(w.t, err)
	w.wals[id] = s
	return s
}

// start starts server id on what its storage kept.
func (w *world) start(id uint64) {
	w.t.Helper()
	rl, err := w.net.Listen(w.raftAddrs[id])
	require.NoError(w.t, err)
	kl, err := w.net.Listen(w.kvAddrs[id])
	require.NoError(w.t, err)
	cfg := w.conf
	cfg.Raft = raft.NodeConfig{
		Config:   raft.Config{ID: id, Storage: w.storage(id), Seed: w.seed, PreVote: true, CheckQuorum: true},
		Addrs:    w.raftAddrs,
		Listener: rl,
		Dialer:   w.net.Dialer(w.raftAddrs[id]),
	}
	cfg.Listener, cfg.ClientAddrs = kl, w.kvAddrs
	cfg.RPCOptions = []rpc.ServerOption{rpc.WithServerInterceptor(tracerpc.ServerInterceptor(w.tr.Node(w.kvAddrs[id])))}
	s, err := kvraft.NewServer(cfg)
	require.NoError(w.t, err)
	for _, h := range w.hooks {
		h(s)
	}
	w.servers[id] = s
}

// stop closes server id (its storage stays).
func (w *world) stop(id uint64) {
	if s := w.servers[id]; s != nil {
		require.NoError(w.t, s.Close())
		delete(w.servers, id)
	}
}

// crash cuts server id's power: the network forgets it, its process
// stops, and its disk loses what was not synced.
func (w *world) crash(id uint64) {
	w.net.Crash(w.raftAddrs[id])
	w.net.Crash(w.kvAddrs[id])
	w.stop(id)
	if w.persist {
		w.disks[id].Crash()
		_ = w.wals[id].Close()
		delete(w.wals, id)
	} else {
		w.mem[id] = raft.NewMemoryStorage() // without persistence, a crash forgets all
	}
}

// restart brings a crashed server back.
func (w *world) restart(id uint64) {
	w.net.Restart(w.raftAddrs[id])
	w.net.Restart(w.kvAddrs[id])
	w.start(id)
}

// clerk returns a recorded clerk, a client of its own on the network.
func (w *world) clerk() *lin.Client {
	w.clerks++
	name := fmt.Sprintf("c%d", w.clerks)
	servers := make([]string, 0, w.n)
	for id := uint64(1); id <= uint64(w.n); id++ {
		servers = append(servers, w.kvAddrs[id])
	}
	ck := kvraft.NewClerk(w.net.Dialer(name), servers,
		kvraft.WithClientID(w.rng.Uint64()|1),
		kvraft.WithAttemptTimeout(200*time.Millisecond),
		kvraft.WithDialOptions(rpc.WithClientInterceptor(tracerpc.ClientInterceptor(w.tr.Node(name), "kv"))))
	w.t.Cleanup(func() { _ = ck.Close() })
	return w.rec.Client(ck)
}

// partition cuts the servers' raft traffic in two random groups, as
// MIT's tests do: the clerks still reach every server (their nodes, and
// the servers' clerk nodes, are in no group, so together), but the
// servers of one group cannot hear the other's. It returns the groups.
func (w *world) partition() (a, b []uint64) {
	ids := make([]uint64, 0, w.n)
	for id := uint64(1); id <= uint64(w.n); id++ {
		ids = append(ids, id)
	}
	w.rng.Shuffle(len(ids), func(i, j int) { ids[i], ids[j] = ids[j], ids[i] })
	cut := w.rng.IntN(w.n)
	a, b = slices.Clone(ids[:cut]), slices.Clone(ids[cut:])
	w.net.Partition(w.raftNodes(a), w.raftNodes(b))
	return a, b
}

func (w *world) raftNodes(ids []uint64) []string {
	var names []string
	for _, id := range ids {
		names = append(names, w.raftAddrs[id])
	}
	return names
}

// logBytes is the size of server id's raft log, as its storage holds it.
func (w *world) logBytes(id uint64) int {
	var s raft.Storage = w.mem[id]
	if w.persist {
		s = w.wals[id]
	}
	first, err := s.FirstIndex()
	require.NoError(w.t, err)
	last, err := s.LastIndex()
	require.NoError(w.t, err)
	if last < first {
		return 0
	}
	ents, err := s.Entries(first, last+1, 1<<62)
	require.NoError(w.t, err)
	n := 0
	for _, e := range ents {
		n += len(e.Data) + 24
	}
	return n
}
