package raft

import "maps"

// Status is a snapshot of a server's state, for tests, status pages and
// debugging.
type Status struct {
	ID         uint64
	State      State
	Term       uint64
	VotedFor   uint64
	Leader     uint64
	Commit     uint64 // commitIndex
	Applied    uint64 // lastApplied
	FirstIndex uint64 // the first entry of the log not compacted
	LastIndex  uint64
	Transferee uint64 // leader: whom leadership is being handed to, or None
	// Progress is, on a leader, what it knows of each server (itself
	// included); nil on other servers.
	Progress map[uint64]PeerStatus
	Counters Counters
}

// PeerStatus is what a leader knows of one server.
type PeerStatus struct {
	Match    uint64 // matchIndex
	Next     uint64 // nextIndex
	State    string // "probe", "replicate" or "snapshot"
	Inflight int    // AppendEntries sent and not answered (when replicating)
}

// Counters count what a server dropped, refused or could not do. They
// only grow.
type Counters struct {
	// InvalidMessages counts messages Step dropped as malformed or
	// impossible (ErrInvalidMessage).
	InvalidMessages uint64
	// StaleMessages counts messages from an older term.
	StaleMessages uint64
	// IgnoredVotes counts vote requests ignored because a leader was
	// heard from recently (PreVote, CheckQuorum).
	IgnoredVotes uint64
	// ProposalsDropped counts proposals and reads refused with
	// ErrProposalDropped.
	ProposalsDropped uint64
	// StorageErrors counts reads of Storage that failed (other than
	// ErrCompacted and ErrUnavailable, which are expected).
	StorageErrors uint64
}

// Status returns the server's current state.
func (r *Raft) Status() Status {
	s := Status{
		ID:         r.id,
		State:      r.state,
		Term:       r.term,
		VotedFor:   r.votedFor,
		Leader:     r.leader,
		Commit:     r.log.committed,
		Applied:    r.log.applied,
		FirstIndex: r.log.firstIndex(),
		LastIndex:  r.log.lastIndex(),
		Transferee: r.transferee,
		Counters:   r.counters,
	}
	if r.state == Leader {
		s.Progress = make(map[uint64]PeerStatus, len(r.progress))
		for id, pr := range r.progress {
			s.Progress[id] = PeerStatus{Match: pr.match, Next: pr.next, State: pr.state.String(), Inflight: len(pr.inflight)}
		}
	}
	return s
}

// Clone returns a copy of s that shares no map with it.
func (s Status) Clone() Status {
	s.Progress = maps.Clone(s.Progress)
	return s
}
