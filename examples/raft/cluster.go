package main

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/distsys-kit/distsys/examples/demo"
	"github.com/distsys-kit/distsys/raft"
	"github.com/distsys-kit/distsys/trace"
	"github.com/distsys-kit/distsys/transport"
	"github.com/distsys-kit/distsys/transport/netsim"
)

// cluster is n raft.Nodes on one simulated network, and what each has
// applied.
type cluster struct {
	net     *netsim.Network
	nodes   map[uint64]*raft.Node
	storage map[uint64]*raft.MemoryStorage
	wg      sync.WaitGroup // the appliers

	mu      sync.Mutex                   // protects applied
	applied map[uint64]map[uint64]string // server -> index -> command
}

// linkDelay is every message's delay, enough to see in the diagram;
// bootGap is the time between two servers' starts; awaitPhase is how long
// the demo waits before it first looks at the cluster. Their odd values
// keep any two events of a run (a tick, a delivery, the demo's own steps)
// from falling on the same instant, where which comes first would be up
// to the Go scheduler: so the same seed tells the same story, in virtual
// time (the tests) and almost always in real time.
const (
	linkDelay  = 1700 * time.Microsecond
	bootGap    = 3100 * time.Microsecond
	awaitPhase = 370 * time.Microsecond
)

// name is server id's name on the network and in the narration.
func name(id uint64) string { return fmt.Sprintf("n%d", id) }

func newCluster(n int, seed int64, tr *demo.Tracer) (*cluster, error) {
	c := &cluster{
		net:     netsim.NewNetwork(seed, tr.NetsimOptions()...),
		nodes:   make(map[uint64]*raft.Node),
		storage: make(map[uint64]*raft.MemoryStorage),
		applied: make(map[uint64]map[uint64]string),
	}
	if err := c.net.SetDefaultFaults(transport.Faults{Delay: linkDelay}); err != nil {
		return nil, err
	}
	addrs := make(map[uint64]string)
	for id := uint64(1); id <= uint64(n); id++ {
		addrs[id] = name(id)
	}
	for id := range uint64(n) {
		id++
		if id > 1 {
			// Servers boot a few milliseconds apart, as machines do,
			// so no two time out at the same instant: the same seed
			// elects the same leader.
			time.Sleep(bootGap)
		}
		l, err := c.net.Listen(name(id))
		if err != nil {
			c.close()
			return nil, err
		}
		var d transport.Dialer = c.net.Dialer(name(id))
		if rec := tr.Recorder(); rec != nil {
			d = labelDialer{rec.Node(name(id)).WrapDialer(d)}
		}
		c.storage[id] = raft.NewMemoryStorage()
		node, err := raft.NewNode(raft.NodeConfig{
			Config: raft.Config{ID: id, Storage: c.storage[id], Seed: seed, PreVote: true, CheckQuorum: true},
			Addrs:  addrs, Listener: tr.WrapListener(name(id), l), Dialer: d,
		})
		if err != nil {
			c.close()
			return nil, err
		}
		c.nodes[id] = node
		c.applied[id] = make(map[uint64]string)
		c.wg.Go(func() { // exits when Close closes node's Apply
			for m := range node.Apply() {
				c.mu.Lock()
				c.applied[id][m.Index] = string(m.Command)
				c.mu.Unlock()
			}
		})
	}
	return c, nil
}

func (c *cluster) ids() []uint64 { return slices.Sorted(maps.Keys(c.nodes)) }

// close stops every node and the network.
func (c *cluster) close() {
	for _, n := range c.nodes {
		_ = n.Close()
	}
	c.wg.Wait()
	_ = c.net.Close()
}

// leaderOf returns the server that those in ids agree leads them, and
// its term, or 0 if they do not agree on one.
func (c *cluster) leaderOf(ids []uint64) (leader, term uint64) {
	for _, id := range ids {
		st := c.nodes[id].Status()
		if st.Leader == raft.None || (leader != 0 && (st.Leader != leader || st.Term != term)) {
			return 0, 0
		}
		leader, term = st.Leader, st.Term
	}
	if !slices.Contains(ids, leader) || c.nodes[leader].Status().State != raft.Leader {
		return 0, 0
	}
	return leader, term
}

// hasApplied reports whether every server of ids has applied index.
func (c *cluster) hasApplied(ids []uint64, index uint64) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, id := range ids {
		if _, ok := c.applied[id][index]; !ok {
			return false
		}
	}
	return true
}

// lastApplied returns the highest index server id has applied.
func (c *cluster) lastApplied(id uint64) uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Max(append(slices.Collect(maps.Keys(c.applied[id])), 0))
}

// countApplied returns how many servers of ids applied one of cmds.
func (c *cluster) countApplied(ids []uint64, cmds ...string) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for _, id := range ids {
		for _, cmd := range c.applied[id] {
			if slices.Contains(cmds, cmd) {
				n++
				break
			}
		}
	}
	return n
}

// commands returns the commands server id applied, in log order.
func (c *cluster) commands(id uint64) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var cmds []string
	for _, i := range slices.Sorted(maps.Keys(c.applied[id])) {
		cmds = append(cmds, c.applied[id][i])
	}
	return cmds
}

// terms returns the terms of the entries server id holds at indexes lo
// to hi.
func (c *cluster) terms(id, lo, hi uint64) []uint64 {
	ents, err := c.storage[id].Entries(lo, hi+1, 1<<30)
	if err != nil {
		return nil
	}
	terms := make([]uint64, len(ents))
	for i, e := range ents {
		terms[i] = e.Term
	}
	return terms
}

// errTimeout is what await returns when the cluster does not get there.
var errTimeout = errors.New("the cluster did not get there within 10 seconds")

// await polls cond every tick until it holds.
func await(ctx context.Context, cond func() bool) error {
	time.Sleep(awaitPhase)
	tk := time.NewTicker(raft.DefaultTickInterval)
	defer tk.Stop()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			return errTimeout
		}
		select {
		case <-tk.C:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

// labelDialer names each message after its raft type in the diagram.
type labelDialer struct{ transport.Dialer }

func (d labelDialer) Dial(ctx context.Context, addr string) (transport.Conn, error) {
	conn, err := d.Dialer.Dial(ctx, addr)
	if err != nil {
		return nil, err
	}
	return labelConn{conn}, nil
}

type labelConn struct{ transport.Conn }

func (c labelConn) Send(ctx context.Context, msg []byte) error {
	if m, err := raft.DecodeMessage(msg); err == nil {
		ctx = trace.ContextWithLabel(ctx, m.Type.String())
	}
	return c.Conn.Send(ctx, msg)
}
