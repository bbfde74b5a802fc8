package lock

import "errors"

var (
	// ErrClosed is returned by calls on a Client or Server that has been
	// closed, and by the calls that Close interrupted. A Lease ended by
	// Client.Close reports it from Err.
	ErrClosed = errors.New("lock: closed")

	// ErrLocked is returned by TryLock when the lock is held by someone
	// else, or cannot be granted right now: its last holder's lease expired
	// less than the lock-delay ago, or the server restarted less than a
	// lease ago (see the package documentation).
	ErrLocked = errors.New("lock: held by another session")

	// ErrNotHeld is returned by Unlock on a Mutex that holds no lease.
	ErrNotHeld = errors.New("lock: not held")

	// ErrUnlocked is what Lease.Err reports after Unlock ended the lease.
	ErrUnlocked = errors.New("lock: unlocked")

	// ErrSessionExpired is returned when the server no longer knows the
	// client's session: its lease ran out before a renewal arrived, or the
	// server restarted. Every lock the session held has been released, and
	// every Lock it was waiting in has been abandoned. Lease.Err reports it
	// for leases lost that way. The client opens a new session for the
	// next Lock.
	ErrSessionExpired = errors.New("lock: session expired")

	// ErrLeaseExpired is what Lease.Err reports when the client's own
	// clock passed the lease's expiry before a renewal succeeded (the
	// server was unreachable). The server may already have given the lock
	// to someone else. A Lock waiting on the same session returns it too.
	ErrLeaseExpired = errors.New("lock: lease expired before it could be renewed")

	// ErrStaleToken is returned by FencedStore.Put for a write whose
	// fencing token is older than the newest the store has seen: the
	// writer's lease is over, whatever it believes.
	ErrStaleToken = errors.New("lock: stale fencing token")

	// ErrCorruptState is returned by NewServer when the state file in its
	// directory exists but cannot be trusted: truncated, wrong format or
	// failing its checksum. The server refuses to start rather than risk
	// issuing a fencing token twice; a person must look at the directory.
	ErrCorruptState = errors.New("lock: corrupt state file")

	// ErrDirLocked is returned by NewServer when another server, in this
	// process or another, is using the state directory: two servers on one
	// directory could issue the same fencing token. The lock is advisory
	// (flock(2)), and exists only where the platform has flock; see
	// Config.Dir.
	ErrDirLocked = errors.New("lock: state directory in use by another server")
)

// errStale is the server's answer to a request about an acquisition that
// has already ended (released, cancelled, refused, or superseded). It only
// crosses the wire as a status code; the client turns it into the error its
// caller expects.
var errStale = errors.New("lock: request for an acquisition that has ended")

// errBadCommand is what a replica's state machine answers to a log entry
// that does not decode as a command of the lock service (none of its
// servers proposes one).
var errBadCommand = errors.New("lock: bad command")
