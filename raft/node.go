package raft

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/distsys-kit/distsys/transport"
)

// Defaults for the zero fields of a NodeConfig.
const (
	DefaultTickInterval = 10 * time.Millisecond
	DefaultOutboxSize   = 1024
	DefaultApplyBacklog = 4096
)

// NodeConfig configures a Node: the protocol's Config, plus how the
// server reaches its peers and how fast its clock ticks.
type NodeConfig struct {
	// Config is the protocol's configuration. Peers may be left empty:
	// it is taken from Addrs.
	Config
	// Addrs maps every server's ID, this one's included, to its address
	// for Dialer. Required.
	Addrs map[uint64]string
	// Listener is where this server's peers connect. The Node owns it and
	// closes it on Close. Required.
	Listener transport.Listener
	// Dialer connects to the peers (transport.NewTCPDialer, a netsim
	// network's Dialer, reliable.NewDialer). Required.
	Dialer transport.Dialer
	// TickInterval is the real time of one tick (Config.ElectionTick and
	// HeartbeatTick count ticks). Default 10ms: elections after 100 to
	// 200ms of silence, heartbeats every 10ms.
	TickInterval time.Duration
	// OutboxSize is how many messages may wait to be sent to one peer;
	// more are dropped (and counted), which Raft tolerates. Default 1024.
	OutboxSize int
	// ApplyBacklog is how many committed entries may wait for the
	// application to read them from Apply before the node stops taking
	// more from the log (it keeps saving, sending and electing). Default
	// 4096.
	ApplyBacklog int
}

// ApplyMsg is what a Node delivers to the application, in log order: a
// committed command to apply, or a snapshot to install in place of the
// state machine (then Command is nil).
type ApplyMsg struct {
	Index    uint64
	Term     uint64
	Command  []byte
	Snapshot Snapshot
}

// Node runs one server of a Raft cluster: the protocol core driven by one
// goroutine, messages to and from its peers over a transport, a clock,
// and the delivery of committed commands to the application.
//
// Its methods are safe for concurrent use by multiple goroutines. The
// application must keep reading Apply; Close stops everything.
type Node struct {
	id      uint64
	addrs   map[uint64]string
	storage Storage
	tick    time.Duration
	phase   time.Duration // the wait for the first tick, in [0, tick)
	// electionTimeout is ElectionTick ticks: how long to wait for a
	// dial, a send, or a new connection's first message.
	electionTimeout time.Duration
	listener        transport.Listener
	dialer          transport.Dialer

	raft *Raft // owned by the loop goroutine

	// Requests to the loop, and messages from the peers, for the loop.
	propc chan proposal
	recvc chan Message // buffered: readers decode ahead while the loop saves
	ctlc  chan func()

	peers   map[uint64]*peer // outgoing, one per other server
	inbound *inbound
	applier *applier

	nextReadID atomic.Uint64
	reads      map[uint64]*pendingReadIndex // loop: ReadIndex calls waiting
	transfers  []*pendingTransfer           // loop: TransferLeadership calls waiting
	lastTerm   uint64                       // loop: term and state when reads and
	lastState  State                        // transfers were last checked
	saved      HardState                    // loop: the hard state saved last

	done      chan struct{} // closed by Close
	stopped   chan struct{} // closed when the loop exits
	cancel    context.CancelFunc
	wg        sync.WaitGroup
	closeOnce sync.Once
	err       error  // why the loop stopped (a storage error), or nil; set before stopped closes
	final     Status // the status when the loop stopped
}

type proposal struct {
	data []byte
	done chan proposeResult // size 1: the loop never waits for the caller
}

type proposeResult struct {
	index, term uint64
	err         error
}

// NewNode starts a server: it reads its state from cfg.Storage (a new
// server, or one restarting), starts accepting its peers' messages on
// cfg.Listener, and starts ticking. It returns an error wrapping
// ErrInvalidConfig for a bad configuration, or the error of reading
// Storage; then it has closed cfg.Listener.
func NewNode(cfg NodeConfig) (*Node, error) {
	n, err := newNode(cfg)
	if err != nil {
		if cfg.Listener != nil {
			_ = cfg.Listener.Close()
		}
		return nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	n.cancel = cancel
	n.wg.Go(n.run)                            // exits when n.done is closed, or Storage fails
	n.wg.Go(func() { n.applier.run(n.done) }) // exits when n.done is closed
	n.wg.Go(func() { n.acceptLoop(ctx) })     // exits when ctx is cancelled
	for _, p := range n.peers {
		n.wg.Go(func() { p.run(ctx, n.dialer) }) // exits when ctx is cancelled
	}
	return n, nil
}

func newNode(cfg NodeConfig) (*Node, error) {
	switch {
	case cfg.Listener == nil || cfg.Dialer == nil:
		return nil, fmt.Errorf("%w: Listener and Dialer are required", ErrInvalidConfig)
	case cfg.TickInterval < 0 || cfg.OutboxSize < 0 || cfg.ApplyBacklog < 0:
		return nil, fmt.Errorf("%w: negative TickInterval, OutboxSize or ApplyBacklog", ErrInvalidConfig)
	}
	ids := slices.Sorted(maps.Keys(cfg.Addrs))
	if len(cfg.Peers) == 0 {
		cfg.Peers = ids
	} else if !slices.Equal(slices.Sorted(slices.Values(cfg.Peers)), ids) {
		return nil, fmt.Errorf("%w: Peers %v and the IDs of Addrs %v differ", ErrInvalidConfig, cfg.Peers, ids)
	}
	r, err := NewRaft(cfg.Config)
	if err != nil {
		return nil, err
	}
	n := &Node{
		id:        cfg.ID,
		addrs:     maps.Clone(cfg.Addrs),
		storage:   cfg.Storage,
		tick:      cmp.Or(cfg.TickInterval, DefaultTickInterval),
		listener:  cfg.Listener,
		dialer:    cfg.Dialer,
		raft:      r,
		propc:     make(chan proposal),
		recvc:     make(chan Message, 256),
		ctlc:      make(chan func()),
		peers:     make(map[uint64]*peer),
		inbound:   newInbound(2 * len(cfg.Peers)),
		applier:   newApplier(cmp.Or(cfg.ApplyBacklog, DefaultApplyBacklog)),
		reads:     make(map[uint64]*pendingReadIndex),
		lastTerm:  r.Term(),
		lastState: r.State(),
		saved:     r.hardState(),
		done:      make(chan struct{}),
		stopped:   make(chan struct{}),
	}
	// A restarted server's state machine starts from the saved snapshot.
	snap, err := cfg.Storage.Snapshot()
	if err != nil {
		return nil, fmt.Errorf("raft: storage: %w", err)
	}
	if !snap.IsEmpty() && cfg.Applied < snap.Index {
		n.applier.push([]ApplyMsg{{Index: snap.Index, Term: snap.Term, Snapshot: snap}})
	}
	n.electionTimeout = time.Duration(r.electionTimeout) * n.tick
	// Servers that start together would tick in step, and two that drew
	// the same election timeout (ElectionTick offers only so many) would
	// stand at the very same moment and split the vote. Started at
	// different times, as on real machines, they tick out of step; the
	// phase makes that so however they start (seeded, so a run replays).
	n.phase = time.Duration(rand.New(rand.NewPCG(uint64(cfg.Seed), ^cfg.ID)).Int64N(int64(n.tick)))
	for _, id := range cfg.Peers {
		if id != n.id {
			n.peers[id] = newPeer(id, cfg.Addrs[id], cmp.Or(cfg.OutboxSize, DefaultOutboxSize), n.electionTimeout)
		}
	}
	return n, nil
}
