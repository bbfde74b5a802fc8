package rafttest

import (
	"context"
	"sync"
	"time"

	"github.com/distsys-kit/distsys/raft"
)

// Timing of the library's servers under the harness. MIT's tests allow
// at most ten heartbeats a second (TestCount3B counts them) and expect a
// new leader within five seconds, so a heartbeat every 100ms and an
// election timeout of 300 to 600ms fit, with room to spare.
const (
	TickInterval  = 10 * time.Millisecond
	HeartbeatTick = 10 // ticks: 100ms
	ElectionTick  = 30 // ticks: 300 to 600ms
)

// NodeServer adapts a raft.Node to Server, the MIT-shaped interface the
// harness drives. It is safe for concurrent use by multiple goroutines.
type NodeServer struct {
	node    *raft.Node
	storage raft.Storage
	apply   chan<- ApplyMsg
	done    chan struct{} // closed by Kill
	wg      sync.WaitGroup
	once    sync.Once
}

var (
	_ Server    = (*NodeServer)(nil)
	_ LogReader = (*NodeServer)(nil)
)

// StartNode is the StartFunc of the library's Raft: it starts a raft.Node
// on cfg, with PreVote and CheckQuorum on and the harness's timing
// (TickInterval, HeartbeatTick, ElectionTick). configure, if given, may
// change the NodeConfig before the node starts.
func StartNode(configure ...func(*raft.NodeConfig)) StartFunc {
	return func(cfg ServerConfig) (Server, error) {
		nc := raft.NodeConfig{
			Config: raft.Config{
				ID: cfg.ID, Storage: cfg.Storage, Seed: cfg.Seed,
				ElectionTick: ElectionTick, HeartbeatTick: HeartbeatTick,
				PreVote: true, CheckQuorum: true,
			},
			Addrs:        cfg.Addrs,
			Listener:     cfg.Listener,
			Dialer:       cfg.Dialer,
			TickInterval: TickInterval,
		}
		for _, f := range configure {
			f(&nc)
		}
		n, err := raft.NewNode(nc)
		if err != nil {
			return nil, err
		}
		return NewNodeServer(n, cfg.Storage, cfg.Apply), nil
	}
}

// NewNodeServer returns n as a Server that delivers what n applies to
// apply, converted to ApplyMsgs, from a goroutine of its own; storage is
// n's, read to check Leader Completeness. Kill closes n.
func NewNodeServer(n *raft.Node, storage raft.Storage, apply chan<- ApplyMsg) *NodeServer {
	s := &NodeServer{node: n, storage: storage, apply: apply, done: make(chan struct{})}
	s.wg.Go(s.forward) // exits when n's Apply closes or Kill is called
	return s
}

// Node returns the raft.Node the server runs.
func (s *NodeServer) Node() *raft.Node { return s.node }

// forward converts and passes on what the node applies. A raft.Node
// does not deliver its leaders' no-op entries (EntryNoop, one at the
// start of each term), so its indexes skip them; forward delivers each
// skipped index as a command with no data, so that the application sees
// every index in order, as MIT's ApplyMsgs promise.
func (s *NodeServer) forward() {
	last := uint64(0)
	send := func(am ApplyMsg) bool {
		select {
		case s.apply <- am:
			return true
		case <-s.done:
			return false
		}
	}
	for m := range s.node.Apply() {
		if !m.Snapshot.IsEmpty() {
			if !send(ApplyMsg{SnapshotValid: true, Snapshot: m.Snapshot.Data, SnapshotIndex: m.Index, SnapshotTerm: m.Term}) {
				return
			}
			last = m.Index
			continue
		}
		for i := last + 1; i < m.Index; i++ {
			if !send(ApplyMsg{CommandValid: true, CommandIndex: i}) {
				return
			}
		}
		if !send(ApplyMsg{CommandValid: true, Command: m.Command, CommandIndex: m.Index, CommandTerm: m.Term}) {
			return
		}
		last = m.Index
	}
}

// Start proposes cmd (raft.Node.Propose).
func (s *NodeServer) Start(cmd []byte) (index, term uint64, isLeader bool) {
	i, t, err := s.node.Propose(context.Background(), cmd)
	if err != nil {
		return 0, 0, false
	}
	return i, t, true
}

// GetState returns the node's term and whether it leads.
func (s *NodeServer) GetState() (term uint64, isLeader bool) {
	st := s.node.Status()
	return st.Term, st.State == raft.Leader
}

// Snapshot passes the application's snapshot to the node
// (raft.Node.Snapshot). A snapshot that an installed one already covers
// is ignored.
func (s *NodeServer) Snapshot(index uint64, snapshot []byte) {
	_ = s.node.Snapshot(index, snapshot)
}

// EntryTerm returns the term of the entry at index in the node's storage.
func (s *NodeServer) EntryTerm(index uint64) (uint64, error) {
	first, err := s.storage.FirstIndex()
	if err != nil {
		return 0, err
	}
	if index < first {
		return 0, raft.ErrCompacted
	}
	return s.storage.Term(index)
}

// Kill closes the node and waits for the forwarding goroutine.
func (s *NodeServer) Kill() {
	s.once.Do(func() {
		close(s.done)
		_ = s.node.Close() // a crash: why the node stopped, if it had, is moot
		s.wg.Wait()
	})
}
