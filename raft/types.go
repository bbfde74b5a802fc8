package raft

// EntryType says what a log entry carries.
type EntryType uint8

const (
	// EntryCommand carries a client's command (Entry.Data) for the state
	// machine.
	EntryCommand EntryType = iota
	// EntryNoop is the empty entry a new leader appends at the start of its
	// term. It lets the leader commit the entries of earlier terms (a
	// leader commits only entries of its own term, §5.4.2) without waiting
	// for a client's command. The state machine skips it.
	EntryNoop
)

// Entry is one record of the replicated log: a command, and the term of
// the leader that first received it. Index is the entry's position in the
// log, counting from 1.
type Entry struct {
	Index uint64
	Term  uint64
	Type  EntryType
	Data  []byte
}

// HardState is the state a server must keep on stable storage and make
// durable before it answers a message (Figure 2, "persistent state on all
// servers"): the latest term it has seen and whom it voted for in that
// term, so that it never votes twice in one term. Commit is the highest
// index known to be committed; saving it lets a restarted server apply its
// committed entries without waiting to hear from a leader, and losing it is
// harmless (it is learnt again).
type HardState struct {
	Term     uint64 // currentTerm
	VotedFor uint64 // the candidate voted for in Term, or None
	Commit   uint64 // commitIndex
}

// IsEmpty reports whether hs is the zero HardState.
func (hs HardState) IsEmpty() bool { return hs == HardState{} }

// None is the ID of no server: a VotedFor of None means no vote was cast in
// the current term, a leader hint of None that no leader is known.
const None uint64 = 0

// Snapshot is the state machine's state as of the entry at Index (whose
// term was Term), standing in for every entry up to and including Index
// (§7, "lastIncludedIndex" and "lastIncludedTerm"). Data is the state
// machine's own encoding; raft never looks inside it.
type Snapshot struct {
	Index uint64
	Term  uint64
	Data  []byte
}

// IsEmpty reports whether s is no snapshot (Index 0).
func (s Snapshot) IsEmpty() bool { return s.Index == 0 }
