package transport

import (
	"context"
	"net"
	"sync"
)

// NewFaultyListener wraps l so that every accepted connection is a
// FaultyConn applying f to what the server sends. The n-th accepted
// connection (counting from 0) uses the seed f.Seed+n, so each has its own
// reproducible schedule. It returns an error matching ErrInvalidFaults if f
// is not valid.
func NewFaultyListener(l Listener, f Faults) (Listener, error) {
	if err := f.Validate(); err != nil {
		return nil, err
	}
	return &faultyListener{Listener: l, faults: f}, nil
}

type faultyListener struct {
	Listener
	faults Faults

	mu sync.Mutex // protects n
	n  int64
}

func (l *faultyListener) Accept(ctx context.Context) (Conn, error) {
	c, err := l.Listener.Accept(ctx)
	if err != nil {
		return nil, err
	}
	l.mu.Lock()
	f := l.faults
	f.Seed += l.n
	l.n++
	l.mu.Unlock()
	fc, err := NewFaultyConn(c, f) // f was validated by NewFaultyListener
	if err != nil {
		_ = c.Close()
		return nil, err
	}
	return fc, nil
}

// Addr returns the wrapped listener's address.
func (l *faultyListener) Addr() net.Addr { return l.Listener.Addr() }
