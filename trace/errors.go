package trace

import "errors"

var (
	// ErrNotTraced is returned by Conn.Recv for a message that carries no
	// trace header: the peer's conn is not wrapped by a Recorder (both ends
	// of a traced connection must be). The message is discarded; the
	// connection stays open.
	ErrNotTraced = errors.New("trace: message has no trace header (is the peer's conn wrapped too?)")

	// ErrBadHeader is returned by Conn.Recv for a message whose trace
	// header is damaged (a corrupting link, or a peer speaking another
	// version). The message is discarded; the connection stays open.
	ErrBadHeader = errors.New("trace: corrupt trace header")

	// ErrBadEvent is returned by ReadJSON for a line that is not a valid
	// event.
	ErrBadEvent = errors.New("trace: invalid event")
)
