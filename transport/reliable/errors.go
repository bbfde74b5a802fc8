package reliable

import "errors"

// Besides these, calls return transport.ErrClosed (which matches
// net.ErrClosed) after a local Close, transport.ErrMessageTooLarge for a
// message over the limit, and ctx.Err() when their context ends.
var (
	// ErrPeerLost is returned by Send and Recv (after the messages that
	// arrived before) once nothing has been heard from the peer for
	// Config.EpochLimit epochs, and by Dial when the listener never
	// answered. Close returns it if the peer was lost before
	// acknowledging the messages sent.
	ErrPeerLost = errors.New("reliable: peer lost")

	// ErrPeerReset is returned by Send and Recv when the peer answered
	// that it has no such connection: it restarted, or gave the
	// connection up (a listener closed before accepting it, say). Close
	// returns it if that happened before the peer acknowledged the
	// messages sent.
	ErrPeerReset = errors.New("reliable: connection reset by peer")

	// ErrRefused is returned by Dial when the listener refused the
	// connection: it has as many as Config.MaxConnections allows.
	ErrRefused = errors.New("reliable: connection refused: the listener is full")

	// ErrPeerClosed is returned by Send once the peer has closed the
	// connection: nobody is left to read the message. (Recv returns
	// io.EOF instead, after the peer's last message.)
	ErrPeerClosed = errors.New("reliable: peer closed the connection")

	// ErrProtocol is returned by Recv when the peer sent something a
	// correct peer never sends, such as a message fragment out of
	// sequence; the connection is unusable afterwards.
	ErrProtocol = errors.New("reliable: protocol violation")

	// ErrInvalidConfig is returned by Dial, Listen and their variants for
	// a Config with a negative or out-of-range field; the message names
	// the field.
	ErrInvalidConfig = errors.New("reliable: invalid config")
)
