package raft

import "fmt"

// MessageType says which of the paper's RPCs, or which reply, a Message
// is. Raft's RPCs are one-way messages here: a request and its reply
// travel separately, and a server never waits for a reply (it acts on one
// when it comes, if it still cares).
type MessageType uint8

// The message types. The zero MessageType is no message.
const (
	// RequestVote is sent by a candidate to gather votes (§5.2).
	RequestVote MessageType = iota + 1
	// RequestVoteReply answers a RequestVote: VoteGranted or not.
	RequestVoteReply
	// PreVote asks whether the sender could win an election at Term,
	// without disturbing anyone's term (thesis §9.6; Config.PreVote).
	PreVote
	// PreVoteReply answers a PreVote.
	PreVoteReply
	// AppendEntries is sent by the leader to replicate log entries
	// (§5.3), and with no entries as a heartbeat (§5.2).
	AppendEntries
	// AppendEntriesReply answers an AppendEntries: Success, and the
	// follower's MatchIndex or, on failure, a conflict hint.
	AppendEntriesReply
	// InstallSnapshot is sent by the leader to a follower that needs
	// entries the leader has compacted away (§7).
	InstallSnapshot
	// InstallSnapshotReply answers an InstallSnapshot.
	InstallSnapshotReply
	// TimeoutNow tells a follower to start an election at once: the last
	// step of a leadership transfer (thesis §3.10).
	TimeoutNow
	// ReadIndex is sent by a follower to the leader, asking for a read
	// index on behalf of a client (thesis §6.4).
	ReadIndex
	// ReadIndexReply answers a ReadIndex with the read index.
	ReadIndexReply

	numMessageTypes = iota + 1 // one past the last type
)

var messageTypeNames = [...]string{
	RequestVote:          "RequestVote",
	RequestVoteReply:     "RequestVoteReply",
	PreVote:              "PreVote",
	PreVoteReply:         "PreVoteReply",
	AppendEntries:        "AppendEntries",
	AppendEntriesReply:   "AppendEntriesReply",
	InstallSnapshot:      "InstallSnapshot",
	InstallSnapshotReply: "InstallSnapshotReply",
	TimeoutNow:           "TimeoutNow",
	ReadIndex:            "ReadIndex",
	ReadIndexReply:       "ReadIndexReply",
}

// String returns the type's name, as the paper spells it.
func (t MessageType) String() string {
	if t > 0 && int(t) < len(messageTypeNames) {
		return messageTypeNames[t]
	}
	return fmt.Sprintf("MessageType(%d)", uint8(t))
}

// IsReply reports whether t is the reply to a request.
func (t MessageType) IsReply() bool {
	switch t {
	case RequestVoteReply, PreVoteReply, AppendEntriesReply, InstallSnapshotReply, ReadIndexReply:
		return true
	}
	return false
}

// Message is one message between two servers. Which fields mean something
// depends on Type; the field names are the paper's (Figure 2, Figure 13),
// and the rest are explained where they are declared. Unused fields are
// zero, and the wire encoding (AppendMessage) leaves them out.
type Message struct {
	Type MessageType
	From uint64 // the sender's ID (the paper's candidateId, leaderId)
	To   uint64 // the receiver's ID
	Term uint64 // the sender's currentTerm (a PreVote: the term it would campaign at)

	// RequestVote and PreVote: the candidate's last log entry (§5.4.1).
	LastLogIndex uint64
	LastLogTerm  uint64
	// Transfer marks the RequestVote of a leadership transfer, which
	// voters grant even if they heard from a leader recently.
	Transfer bool
	// RequestVoteReply and PreVoteReply.
	VoteGranted bool

	// AppendEntries: the entry just before Entries, the entries, and the
	// leader's commitIndex. A heartbeat has no Entries. The reply echoes
	// PrevLogIndex, so that the leader can tell which request it answers.
	PrevLogIndex uint64
	PrevLogTerm  uint64
	Entries      []Entry
	LeaderCommit uint64
	// Round numbers the leader's heartbeat rounds. A follower echoes it
	// in its reply; a majority of echoes of round n confirms that the
	// leader was still the leader when it sent round n (ReadIndex).
	Round uint64
	// AppendEntriesReply: whether the follower's log matched PrevLogIndex
	// and PrevLogTerm.
	Success bool
	// AppendEntriesReply and InstallSnapshotReply, on success: the index
	// up to which the follower's log now matches the leader's.
	MatchIndex uint64
	// AppendEntriesReply, on failure: where the leader should look next
	// (the fast back-up of §5.3). ConflictTerm is the term of the
	// follower's entry at PrevLogIndex and ConflictIndex the first index
	// the follower holds of that term; if the follower's log is too short,
	// ConflictTerm is 0 and ConflictIndex is its last index + 1.
	ConflictIndex uint64
	ConflictTerm  uint64

	// InstallSnapshot: the snapshot, whose Index and Term are the paper's
	// lastIncludedIndex and lastIncludedTerm. It is sent whole: the
	// paper's offset and done fields, which split it into chunks, are
	// left out.
	Snapshot Snapshot

	// ReadIndex and ReadIndexReply: the request being answered, and in
	// the reply the read index (0 if the leader could not serve it).
	ReadID uint64
	Index  uint64
}

// String returns a short, readable form of m, for logs and test failures.
func (m Message) String() string {
	s := fmt.Sprintf("%d->%d %s term=%d", m.From, m.To, m.Type, m.Term)
	switch m.Type {
	case RequestVote, PreVote:
		s += fmt.Sprintf(" last=%d/%d", m.LastLogIndex, m.LastLogTerm)
		if m.Transfer {
			s += " transfer"
		}
	case RequestVoteReply, PreVoteReply:
		s += fmt.Sprintf(" granted=%t", m.VoteGranted)
	case AppendEntries:
		s += fmt.Sprintf(" prev=%d/%d entries=%d commit=%d round=%d",
			m.PrevLogIndex, m.PrevLogTerm, len(m.Entries), m.LeaderCommit, m.Round)
	case AppendEntriesReply:
		if m.Success {
			s += fmt.Sprintf(" success match=%d round=%d", m.MatchIndex, m.Round)
		} else {
			s += fmt.Sprintf(" reject prev=%d conflict=%d/%d round=%d",
				m.PrevLogIndex, m.ConflictIndex, m.ConflictTerm, m.Round)
		}
	case InstallSnapshot:
		s += fmt.Sprintf(" snapshot=%d/%d", m.Snapshot.Index, m.Snapshot.Term)
	case InstallSnapshotReply:
		s += fmt.Sprintf(" match=%d", m.MatchIndex)
	case ReadIndex, ReadIndexReply:
		s += fmt.Sprintf(" id=%d index=%d", m.ReadID, m.Index)
	}
	return s
}
