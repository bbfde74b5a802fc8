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
// applied. A server can be stopped and started again (the live demo's
// crash and restart): its raft.MemoryStorage outlives it, as a disk
// would, and what it applied, which a state machine keeps in memory, does
// not.
type cluster struct {
	net     *netsim.Network
	tr      *demo.Tracer
	t       timing
	seed    int64
	addrs   map[uint64]string
	storage map[uint64]*raft.MemoryStorage // kept across crashes

	mu       sync.Mutex                   // protects nodes, appliers, applied
	nodes    map[uint64]*raft.Node        // the servers running
	appliers map[uint64]chan struct{}     // closed when a server's applier has exited
	applied  map[uint64]map[uint64]string // server -> index -> command
}

// timing is how fast the servers and the network run: the batch demo
// runs at raft's own pace; the live demo slows raft down so that a class
// can follow an election on the page.
type timing struct {
	tick          time.Duration // raft.NodeConfig.TickInterval; 0 is raft's default
	electionTick  int           // raft.Config.ElectionTick; 0 is raft's default
	heartbeatTick int           // raft.Config.HeartbeatTick; 0 is raft's default
	delay         time.Duration // every message's delay
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

func newCluster(n int, seed int64, tr *demo.Tracer, t timing) (*cluster, error) {
	c := &cluster{
		net:      netsim.NewNetwork(seed, tr.NetsimOptions()...),
		tr:       tr,
		t:        t,
		seed:     seed,
		addrs:    make(map[uint64]string),
		storage:  make(map[uint64]*raft.MemoryStorage),
		nodes:    make(map[uint64]*raft.Node),
		appliers: make(map[uint64]chan struct{}),
		applied:  make(map[uint64]map[uint64]string),
	}
	if err := c.net.SetDefaultFaults(transport.Faults{Delay: t.delay}); err != nil {
		return nil, err
	}
	for id := uint64(1); id <= uint64(n); id++ {
		c.addrs[id] = name(id)
		c.storage[id] = raft.NewMemoryStorage()
	}
	for id := range uint64(n) {
		id++
		if id > 1 {
			// Servers boot a few milliseconds apart, as machines do,
			// so no two time out at the same instant: the same seed
			// elects the same leader.
			time.Sleep(bootGap)
		}
		if err := c.start(id); err != nil {
			c.close()
			return nil, err
		}
	}
	return c, nil
}

// start starts server id on its storage: empty at first, what it saved
// before on a restart. It stops the server first if it runs.
func (c *cluster) start(id uint64) error {
	c.stop(id)
	l, err := c.net.Listen(name(id))
	if err != nil {
		return err
	}
	var d transport.Dialer = c.net.Dialer(name(id))
	if rec := c.tr.Recorder(); rec != nil {
		d = labelDialer{rec.Node(name(id)).WrapDialer(d)}
	}
	node, err := raft.NewNode(raft.NodeConfig{
		Config: raft.Config{ID: id, Storage: c.storage[id], Seed: c.seed, PreVote: true, CheckQuorum: true,
			ElectionTick: c.t.electionTick, HeartbeatTick: c.t.heartbeatTick},
		Addrs: c.addrs, Listener: c.tr.WrapListener(name(id), l), Dialer: d, TickInterval: c.t.tick,
	})
	if err != nil {
		return err // NewNode has closed l
	}
	done := make(chan struct{})
	c.mu.Lock()
	c.nodes[id], c.appliers[id], c.applied[id] = node, done, make(map[uint64]string)
	c.mu.Unlock()
	go func() { // exits when Close closes node's Apply
		defer close(done)
		for m := range node.Apply() {
			c.mu.Lock()
			c.applied[id][m.Index] = string(m.Command)
			c.mu.Unlock()
		}
	}()
	return nil
}

// stop stops server id, if it runs, and forgets what it applied.
func (c *cluster) stop(id uint64) {
	c.mu.Lock()
	node, done := c.nodes[id], c.appliers[id]
	delete(c.nodes, id)
	delete(c.appliers, id)
	c.mu.Unlock()
	if node == nil {
		return
	}
	_ = node.Close() // not under c.mu: the applier needs it to drain Apply
	<-done
	c.mu.Lock()
	delete(c.applied, id)
	c.mu.Unlock()
}

// node returns server id, or nil if it is stopped.
func (c *cluster) node(id uint64) *raft.Node {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.nodes[id]
}

// ids returns every server's ID, running or not.
func (c *cluster) ids() []uint64 { return slices.Sorted(maps.Keys(c.addrs)) }

// close stops every node and the network.
func (c *cluster) close() {
	for _, id := range c.ids() {
		c.stop(id)
	}
	_ = c.net.Close()
}

// leaderOf returns the server that those in ids agree leads them, and
// its term, or 0 if they do not agree on one.
func (c *cluster) leaderOf(ids []uint64) (leader, term uint64) {
	for _, id := range ids {
		st := c.node(id).Status()
		if st.Leader == raft.None || (leader != 0 && (st.Leader != leader || st.Term != term)) {
			return 0, 0
		}
		leader, term = st.Leader, st.Term
	}
	if !slices.Contains(ids, leader) || c.node(leader).Status().State != raft.Leader {
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
