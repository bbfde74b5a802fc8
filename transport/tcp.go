package transport

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
)

// DialTCP connects to the TCP address addr ("host:port") and returns a
// message Conn framing the stream (see NewConn). With WithTLS, it speaks TLS
// and completes the handshake before returning. It blocks until connected or
// ctx ends.
func DialTCP(ctx context.Context, addr string, opts ...Option) (Conn, error) {
	o := newOptions(opts)
	var (
		nc  net.Conn
		err error
	)
	if o.tls != nil {
		d := tls.Dialer{Config: o.tls}
		nc, err = d.DialContext(ctx, "tcp", addr)
	} else {
		var d net.Dialer
		nc, err = d.DialContext(ctx, "tcp", addr)
	}
	if err != nil {
		return nil, fmt.Errorf("transport: dial %s: %w", addr, err)
	}
	return NewConn(nc, opts...), nil
}

// NewTCPDialer returns a Dialer that calls DialTCP with opts.
func NewTCPDialer(opts ...Option) Dialer {
	return DialerFunc(func(ctx context.Context, addr string) (Conn, error) {
		return DialTCP(ctx, addr, opts...)
	})
}

// ListenTCP listens on the TCP address addr ("127.0.0.1:0" picks a free
// port; Addr tells which). Accepted connections are framed by NewConn with
// opts. With WithTLS, they speak TLS; the handshake runs on the first Send or
// Recv, so a slow client cannot stall Accept.
func ListenTCP(addr string, opts ...Option) (Listener, error) {
	l, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("transport: listen %s: %w", addr, err)
	}
	o := newOptions(opts)
	tl := &tcpListener{
		tcp:     l.(*net.TCPListener),
		l:       l,
		opts:    opts,
		alock:   make(chan struct{}, 1),
		closing: make(chan struct{}),
	}
	if o.tls != nil {
		tl.l = tls.NewListener(l, o.tls)
	}
	return tl, nil
}

var _ Listener = (*tcpListener)(nil)

type tcpListener struct {
	tcp  *net.TCPListener // for deadlines, which interrupt Accept
	l    net.Listener     // tcp itself, or a TLS listener over it
	opts []Option

	alock     chan struct{} // held by the Accept in progress
	closing   chan struct{}
	closeOnce sync.Once
}

func (l *tcpListener) Addr() net.Addr { return l.l.Addr() }

func (l *tcpListener) Accept(ctx context.Context) (Conn, error) {
	select {
	case l.alock <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-l.closing:
		return nil, ErrClosed
	}
	defer func() { <-l.alock }()
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	undo := interruptOn(ctx, l.tcp.SetDeadline)
	nc, err := l.l.Accept()
	undo()
	if err != nil {
		if isClosed(l.closing) {
			return nil, ErrClosed
		}
		if errors.Is(err, os.ErrDeadlineExceeded) && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("transport: accept: %w", err)
	}
	return NewConn(nc, l.opts...), nil
}

func (l *tcpListener) Close() error {
	var err error
	l.closeOnce.Do(func() {
		close(l.closing)
		err = l.l.Close()
	})
	return err
}
