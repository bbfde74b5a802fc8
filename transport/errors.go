package transport

import (
	"errors"
	"fmt"
	"net"
)

var (
	// ErrClosed is returned by Send, Recv and Accept on a connection or
	// listener that has been closed locally. It wraps net.ErrClosed, so
	// errors.Is(err, net.ErrClosed) also holds and standard accept loops
	// work unchanged.
	ErrClosed = fmt.Errorf("transport: %w", net.ErrClosed)

	// ErrMessageTooLarge is returned by Send for a message larger than the
	// connection's maximum, and by Recv when the peer announces one; in the
	// second case the connection is closed, since nothing after the
	// oversized frame can be trusted.
	ErrMessageTooLarge = errors.New("transport: message too large")

	// ErrPeerStalled is returned by Recv when the peer began a message and
	// then sent nothing more of it for the read-progress timeout (see
	// WithReadProgressTimeout), and when a TLS peer took longer than that to
	// finish its handshake. The connection is closed: it cannot be trusted
	// to resume in step. The error also matches os.ErrDeadlineExceeded.
	ErrPeerStalled = errors.New("transport: peer stalled in the middle of a message")

	// ErrInvalidFaults is returned by the fault wrappers for a Faults value
	// with a probability outside [0, 1] or a negative duration.
	ErrInvalidFaults = errors.New("transport: invalid faults")
)
