package rafttest

import (
	"sync"

	"github.com/distsys-kit/distsys/raft"
	"github.com/distsys-kit/distsys/transport"
)

// Server is one Raft server as the harness drives it: the shape of the
// Raft that MIT's 6.5840 labs ask students to write, so that a course can
// run its students' code under the harness. NodeServer adapts the
// library's raft.Node to it; a student's Raft implements it directly.
//
// The harness calls Start, GetState and Snapshot from its own goroutines,
// Snapshot from the goroutine that reads the server's apply channel, so
// they must be safe for concurrent use and must not wait for the
// application (the harness) to read the apply channel.
type Server interface {
	// Start asks the server to append cmd to the replicated log. On a
	// leader it returns at once the index and term the command will have
	// if it is ever committed, and isLeader true; elsewhere isLeader is
	// false. It never waits for the command to commit.
	Start(cmd []byte) (index, term uint64, isLeader bool)
	// GetState returns the server's current term and whether it believes
	// it is the leader.
	GetState() (term uint64, isLeader bool)
	// Snapshot tells the server that the application's state up to and
	// including index is snapshot, so it may discard its log up to index.
	Snapshot(index uint64, snapshot []byte)
	// Kill stops the server: a crash. When Kill returns, the server's
	// goroutines have exited, and it sends nothing more on its apply
	// channel and nothing more to its peers.
	Kill()
}

// LogReader is implemented by servers whose log the harness can read: it
// then checks Leader Completeness, that every new leader holds every
// entry committed before its term. NodeServer implements it.
type LogReader interface {
	// EntryTerm returns the term of the entry at index in the server's
	// log. It returns raft.ErrCompacted if a snapshot covers index, and
	// raft.ErrUnavailable if the log does not reach it.
	EntryTerm(index uint64) (uint64, error)
}

// ApplyMsg is what a server sends on its apply channel, in log order: a
// committed command (CommandValid) or a snapshot to install in place of
// the state machine (SnapshotValid). It mirrors MIT's ApplyMsg.
type ApplyMsg struct {
	CommandValid bool
	Command      []byte
	CommandIndex uint64
	CommandTerm  uint64

	SnapshotValid bool
	Snapshot      []byte
	SnapshotIndex uint64
	SnapshotTerm  uint64
}

// ServerConfig is what the harness gives a StartFunc to make (or remake,
// after a crash) server ID.
type ServerConfig struct {
	// ID is the server's ID, 1 to n; server i of the harness's API has
	// ID i+1 (raft's None is 0).
	ID uint64
	// Addrs maps every server's ID, this one's included, to its address
	// on the simulated network.
	Addrs map[uint64]string
	// Listener is where this server's peers connect. The server owns it
	// and closes it when it is killed.
	Listener transport.Listener
	// Dialer connects to the peers' addresses.
	Dialer transport.Dialer
	// Storage is the server's raft.Storage, kept across crashes: a
	// raft.MemoryStorage, or a raft/wal Storage (WithWAL). For servers
	// built on package raft.
	Storage raft.Storage
	// Persister is the server's persistent state in MIT's shape, kept
	// across crashes, for a Raft of one's own.
	Persister *Persister
	// Apply is where the server sends committed commands and snapshots,
	// in log order. The harness reads it until the server is killed.
	Apply chan<- ApplyMsg
	// Seed seeds the server's random choices (election timeouts).
	Seed int64
}

// StartFunc makes a server from its configuration: a new one, or one
// restarting from what it kept (Storage, Persister) after a crash.
type StartFunc func(cfg ServerConfig) (Server, error)

// Persister is a server's persistent state in the shape MIT's labs use:
// the Raft state and the latest snapshot, saved together. It is what a
// Raft of one's own persists to; a crash keeps exactly what was saved.
// It is safe for concurrent use by multiple goroutines.
type Persister struct {
	mu        sync.Mutex // protects raftState, snapshot
	raftState []byte
	snapshot  []byte
}

// Save replaces the saved Raft state and snapshot (a nil snapshot keeps
// the one saved before). It keeps its own copies.
func (p *Persister) Save(raftState, snapshot []byte) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.raftState = append([]byte(nil), raftState...)
	if snapshot != nil {
		p.snapshot = append([]byte(nil), snapshot...)
	}
}

// ReadRaftState returns a copy of the saved Raft state.
func (p *Persister) ReadRaftState() []byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]byte(nil), p.raftState...)
}

// ReadSnapshot returns a copy of the saved snapshot.
func (p *Persister) ReadSnapshot() []byte {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]byte(nil), p.snapshot...)
}

// RaftStateSize returns the size of the saved Raft state in bytes.
func (p *Persister) RaftStateSize() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.raftState)
}
