package rpc

import (
	"context"
	"errors"
	"strings"
)

var (
	// ErrClosed is returned by Call and Go on a client that has been
	// closed, and by every call still pending when Close was called.
	ErrClosed = errors.New("rpc: client closed")

	// ErrServerClosed is returned by Serve after Close or Shutdown. A call
	// gets an error matching it when the server refused the call because it
	// was shutting down (the handler did not run), or when the server closed
	// the connection while the call was pending (the handler may have run).
	ErrServerClosed = errors.New("rpc: server closed")

	// ErrUnknownService is returned (inside a *RemoteError) for a call to a
	// service the server has not registered. The handler did not run.
	ErrUnknownService = errors.New("rpc: unknown service")

	// ErrUnknownMethod is returned (inside a *RemoteError) for a call to a
	// method the service does not have. The handler did not run.
	ErrUnknownMethod = errors.New("rpc: unknown method")

	// ErrConnLost is returned by a call whose connection failed or was
	// closed by the peer before the reply arrived. The handler may have run.
	ErrConnLost = errors.New("rpc: connection lost")

	// ErrBadRequest is returned (inside a *RemoteError) when the server
	// could not decode a call's arguments: wrong types, another codec,
	// garbage. The handler did not run.
	ErrBadRequest = errors.New("rpc: bad request")

	// ErrBadReply is returned by a call whose reply could not be decoded
	// into the reply value. The handler ran.
	ErrBadReply = errors.New("rpc: bad reply")

	// ErrUnauthenticated is returned (inside a *RemoteError) when the
	// server's authentication hook (WithAuth) refused the call. The
	// handler did not run. (A signed transport that refuses a message
	// ends the connection instead: see transport.ErrUnauthenticated.)
	ErrUnauthenticated = errors.New("rpc: unauthenticated")

	// ErrMaybeExecuted is returned (inside a *RemoteError) to a retrying
	// client (WithRetry) when the server cannot tell whether the call
	// already ran: the server restarted, or forgot the client, between two
	// attempts. The call ran once or not at all; it was not run again.
	ErrMaybeExecuted = errors.New("rpc: server lost track of the call: it may or may not have run")

	// ErrTooManyCalls is returned (inside a *RemoteError) when the server's
	// reply cache holds as many unacknowledged replies for this client as
	// it allows (see WithReplyCache). The handler did not run.
	ErrTooManyCalls = errors.New("rpc: too many calls awaiting acknowledgement")

	// ErrHandlerPanicked is returned (inside a *RemoteError) when the
	// handler, or a server interceptor, panicked. The message names the
	// panic's value; the server logs it with its stack (WithLogger) and
	// goes on serving. The handler ran, at least in part.
	ErrHandlerPanicked = errors.New("rpc: handler panicked")

	// ErrServerBusy is returned when the server is at one of its limits
	// (WithMaxConns, WithMaxCalls): inside a *RemoteError for a call
	// refused, or for every call on a connection refused. The handler did
	// not run.
	ErrServerBusy = errors.New("rpc: server busy")

	// ErrInvalidService is returned by Register and RegisterName for a
	// receiver that cannot be served: no suitable methods, a name already
	// taken, or argument and reply types that cannot cross the wire intact.
	ErrInvalidService = errors.New("rpc: invalid service")
)

// builtinErrors are the sentinels every client and server knows, so that
// they survive the wire without WithErrors. Their messages are their codes:
// the server sends err.Error() of the first sentinel the handler's error
// matches, and the client restores the sentinel with that message.
var builtinErrors = [...]error{
	ErrServerClosed, ErrUnknownService, ErrUnknownMethod, ErrBadRequest,
	ErrBadReply, ErrUnauthenticated, ErrMaybeExecuted, ErrTooManyCalls, ErrHandlerPanicked, ErrServerBusy,
	context.Canceled, context.DeadlineExceeded,
}

// RemoteError is the error a call returns when the server answered with an
// error: the handler's own, or the server's refusal to run it. Msg is the
// error's text on the server. If the error matched a sentinel known to both
// sides (the package's own, or one declared with WithErrors on both), Err is
// that sentinel, so errors.Is(err, kv.ErrNoKey) holds on the client.
type RemoteError struct {
	Method string // the method called, "Service.Method"
	Msg    string // the error's message on the server
	Err    error  // the sentinel it matched, or nil
}

// Error returns "rpc: Service.Method: " followed by the server's message
// (without its own "rpc: " prefix, if it has one).
func (e *RemoteError) Error() string {
	return "rpc: " + e.Method + ": " + strings.TrimPrefix(e.Msg, "rpc: ")
}

// Unwrap returns the sentinel the error matched, or nil.
func (e *RemoteError) Unwrap() error { return e.Err }

// errorTable maps sentinels to the codes that carry them across the wire,
// for one client or server: its WithErrors list, then builtinErrors.
type errorTable struct {
	errs []error
}

func newErrorTable(user []error) errorTable {
	errs := make([]error, 0, len(user)+len(builtinErrors))
	errs = append(errs, user...)
	errs = append(errs, builtinErrors[:]...)
	return errorTable{errs: errs}
}

// code returns the wire code of err: the message of the first sentinel it
// matches, or "" if it matches none.
func (t errorTable) code(err error) string {
	for _, s := range t.errs {
		if errors.Is(err, s) {
			return s.Error()
		}
	}
	return ""
}

// sentinel returns the sentinel with wire code code, or nil.
func (t errorTable) sentinel(code string) error {
	if code == "" {
		return nil
	}
	for _, s := range t.errs {
		if s.Error() == code {
			return s
		}
	}
	return nil
}
