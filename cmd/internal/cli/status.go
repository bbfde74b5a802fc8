package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
)

// Status is what every program's JSON status starts with. Programs embed
// it in a struct of their own that adds their counts; encoding/json puts
// the fields of both at the same level.
type Status struct {
	Program string    `json:"program"`
	Addr    string    `json:"addr"` // where it serves
	TLS     bool      `json:"tls"`
	Start   time.Time `json:"start"`
	// Uptime is how long the program has run, in seconds.
	Uptime float64 `json:"uptime_seconds"`
	Peers  []Peer  `json:"peers,omitempty"` // the cluster file's, if any
}

// Up returns s with Uptime set for now.
func (s Status) Up(now time.Time) Status {
	s.Uptime = now.Sub(s.Start).Seconds()
	return s
}

// JSONHandler serves the value snapshot returns, as indented JSON, on GET
// /status; other paths get 404, other methods 405.
func JSONHandler(snapshot func() any) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /status", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(snapshot()) // a failed write means the client left
	})
	return mux
}

// HTTPServer is the status endpoint of a program: an http.Server on its
// own listener, with the timeouts a server facing a network needs.
type HTTPServer struct {
	hs   *http.Server
	addr net.Addr
	done chan struct{} // closed when Serve returns
}

// StartHTTP serves h on addr in a goroutine of its own, until Shutdown.
func StartHTTP(addr string, h http.Handler) (*HTTPServer, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("status endpoint: %w", err)
	}
	s := &HTTPServer{
		hs: &http.Server{
			Handler:           h,
			ReadHeaderTimeout: 5 * time.Second,
			ReadTimeout:       10 * time.Second,
			WriteTimeout:      10 * time.Second,
			IdleTimeout:       time.Minute,
			MaxHeaderBytes:    16 << 10,
		},
		addr: l.Addr(),
		done: make(chan struct{}),
	}
	go func() { // exits when s.hs is shut down or closed
		defer close(s.done)
		_ = s.hs.Serve(l)
	}()
	return s, nil
}

// Addr returns the address the endpoint listens on.
func (s *HTTPServer) Addr() net.Addr { return s.addr }

// Shutdown stops the endpoint: it lets the requests in progress finish
// until ctx ends, then closes what is left, and returns once the serving
// goroutine has exited. It returns ctx's error if it had to cut requests
// short.
func (s *HTTPServer) Shutdown(ctx context.Context) error {
	err := s.hs.Shutdown(ctx)
	if err != nil {
		_ = s.hs.Close()
	}
	<-s.done
	if errors.Is(err, http.ErrServerClosed) {
		err = nil
	}
	return err
}
