package peer

import "errors"

var (
	// ErrClosed is returned by Lock and Unlock on a Peer that has been
	// closed, and by a Lock that Close interrupted.
	ErrClosed = errors.New("peer: closed")

	// ErrNotHeld is returned by Unlock on a Peer that is not in its
	// critical section.
	ErrNotHeld = errors.New("peer: not held")
)
