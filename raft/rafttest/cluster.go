package rafttest

import (
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/distsys-kit/distsys/internal/vfs"
	"github.com/distsys-kit/distsys/raft"
	"github.com/distsys-kit/distsys/raft/wal"
	"github.com/distsys-kit/distsys/trace"
	"github.com/distsys-kit/distsys/trace/tracesim"
	"github.com/distsys-kit/distsys/transport"
	"github.com/distsys-kit/distsys/transport/netsim"
)

// TB is the part of testing.TB the harness uses; *testing.T is one.
type TB interface {
	Helper()
	Name() string
	Failed() bool
	Cleanup(func())
	Logf(format string, args ...any)
	Errorf(format string, args ...any)
	Fatalf(format string, args ...any)
}

// Cluster is a Raft cluster of n servers on a simulated network (package
// netsim), with the controls of MIT's config.go: crash and restart
// servers, disconnect and partition them, make the network unreliable,
// and check what the servers agree on. Meanwhile it checks Raft's safety
// properties on every applied entry and every leader it sees.
//
// Servers are numbered 0 to n-1, as in MIT's tests (server i has raft ID
// i+1 and the network name "s<i>"). Make a Cluster with New inside a
// testing/synctest bubble, so that its seconds pass in virtual time.
//
// Its methods are safe for concurrent use by multiple goroutines; the
// ones that fail the test (Fatalf) must be called from the test's
// goroutine, as testing requires.
type Cluster struct {
	t     TB
	n     int
	seed  int64
	opts  options
	net   *netsim.Network
	rec   *trace.Recorder // nil when not tracing
	names []string
	addrs map[uint64]string

	stopMonitor chan struct{}
	wg          sync.WaitGroup // the monitor

	mu          sync.Mutex // protects everything below, and the checker
	rng         *rand.Rand
	servers     []Server
	incs        []*incarnation
	storage     []raft.Storage
	fs          []*vfs.Mem
	persisters  []*Persister
	connected   []bool
	reliable    bool
	longReorder bool
	longDelays  bool
	crashes     int
	starts      int
	disconnects int
	partitions  int
	closed      bool
	check       checker
	faults      faultCounts
}

// incarnation is one run of a server, from its start to its crash.
type incarnation struct {
	srv   Server
	apply chan ApplyMsg
	stop  chan struct{} // closed to stop the reader
	done  chan struct{} // closed when the reader has exited
}

// New starts a cluster of n servers, all connected, on a network seeded
// with seed (every random choice of the network, of the servers'
// election timeouts and of Rand comes from it). It registers Close with
// t.Cleanup. If the test fails, the cleanup logs the seed and the faults
// that hit, and writes the run's space-time diagram to a directory named
// after the test and the seed (under $DISTSYS_TRACE_DIR, or the system's
// temporary directory).
func New(t TB, n int, seed int64, opts ...Option) *Cluster {
	t.Helper()
	o := options{start: StartNode(), traceEvents: DefaultTraceEvents, checkEvery: DefaultCheckEvery}
	for _, opt := range opts {
		opt.apply(&o)
	}
	c := &Cluster{
		t: t, n: n, seed: seed, opts: o,
		rng:         rand.New(rand.NewPCG(uint64(seed), 0x5eed)),
		addrs:       make(map[uint64]string),
		servers:     make([]Server, n),
		incs:        make([]*incarnation, n),
		storage:     make([]raft.Storage, n),
		fs:          make([]*vfs.Mem, n),
		persisters:  make([]*Persister, n),
		connected:   make([]bool, n),
		reliable:    !o.unreliable,
		stopMonitor: make(chan struct{}),
		check:       newChecker(n),
	}
	var netOpts []netsim.Option
	if o.traceEvents >= 0 {
		c.rec = trace.NewRecorder(trace.WithTitle(t.Name()), trace.WithMaxEvents(o.traceEvents))
		netOpts = append(netOpts, netsim.WithObserver(tracesim.Observer(c.rec)))
	}
	netOpts = append(netOpts, netsim.WithObserver(c.observe))
	c.net = netsim.NewNetwork(seed, netOpts...)
	for i := range n {
		c.names = append(c.names, fmt.Sprintf("s%d", i))
		c.addrs[uint64(i+1)] = c.names[i]
		c.persisters[i] = &Persister{}
		c.connected[i] = true
		if o.wal {
			c.fs[i] = vfs.NewMem()
		} else {
			c.storage[i] = raft.NewMemoryStorage()
		}
	}
	c.applyFaults()
	c.net.LogSeedOnFailure(t)
	if c.rec != nil {
		c.rec.WriteOnFailure(t, seed)
	}
	t.Cleanup(c.cleanup)
	for i := range n {
		c.Start(i)
	}
	c.wg.Go(c.monitor) // exits when stopMonitor is closed
	return c
}

// Seed returns the seed the cluster was made with.
func (c *Cluster) Seed() int64 { return c.seed }

// Network returns the simulated network, for faults the Cluster's own
// methods do not offer (SetFaults on one link, Hold, LinkStats, ...).
func (c *Cluster) Network() *netsim.Network { return c.net }

// Rand returns a random number in [0, n) from the cluster's seeded
// source, for tests that choose at random (MIT's rand.Int() % n).
func (c *Cluster) Rand(n int) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.rng.IntN(n)
}

// Server returns server i as it runs now, or nil if it is crashed.
func (c *Cluster) Server(i int) Server {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.servers[i]
}

// Up reports whether server i is running (not crashed).
func (c *Cluster) Up(i int) bool { return c.Server(i) != nil }

// Connected reports whether server i is connected to the others.
func (c *Cluster) Connected(i int) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.connected[i]
}

// Start starts server i, as MIT's start1 does: it crashes it first if it
// runs, then starts it again from what it kept (its storage, its
// persister), with an empty state machine that the server fills again.
// The server's connection to the others is as it was: a crashed server
// is disconnected until Connect.
func (c *Cluster) Start(i int) {
	c.t.Helper()
	c.Crash(i)
	c.net.Restart(c.names[i])
	l, err := c.net.Listen(c.names[i])
	if err != nil {
		c.Fatalf("server %d: listen: %v", i, err)
	}
	cfg := ServerConfig{
		ID: uint64(i + 1), Addrs: c.addrs, Persister: c.persisters[i],
		Listener: c.wrapListener(i, l), Dialer: c.wrapDialer(i, c.net.Dialer(c.names[i])),
		Seed: c.seed,
	}
	if c.opts.wal {
		s, err := wal.Open("/raft", wal.WithFS(c.fs[i]))
		if err != nil {
			_ = l.Close()
			c.Fatalf("server %d: open its write-ahead log: %v", i, err)
		}
		c.mu.Lock()
		c.storage[i] = s
		c.mu.Unlock()
	}
	cfg.Storage = c.storage[i]
	inc := &incarnation{apply: make(chan ApplyMsg), stop: make(chan struct{}), done: make(chan struct{})}
	cfg.Apply = inc.apply
	var serr error
	c.mu.Lock()
	c.check.restart(i)
	if snap := c.persisters[i].ReadSnapshot(); len(snap) > 0 {
		serr = c.check.installSnapshot(i, 0, snap) // MIT's start1 reads it for a Raft of one's own
	}
	c.mu.Unlock()
	if serr != nil {
		c.violate(serr)
	}
	srv, err := c.opts.start(cfg)
	if err != nil {
		c.Fatalf("server %d: start: %v", i, err)
	}
	inc.srv = srv
	c.mu.Lock()
	c.servers[i], c.incs[i] = srv, inc
	c.starts++
	c.mu.Unlock()
	go c.read(i, inc) // exits when inc.stop is closed (Crash, Close)
}

// Crash crashes server i, as MIT's crash1 does: it disconnects it, cuts
// its power (its conns close, its messages in flight are lost), kills it
// and keeps only what it had saved to its storage. With WithWAL(true),
// its file system loses what was not synced. Crashing a crashed server
// does nothing.
func (c *Cluster) Crash(i int) {
	c.t.Helper()
	c.mu.Lock()
	inc := c.incs[i]
	c.servers[i], c.incs[i] = nil, nil
	c.mu.Unlock()
	if inc == nil {
		return
	}
	c.Disconnect(i)
	c.net.Crash(c.names[i])
	inc.srv.Kill()
	close(inc.stop)
	<-inc.done
	c.mu.Lock()
	c.crashes++
	s := c.storage[i]
	c.mu.Unlock()
	if c.opts.wal {
		if err := s.(*wal.Storage).Close(); err != nil {
			c.Fatalf("server %d: close its write-ahead log: %v", i, err)
		}
		if c.opts.loseUnsynced {
			c.fs[i].CrashTorn(c.seed + int64(i))
		}
	}
}

// Disconnect cuts server i off from the others: messages to and from it
// are lost.
func (c *Cluster) Disconnect(i int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.connected[i] {
		c.connected[i] = false
		c.disconnects++
		c.net.Disconnect(c.names[i])
	}
}

// Connect joins server i to the others again.
func (c *Cluster) Connect(i int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.connected[i] {
		c.connected[i] = true
		c.net.Reconnect(c.names[i])
	}
}

// Partition splits the servers into groups that cannot reach each other
// (servers named in no group form one more group); Heal joins them.
// Disconnect and Partition are independent: Heal does not reconnect a
// disconnected server.
func (c *Cluster) Partition(groups ...[]int) {
	named := make([][]string, len(groups))
	for g, group := range groups {
		for _, i := range group {
			named[g] = append(named[g], c.names[i])
		}
	}
	c.mu.Lock()
	c.partitions++
	c.mu.Unlock()
	c.net.Partition(named...)
}

// Heal removes the partition and every one-way cut.
func (c *Cluster) Heal() { c.net.Heal() }

// CutLink cuts the one direction from -> to: from's messages to to are
// lost, while to's still reach from.
func (c *Cluster) CutLink(from, to int) { c.net.CutLink(c.names[from], c.names[to]) }

// HealLink restores the direction from -> to.
func (c *Cluster) HealLink(from, to int) { c.net.HealLink(c.names[from], c.names[to]) }

// SetReliable makes the network reliable, or unreliable as MIT's labrpc
// is: one message in ten lost, the others delayed up to 27ms and so
// sometimes reordered (netsim.UnreliableFaults).
func (c *Cluster) SetReliable(reliable bool) {
	c.mu.Lock()
	c.reliable = reliable
	c.mu.Unlock()
	c.applyFaults()
}

// SetLongReordering makes two messages in three arrive LongReorderDelay
// late, so that later ones overtake them by far (labrpc's long
// reordering).
func (c *Cluster) SetLongReordering(on bool) {
	c.mu.Lock()
	c.longReorder = on
	c.mu.Unlock()
	c.applyFaults()
}

// SetLongDelays makes every message take up to LongDelay more, at
// random: a slow, congested network on which elections time out and
// messages overtake each other.
func (c *Cluster) SetLongDelays(on bool) {
	c.mu.Lock()
	c.longDelays = on
	c.mu.Unlock()
	c.applyFaults()
}

// The delays of the long network modes.
const (
	LongReorderDelay = 200 * time.Millisecond
	LongDelay        = time.Second
)

// applyFaults sets the network's default faults from the modes.
func (c *Cluster) applyFaults() {
	c.mu.Lock()
	var f transport.Faults
	if !c.reliable {
		f = netsim.UnreliableFaults()
	}
	if c.longReorder {
		f.Reorder, f.ReorderDelay = 0.66, LongReorderDelay
	}
	if c.longDelays {
		f.Jitter = max(f.Jitter, LongDelay)
	}
	c.mu.Unlock()
	if err := c.net.SetDefaultFaults(f); err != nil {
		panic(err) // the faults above are valid
	}
}

// Close crashes every server and closes the network. New registers it
// with t.Cleanup; calling it earlier is allowed, and later calls do
// nothing.
func (c *Cluster) Close() {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	c.mu.Unlock()
	close(c.stopMonitor)
	c.wg.Wait()
	for i := range c.n {
		c.Crash(i)
	}
	_ = c.net.Close()
}
