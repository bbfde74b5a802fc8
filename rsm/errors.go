package rsm

import "errors"

// Errors of an RSM. A call that only the leader can serve also returns
// raft's *raft.NotLeaderError, which matches raft.ErrNotLeader and names
// the leader this replica knows of, if any.
var (
	// ErrClosed is returned by every call on an RSM after Close, and by
	// the calls still waiting when it was called.
	ErrClosed = errors.New("rsm: closed")
	// ErrMaybeApplied is returned by Submit when it cannot tell whether
	// the command was applied: ctx ended, or this replica lost its
	// leadership, after the command was handed to raft. The command may
	// yet be applied, once. Submitting it again with the same client and
	// sequence number is safe: it is applied at most once, and the retry
	// returns its result.
	ErrMaybeApplied = errors.New("rsm: the command may or may not have been applied")
	// ErrNotApplied is returned by Submit when the command's log entry was
	// replaced by a new leader's: it was not applied and never will be.
	// Submit it again, at the leader.
	ErrNotApplied = errors.New("rsm: the command was lost with its leader's term and not applied")
	// ErrStaleRequest is returned by Submit for a sequence number below
	// the client's latest: the client has moved on, and the result of the
	// older request is no longer kept. A client that waits for each
	// request before sending the next never sees it.
	ErrStaleRequest = errors.New("rsm: request older than the client's latest")
	// ErrBadSnapshot is returned by every call after the replica met a
	// snapshot it could not decode or restore; the replica has stopped
	// applying commands. Its storage is damaged.
	ErrBadSnapshot = errors.New("rsm: bad snapshot")
)
