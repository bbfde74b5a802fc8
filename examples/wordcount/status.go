package main

import (
	"errors"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/distsys-kit/distsys/mapreduce"
)

// statusPage serves the coordinator's status page (Coordinator.Handler)
// for -http ADDR: the phase, the workers, every task and its attempts,
// refreshed every two seconds while the job runs. Before the coordinator
// exists it answers 503.
type statusPage struct {
	addr string
	srv  *http.Server
	done chan struct{} // closed when Serve returns

	mu sync.Mutex // protects c
	c  *mapreduce.Coordinator
}

// serveStatus starts serving the page on addr; with addr empty it does
// nothing and returns nil, whose methods do nothing either.
func serveStatus(addr string) (*statusPage, error) {
	if addr == "" {
		return nil, nil
	}
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, errors.New("-http: " + err.Error())
	}
	p := &statusPage{addr: l.Addr().String(), done: make(chan struct{})}
	p.srv = &http.Server{Handler: p, ReadHeaderTimeout: 10 * time.Second}
	go func() { // exits when close closes the server
		defer close(p.done)
		_ = p.srv.Serve(l)
	}()
	return p, nil
}

// ServeHTTP serves the coordinator's page.
func (p *statusPage) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	p.mu.Lock()
	c := p.c
	p.mu.Unlock()
	if c == nil {
		http.Error(w, "the job has not started yet", http.StatusServiceUnavailable)
		return
	}
	c.Handler().ServeHTTP(w, r)
}

// set gives the page its coordinator.
func (p *statusPage) set(c *mapreduce.Coordinator) {
	if p == nil {
		return
	}
	p.mu.Lock()
	p.c = c
	p.mu.Unlock()
}

// close stops the server and waits for it.
func (p *statusPage) close() {
	if p == nil {
		return
	}
	p.srv.Close()
	<-p.done
}
