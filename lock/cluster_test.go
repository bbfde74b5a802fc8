package lock_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/internal/vfs"
	"github.com/distsys-kit/distsys/lock"
	"github.com/distsys-kit/distsys/raft"
	"github.com/distsys-kit/distsys/raft/wal"
	"github.com/distsys-kit/distsys/transport/netsim"
)

// cluster is a replicated lock service of n RaftServers on a simulated
// network, each keeping its raft log in a wal on its own in-memory disk,
// which a crash may cut short. Replica i is two netsim nodes: "lock<i>"
// serves clients, "raft<i>" speaks raft; they crash and partition
// together. Make it inside a synctest bubble; the test's cleanup closes
// it.
type cluster struct {
	tb   testing.TB
	seed int64
	net  *netsim.Network
	cfg  lock.RaftConfig // TTL, LockDelay, MaxRaftState

	raftAddrs, lockAddrs map[uint64]string
	disks                map[uint64]*vfs.Mem
	wals                 map[uint64]*wal.Storage
	servers              map[uint64]*lock.RaftServer
	clocks               []lock.Clock // replica i+1's clock, if given
	clients              int
}

// newCluster starts a cluster of n replicas; clocks, if given, are the
// replicas' clocks, in order.
func newCluster(tb testing.TB, seed int64, n int, cfg lock.RaftConfig, clocks ...lock.Clock) *cluster {
	tb.Helper()
	c := &cluster{
		tb: tb, seed: seed, net: netsim.NewNetwork(seed), cfg: cfg,
		raftAddrs: map[uint64]string{}, lockAddrs: map[uint64]string{},
		disks: map[uint64]*vfs.Mem{}, wals: map[uint64]*wal.Storage{}, servers: map[uint64]*lock.RaftServer{},
		clocks: clocks,
	}
	c.net.LogSeedOnFailure(tb)
	for id := uint64(1); id <= uint64(n); id++ {
		c.raftAddrs[id], c.lockAddrs[id] = fmt.Sprintf("raft%d", id), fmt.Sprintf("lock%d", id)
		c.disks[id] = vfs.NewMem()
	}
	tb.Cleanup(func() {
		for id := range c.servers {
			c.stop(id)
		}
		_ = c.net.Close()
	})
	for id := range c.raftAddrs {
		c.start(id)
	}
	return c
}

// start starts replica id on what its disk kept.
func (c *cluster) start(id uint64) {
	c.tb.Helper()
	st, err := wal.Open("/raft", wal.WithFS(c.disks[id]), wal.WithSegmentSize(32<<10)) // small segments: the simulated disk copies a segment per sync
	require.NoError(c.tb, err)
	c.wals[id] = st
	rl, err := c.net.Listen(c.raftAddrs[id])
	require.NoError(c.tb, err)
	ll, err := c.net.Listen(c.lockAddrs[id])
	require.NoError(c.tb, err)
	cfg := c.cfg
	cfg.Raft = raft.NodeConfig{
		Config: raft.Config{ID: id, Storage: st, Seed: c.seed, PreVote: true, CheckQuorum: true,
			HeartbeatTick: 5}, // heartbeats every 50ms: fewer events to simulate, elections as quick
		Addrs:    c.raftAddrs,
		Listener: rl,
		Dialer:   c.net.Dialer(c.raftAddrs[id]),
	}
	cfg.Listener, cfg.ClientAddrs = ll, c.lockAddrs
	if int(id) <= len(c.clocks) {
		cfg.Clock = c.clocks[id-1]
	}
	s, err := lock.NewRaftServer(cfg)
	require.NoError(c.tb, err)
	c.servers[id] = s
}

// stop closes replica id; its disk keeps what it synced.
func (c *cluster) stop(id uint64) {
	if s := c.servers[id]; s != nil {
		require.NoError(c.tb, s.Close())
		delete(c.servers, id)
		_ = c.wals[id].Close()
		delete(c.wals, id)
	}
}

// crash cuts replica id's power: the network forgets it, its process
// stops, and its disk loses what was not synced.
func (c *cluster) crash(id uint64) {
	c.net.Crash(c.raftAddrs[id])
	c.net.Crash(c.lockAddrs[id])
	c.stop(id)
	c.disks[id].Crash()
}

// restart brings a crashed replica back.
func (c *cluster) restart(id uint64) {
	c.net.Restart(c.raftAddrs[id])
	c.net.Restart(c.lockAddrs[id])
	c.start(id)
}

// leader returns the ID of a running replica that believes it leads in
// the highest term, waiting (in virtual time) for an election if none
// does.
func (c *cluster) leader() uint64 {
	c.tb.Helper()
	for range 100 {
		var best, term uint64
		for id, s := range c.servers {
			if st := s.RSM().Node().Status(); st.State == raft.Leader && st.Term > term {
				best, term = id, st.Term
			}
		}
		if best != 0 {
			return best
		}
		time.Sleep(50 * time.Millisecond)
	}
	c.tb.Fatal("no leader elected")
	return 0
}

// caller returns a ClusterCaller for a new client of the cluster, closed
// at cleanup.
func (c *cluster) caller() *lock.ClusterCaller {
	c.clients++
	addrs := make([]string, 0, len(c.lockAddrs))
	for id := uint64(1); id <= uint64(len(c.lockAddrs)); id++ {
		addrs = append(addrs, c.lockAddrs[id])
	}
	cc := lock.NewClusterCaller(c.net.Dialer(fmt.Sprintf("client%d", c.clients)), addrs)
	c.tb.Cleanup(func() { _ = cc.Close() })
	return cc
}
