package dashboard

import "errors"

var (
	// ErrClosed is returned by Serve's Server and answered to requests
	// (503) once the Dashboard is closed.
	ErrClosed = errors.New("dashboard: closed")

	// errBadRequest is wrapped by every error a request gets a 400 for.
	errBadRequest = errors.New("bad request")
)
