package netsim

import (
	"sync"
	"sync/atomic"
	"time"

	"github.com/distsys-kit/distsys/transport"
)

// Network is a simulated network of named nodes. Make one per test with
// NewNetwork; networks share nothing, so tests with different faults run
// in parallel. See the package documentation for what it promises.
//
// A Network is safe for concurrent use by multiple goroutines. Close it
// when done: Close closes every conn, listener and packet conn on it and
// stops its goroutine.
type Network struct {
	seed int64
	opts options

	// obsMu serializes calls of the observers (see flush). It is taken
	// before mu, never while mu is held.
	obsMu sync.Mutex
	// watched is true while observers is not empty: flush reads it
	// without a lock, to cost nothing on a network nobody observes.
	watched atomic.Bool

	// mu protects the fields below and the mutable state of every node,
	// link, conn, listener and packet conn of the network. One lock for
	// everything keeps the simulation easy to reason about: a message's
	// fate is decided in one critical section, and there is no lock order
	// to get wrong. (The cost is contention between unrelated conns, which
	// the benchmarks show is small next to the work of a real transport.)
	mu        sync.Mutex
	closed    bool
	nodes     map[string]*node
	links     map[linkKey]*link
	defaults  transport.Faults // faults of links without their own
	groups    map[string]int   // the partition: each named node's group, from 1; nil if none
	nextID    uint64           // the last conn or packet conn ID given out
	changed   chan struct{}    // closed, and replaced, whenever reachability changes
	events    []Event          // events not yet handed to the observers
	observers []*observer      // replaced, never changed in place: flush reads a copy
	holding   bool             // copies reaching the end of their link wait in held
	held      fifo[item]       // copies waiting for Release, in the order they arrived
	linkCuts  map[linkKey]bool // links cut one way by CutLink
	inFlight  itemHeap         // copies of messages on their way, by arrival time
	order     uint64           // counts items pushed on inFlight, to break ties
	running   bool             // the delivery goroutine runs

	wake chan struct{}  // size 1: an item now first in inFlight was pushed
	done chan struct{}  // closed by Close
	wg   sync.WaitGroup // the delivery goroutine
}

// node is what the network knows of one node. Nodes come into being when
// first named, and are never forgotten.
type node struct {
	name         string
	crashed      bool
	disconnected bool
	incarnation  uint64 // bumped by Crash: conns and messages of an older one are dead
	listener     *listener
	packet       *packetConn
	conns        map[*conn]struct{} // open conn ends on this node
	cut          cutClock           // cut off from at least one other node
}

// NewNetwork returns an empty network whose every random decision comes
// from seed. Nodes need no declaring: a node exists once it is named, by
// Listen, Dial, SetFaults, Partition or any other call.
//
// Create the network inside the testing/synctest bubble that uses it, if
// any: its timers and channels must belong to the bubble for virtual time
// to work.
func NewNetwork(seed int64, opts ...Option) *Network {
	n := &Network{
		seed:     seed,
		opts:     newOptions(opts),
		nodes:    make(map[string]*node),
		links:    make(map[linkKey]*link),
		linkCuts: make(map[linkKey]bool),
		changed:  make(chan struct{}),
		wake:     make(chan struct{}, 1),
		done:     make(chan struct{}),
	}
	for _, f := range n.opts.observers {
		n.observers = append(n.observers, &observer{f: f})
	}
	n.watched.Store(len(n.observers) > 0)
	return n
}

// Seed returns the seed the network was made with.
func (n *Network) Seed() int64 { return n.seed }

// TB is the part of testing.TB that LogSeedOnFailure uses. *testing.T and
// *testing.B satisfy it; it is an interface of its own, as goleak's
// TestingT is, so that programs using netsim do not link the testing
// package.
type TB interface {
	Helper()
	Failed() bool
	Cleanup(func())
	Logf(format string, args ...any)
}

// LogSeedOnFailure arranges for tb to log the network's seed when the test
// ends, if it failed, so that the failing fault schedule can be replayed:
// NewNetwork with the same seed, given the same sequence of sends,
// decides the same faults. Call it once, right after NewNetwork.
func (n *Network) LogSeedOnFailure(tb TB) {
	tb.Helper()
	tb.Cleanup(func() {
		if tb.Failed() {
			tb.Logf("netsim: the network's seed was %d; NewNetwork(%d, ...) replays its faults", n.seed, n.seed)
		}
	})
}

// Close shuts the network down: it closes every conn, listener and packet
// conn on it (their calls return an error matching ErrNetworkClosed),
// drops the messages in flight or held (reason ReasonClosed), ends waiting
// Dials, and waits for the network's goroutine to exit. Later calls on the network return
// ErrNetworkClosed. Close is idempotent: calls after the first return nil.
func (n *Network) Close() error {
	n.mu.Lock()
	if n.closed {
		n.mu.Unlock()
		return nil
	}
	n.closed = true
	close(n.done)
	close(n.changed) // wakes waiting Dials, which see closed
	for _, nd := range n.nodes {
		for c := range nd.conns {
			n.closeEnd(c, ErrNetworkClosed)
		}
		if nd.listener != nil {
			n.closeListener(nd.listener, ErrNetworkClosed, false)
		}
		if nd.packet != nil {
			n.closePacket(nd.packet, ErrNetworkClosed)
		}
	}
	now := time.Now()
	for _, it := range n.inFlight {
		if it.kind == kindMessage || it.kind == kindDatagram {
			n.drop(&it, it.msg, ReasonClosed, now)
		}
	}
	n.inFlight = nil
	n.holding = false
	for _, it := range n.held.drain() {
		if it.kind == kindMessage || it.kind == kindDatagram {
			n.drop(&it, it.msg, ReasonClosed, now)
		}
	}
	n.mu.Unlock()
	n.wg.Wait()
	n.flush()
	return nil
}

// node returns the node called name, creating it if needed. The caller
// holds n.mu.
func (n *Network) node(name string) *node {
	nd, ok := n.nodes[name]
	if ok {
		return nd
	}
	nd = &node{name: name, conns: make(map[*conn]struct{})}
	n.nodes[name] = nd
	if n.cutting() {
		n.updateCuts(time.Now()) // the new node may be cut off already
	}
	return nd
}

// nextConnID returns a fresh ID for a conn end or packet conn. The caller
// holds n.mu.
func (n *Network) nextConnID() uint64 {
	n.nextID++
	return n.nextID
}

func checkNode(name string) error {
	if name == "" {
		return ErrInvalidNode
	}
	return nil
}

// mustNode panics for an empty name: the methods that take a node name and
// return no error treat it as the programmer error it is.
func mustNode(name string) {
	if name == "" {
		panic("netsim: empty node name")
	}
}
