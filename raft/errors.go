package raft

import (
	"errors"
	"fmt"
)

// Errors of the protocol core and of Node. (The Storage errors are in
// storage.go.)
var (
	// ErrInvalidConfig is returned by NewRaft and NewNode for a Config
	// that cannot work; the error says what is wrong.
	ErrInvalidConfig = errors.New("raft: invalid config")
	// ErrInvalidMessage is returned by Raft.Step for a message it drops
	// because it is malformed or impossible (from an unknown server, with
	// entries out of order or from a future term), and by
	// DecodeMessage for bytes that are not a message. Status counts them.
	ErrInvalidMessage = errors.New("raft: invalid message")
	// ErrNotLeader is returned by Propose and TransferLeadership on a
	// server that is not the leader, and by ReadIndex when no leader is
	// known. Node returns it as a *NotLeaderError, which matches it.
	ErrNotLeader = errors.New("raft: not the leader")
	// ErrProposalDropped is returned by Propose when the leader refuses
	// the command: it is handing leadership over, or holds
	// Config.MaxUncommittedEntries entries not yet committed.
	ErrProposalDropped = errors.New("raft: proposal dropped")
	// ErrUnknownPeer is returned by TransferLeadership for an ID that is
	// not in Config.Peers.
	ErrUnknownPeer = errors.New("raft: unknown peer")
	// ErrSnapshotIndex is returned by NewSnapshot (and Node.Snapshot) for
	// an index the application has not applied yet.
	ErrSnapshotIndex = errors.New("raft: snapshot of an entry not applied yet")
	// ErrClosed is returned by the methods of a Node after Close.
	ErrClosed = errors.New("raft: node closed")
	// ErrTransferFailed is returned by Node.TransferLeadership when the
	// transfer was abandoned (the target did not take over within an
	// election timeout) or another server became the leader.
	ErrTransferFailed = errors.New("raft: leadership transfer failed")
)

// NotLeaderError is the error of a Node call that only the leader can
// serve. Leader is the leader this server knows of (None if it knows of
// none) and LeaderAddr its address, so the caller can try there. It
// matches ErrNotLeader: errors.Is(err, raft.ErrNotLeader).
type NotLeaderError struct {
	Leader     uint64
	LeaderAddr string
}

func (e *NotLeaderError) Error() string {
	if e.Leader == None {
		return "raft: not the leader (no leader known)"
	}
	return fmt.Sprintf("raft: not the leader (the leader is %d at %s)", e.Leader, e.LeaderAddr)
}

// Is makes errors.Is(err, ErrNotLeader) hold.
func (e *NotLeaderError) Is(target error) bool { return target == ErrNotLeader }
