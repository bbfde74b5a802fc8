package netsim

import (
	"errors"
	"fmt"

	"github.com/distsys-kit/distsys/transport"
)

var (
	// ErrCrashed is returned by every call on the conns, listener and
	// packet conn of a node that Crash took down, and by Listen,
	// ListenPacket and Dial on a crashed node. It wraps transport.ErrClosed
	// (and so net.ErrClosed): an accept or receive loop on the crashed node
	// ends as it would after Close.
	ErrCrashed = fmt.Errorf("netsim: node crashed: %w", transport.ErrClosed)

	// ErrNetworkClosed is returned after Network.Close by Listen,
	// ListenPacket and Dial, and by every call on the network's conns,
	// listeners and packet conns. It wraps transport.ErrClosed (and so
	// net.ErrClosed).
	ErrNetworkClosed = fmt.Errorf("netsim: network closed: %w", transport.ErrClosed)

	// ErrConnRefused is returned by Dial when the node dialed can be
	// reached but nothing listens on it.
	ErrConnRefused = errors.New("netsim: connection refused")

	// ErrConnReset is returned by Send and Recv on a conn whose peer
	// answered with a reset: a message reached the other end after it had
	// been closed, or after its node had crashed and restarted, or the
	// listener closed before accepting the conn. Recv returns it after the
	// messages that arrived before the reset.
	ErrConnReset = errors.New("netsim: connection reset by peer")

	// ErrAddrInUse is returned by Listen and ListenPacket for a node that
	// already has an open listener, or packet conn, respectively.
	ErrAddrInUse = errors.New("netsim: address already in use")

	// ErrInvalidNode is returned for an empty node name.
	ErrInvalidNode = errors.New("netsim: invalid node name")

	// ErrInvalidLimits is returned by SetLimits for negative limits, or a
	// Queue without a Bandwidth.
	ErrInvalidLimits = errors.New("netsim: invalid limits")
)
