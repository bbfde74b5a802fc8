package raft_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/raft"
	"github.com/distsys-kit/distsys/transport/netsim"
)

const tick = 10 * time.Millisecond

// electionTimeout is the longest election timeout of the test nodes:
// 2 * ElectionTick ticks.
const electionTimeout = 2 * 10 * tick

// cluster is n Nodes on a simulated network, with a goroutine per node
// recording what it applies. Make it inside a synctest bubble.
type cluster struct {
	t       *testing.T
	net     *netsim.Network
	addrs   map[uint64]string
	storage map[uint64]raft.Storage
	nodes   map[uint64]*raft.Node
	readers map[uint64]*sync.WaitGroup
	conf    func(*raft.NodeConfig)

	mu      sync.Mutex // protects applied and gates
	applied map[uint64][]raft.ApplyMsg
	gates   map[uint64]chan struct{}
}

func newCluster(t *testing.T, n int, configure ...func(*raft.NodeConfig)) *cluster {
	t.Helper()
	c := &cluster{
		t:       t,
		net:     netsim.NewNetwork(1),
		addrs:   map[uint64]string{},
		storage: map[uint64]raft.Storage{},
		nodes:   map[uint64]*raft.Node{},
		readers: map[uint64]*sync.WaitGroup{},
		applied: map[uint64][]raft.ApplyMsg{},
		gates:   map[uint64]chan struct{}{},
		conf:    func(*raft.NodeConfig) {},
	}
	if len(configure) > 0 {
		c.conf = configure[0]
	}
	c.net.LogSeedOnFailure(t)
	t.Cleanup(func() {
		for id := range c.nodes {
			c.stop(id)
		}
		c.net.Close()
	})
	for id := uint64(1); id <= uint64(n); id++ {
		c.addrs[id] = fmt.Sprintf("n%d", id)
		c.storage[id] = raft.NewMemoryStorage()
	}
	for id := range c.addrs {
		c.start(id)
	}
	return c
}

// start starts node id on its storage: new, or restarting.
func (c *cluster) start(id uint64) *raft.Node {
	c.t.Helper()
	l, err := c.net.Listen(c.addrs[id])
	require.NoError(c.t, err)
	cfg := raft.NodeConfig{
		Config:       raft.Config{ID: id, Storage: c.storage[id], Seed: 1},
		Addrs:        c.addrs,
		Listener:     l,
		Dialer:       c.net.Dialer(c.addrs[id]),
		TickInterval: tick,
	}
	c.conf(&cfg)
	n, err := raft.NewNode(cfg)
	require.NoError(c.t, err)
	c.nodes[id] = n
	c.mu.Lock()
	c.applied[id] = nil
	c.mu.Unlock()
	wg := &sync.WaitGroup{}
	wg.Go(func() { // exits when Close closes Apply
		for m := range n.Apply() {
			c.mu.Lock()
			gate := c.gates[id]
			c.mu.Unlock()
			if gate != nil {
				<-gate // a slow application
			}
			c.mu.Lock()
			if !m.Snapshot.IsEmpty() {
				c.applied[id] = nil // a new state machine
			}
			c.applied[id] = append(c.applied[id], m)
			c.mu.Unlock()
		}
	})
	c.readers[id] = wg
	return n
}

// gate makes node id's application wait, before it applies each message,
// until gate is closed.
func (c *cluster) gate(id uint64, gate chan struct{}) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gates[id] = gate
}

// stop closes node id and waits for its reader.
func (c *cluster) stop(id uint64) {
	if n := c.nodes[id]; n != nil {
		_ = n.Close()
		c.readers[id].Wait()
		delete(c.nodes, id)
	}
}

// crash cuts node id's power: the network loses its messages, and the
// node stops. restart brings it back on its storage.
func (c *cluster) crash(id uint64) {
	c.net.Crash(c.addrs[id])
	c.stop(id)
}

func (c *cluster) restart(id uint64) *raft.Node {
	c.net.Restart(c.addrs[id])
	return c.start(id)
}

// waitLeader waits (in virtual time) until the running nodes agree on a
// leader, and returns it.
func (c *cluster) waitLeader() uint64 {
	c.t.Helper()
	for range 1000 {
		time.Sleep(tick)
		if l := c.agreedLeader(); l != raft.None {
			return l
		}
	}
	c.t.Fatal("no leader")
	return raft.None
}

func (c *cluster) agreedLeader() uint64 {
	var leader uint64
	for _, n := range c.nodes {
		s := n.Status()
		if s.Leader == raft.None || (leader != raft.None && s.Leader != leader) {
			return raft.None
		}
		leader = s.Leader
	}
	if c.nodes[leader] == nil || c.nodes[leader].Status().State != raft.Leader {
		return raft.None
	}
	return leader
}

// commit proposes cmd at the leader, retrying through leader changes, and
// waits until every running node has applied it.
func (c *cluster) commit(cmd string) uint64 {
	c.t.Helper()
	for range 100 {
		l := c.waitLeader()
		i, _, err := c.nodes[l].Propose(context.Background(), []byte(cmd))
		if err != nil {
			continue
		}
		if c.waitApplied(i, cmd) {
			return i
		}
	}
	c.t.Fatalf("%q never committed", cmd)
	return 0
}

// waitApplied waits until every running node applied cmd at index i, and
// reports false if one applied something else there.
func (c *cluster) waitApplied(i uint64, cmd string) bool {
	for range 1000 {
		time.Sleep(tick)
		done := true
		for id := range c.nodes {
			got, ok := c.appliedAt(id, i)
			if ok && got != cmd {
				return false
			}
			done = done && ok
		}
		if done {
			return true
		}
	}
	return false
}

func (c *cluster) appliedAt(id, i uint64) (string, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, m := range c.applied[id] {
		if m.Index == i && m.Snapshot.IsEmpty() {
			return string(m.Command), true
		}
	}
	return "", false
}

// commands returns what node id applied since its last snapshot.
func (c *cluster) commands(id uint64) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for _, m := range c.applied[id] {
		if m.Snapshot.IsEmpty() {
			out = append(out, string(m.Command))
		}
	}
	return out
}

func (c *cluster) ids() []uint64 {
	ids := make([]uint64, 0, len(c.nodes))
	for id := range c.nodes {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}
