package rsm

import (
	"crypto/rand"
	"encoding/binary"
	"maps"
	"sync"
	"time"

	"github.com/distsys-kit/distsys/raft"
)

// StateMachine is the application an RSM replicates: a deterministic
// state that changes only by commands applied in log order. Every
// replica applies the same commands in the same order and so holds the
// same state.
//
// The RSM calls its methods one at a time, never concurrently, so a
// StateMachine need not lock. They must not block, and must not keep
// cmd, q or data after they return.
type StateMachine interface {
	// Apply applies cmd and returns its result. It must be
	// deterministic: the same state and cmd give the same new state and
	// result on every replica.
	Apply(cmd []byte) []byte
	// Query answers the read-only query q from the state, without
	// changing it.
	Query(q []byte) []byte
	// Snapshot encodes the whole state.
	Snapshot() []byte
	// Restore replaces the state with the one data encodes (made by
	// Snapshot, perhaps on another replica), or returns an error if data
	// is damaged.
	Restore(data []byte) error
}

// Request is a command from a client. Client names the client's session
// and Seq numbers its commands, 1, 2, 3, …: the RSM applies each (Client,
// Seq) once, however many times it is submitted, and answers a repeat
// with the first one's result. A client must wait for each command's
// result before it submits the next (it may resubmit the same one as often
// as it likes), and must pick a Client no other client uses (a random
// 64-bit number will do). Client 0 means no session: the command is
// applied every time it is submitted.
type Request struct {
	Client uint64
	Seq    uint64
	Cmd    []byte
}

// Option configures an RSM (New).
type Option interface{ apply(*options) }

type optionFunc func(*options)

func (f optionFunc) apply(o *options) { f(o) }

type options struct {
	maxRaftState int
	readsInLog   bool
	leaderCheck  time.Duration
}

// WithMaxRaftState makes the replica snapshot its state once the log
// entries it has applied since its last snapshot pass n bytes (MIT's
// maxraftstate), so that the log stays near n bytes. The default, 0, is
// never: the log grows without bound.
func WithMaxRaftState(n int) Option {
	return optionFunc(func(o *options) { o.maxRaftState = n })
}

// WithReadsThroughLog makes Read put each query in the log, as a command
// is, instead of using ReadIndex: slower (a log entry, saved by a
// majority, for every read), but it relies on nothing beyond the log.
func WithReadsThroughLog() Option {
	return optionFunc(func(o *options) { o.readsInLog = true })
}

// WithLeaderCheck sets how often a Submit waiting for its command checks
// that this replica still leads in the term it proposed in; when it does
// not, Submit gives up with ErrMaybeApplied. Default 100ms.
func WithLeaderCheck(d time.Duration) Option {
	return optionFunc(func(o *options) { o.leaderCheck = d })
}

// RSM is one replica of a replicated state machine: a raft.Node, the
// StateMachine it feeds, and the client sessions that make commands
// apply exactly once.
//
// Its methods are safe for concurrent use by multiple goroutines.
type RSM struct {
	node    *raft.Node
	storage raft.Storage // read by Read (caughtUp), never written
	addrs   map[uint64]string
	sm      StateMachine
	opts    options
	nonce   uint64 // this incarnation's random part of proposal ids

	mu         sync.Mutex // protects the fields below, and calls of sm
	sessions   map[uint64]session
	applied    uint64              // index of the last entry applied
	sinceSnap  int                 // bytes of the entries applied since the last snapshot
	advanced   chan struct{}       // closed when applied grows, then replaced
	waiters    map[uint64]*waiter  // by proposal id
	byIndex    map[uint64][]uint64 // proposal ids, by the index raft gave them
	nextID     uint64
	restoredTo uint64 // index of the last snapshot installed
	err        error  // why the replica stopped applying (ErrBadSnapshot, a raft error)
	stats      Stats

	stopped chan struct{} // closed when the apply loop exits
}

// Stats counts what a replica has done.
type Stats struct {
	Applied    uint64 // commands applied to the state machine
	Duplicates uint64 // commands skipped as repeats of a session's
	Queries    uint64 // queries answered through the log
	Snapshots  uint64 // snapshots taken
	Restores   uint64 // snapshots installed
}

// New starts a replica: a raft.Node made from cfg (whose Storage holds
// what the replica saved before, if it is restarting), feeding sm. A
// restarting replica rebuilds sm from its snapshot and log. It returns
// raft.NewNode's error if the node cannot start.
func New(cfg raft.NodeConfig, sm StateMachine, opts ...Option) (*RSM, error) {
	o := options{leaderCheck: 100 * time.Millisecond}
	for _, opt := range opts {
		opt.apply(&o)
	}
	node, err := raft.NewNode(cfg)
	if err != nil {
		return nil, err
	}
	var nonce [8]byte
	_, _ = rand.Read(nonce[:]) // never fails (crypto/rand)
	r := &RSM{
		node:     node,
		storage:  cfg.Storage,
		addrs:    maps.Clone(cfg.Addrs),
		sm:       sm,
		opts:     o,
		nonce:    binary.BigEndian.Uint64(nonce[:]),
		sessions: make(map[uint64]session),
		advanced: make(chan struct{}),
		waiters:  make(map[uint64]*waiter),
		byIndex:  make(map[uint64][]uint64),
		stopped:  make(chan struct{}),
	}
	go r.run() // exits when the node closes its Apply channel (Close)
	return r, nil
}

// Node returns the replica's raft node, for its Status and for tests.
func (r *RSM) Node() *raft.Node { return r.node }

// Stats returns the replica's counters.
func (r *RSM) Stats() Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stats
}

// Close stops the replica: its raft node and its apply loop. Calls
// waiting in Submit and Read return ErrClosed, and so do later ones. It
// waits for every goroutine to exit and returns the node's error, if it
// stopped on one; later calls return nil.
func (r *RSM) Close() error {
	err := r.node.Close()
	<-r.stopped
	return err
}
