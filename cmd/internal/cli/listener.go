package cli

import (
	"context"
	"sync"
	"sync/atomic"

	"github.com/distsys-kit/distsys/transport"
)

// CountingListener is a transport.Listener that counts the connections it
// accepts and those still open, for a status endpoint. It is safe for
// concurrent use by multiple goroutines.
type CountingListener struct {
	transport.Listener
	accepted, open atomic.Int64
}

// NewCountingListener wraps l.
func NewCountingListener(l transport.Listener) *CountingListener {
	return &CountingListener{Listener: l}
}

// Accept accepts a connection from the wrapped listener and counts it
// until it is closed.
func (l *CountingListener) Accept(ctx context.Context) (transport.Conn, error) {
	c, err := l.Listener.Accept(ctx)
	if err != nil {
		return nil, err
	}
	l.accepted.Add(1)
	l.open.Add(1)
	return &countedConn{Conn: c, l: l}, nil
}

// Accepted returns how many connections the listener has accepted.
func (l *CountingListener) Accepted() int64 { return l.accepted.Load() }

// Open returns how many of them are not closed yet.
func (l *CountingListener) Open() int64 { return l.open.Load() }

type countedConn struct {
	transport.Conn
	l    *CountingListener
	once sync.Once
}

func (c *countedConn) Close() error {
	c.once.Do(func() { c.l.open.Add(-1) })
	return c.Conn.Close()
}
