package dashboard

import (
	"context"
	"errors"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/distsys-kit/distsys/transport/netsim"
)

// Server is a Dashboard served over HTTP on an address of its own: what a
// program's -dashboard flag starts. Make one with Serve. A Server is safe
// for concurrent use by multiple goroutines.
type Server struct {
	d      *Dashboard
	srv    *http.Server
	ln     net.Listener
	served chan error // Serve's result, once it returns

	closeOnce sync.Once
	closeErr  error
}

// Serve starts an HTTP server on addr (such as "127.0.0.1:8080"; port 0
// picks a free one) showing a new Dashboard of n, and returns once it
// listens: the page is at URL. It returns the listener's error if addr
// cannot be listened on. Close the Server when done.
func Serve(addr string, n *netsim.Network, opts ...Option) (*Server, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	d := New(n, opts...)
	s := &Server{d: d, ln: ln, served: make(chan error, 1),
		srv: &http.Server{Handler: d, ReadHeaderTimeout: 10 * time.Second}}
	go func() { s.served <- s.srv.Serve(ln) }() // exits when Close shuts srv down
	return s, nil
}

// Dashboard returns the dashboard the server shows, to narrate to
// (Dashboard.Write) or to export from.
func (s *Server) Dashboard() *Dashboard { return s.d }

// URL returns the address of the page: "http://127.0.0.1:8080/".
func (s *Server) URL() string { return "http://" + s.ln.Addr().String() + "/" }

// Close stops the dashboard (ending the browsers' event streams), then
// the HTTP server, and waits for both. It is idempotent.
func (s *Server) Close() error {
	s.closeOnce.Do(func() {
		s.d.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.closeErr = s.srv.Shutdown(ctx) // the streams have ended: every connection goes idle
		if err := <-s.served; !errors.Is(err, http.ErrServerClosed) && s.closeErr == nil {
			s.closeErr = err
		}
	})
	return s.closeErr
}
