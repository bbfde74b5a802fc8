package transport_test

import (
	"context"
	"crypto/tls"
	"net"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/devcert"
	"github.com/distsys-kit/distsys/transport"
	"github.com/distsys-kit/distsys/transport/transporttest"
)

const testMax = 1 << 20

// tcpPipe connects two framed TCP conns over loopback.
func tcpPipe(t *testing.T, serverTLS, clientTLS *tls.Config) (a, b transport.Conn) {
	t.Helper()
	var lopts, dopts []transport.Option
	lopts = append(lopts, transport.WithMaxMessageSize(testMax))
	dopts = append(dopts, transport.WithMaxMessageSize(testMax))
	if serverTLS != nil {
		lopts = append(lopts, transport.WithTLS(serverTLS))
		dopts = append(dopts, transport.WithTLS(clientTLS))
	}
	l, err := transport.ListenTCP("127.0.0.1:0", lopts...)
	require.NoError(t, err)
	defer l.Close()
	type result struct {
		c   transport.Conn
		err error
	}
	accepted := make(chan result, 1)
	go func() {
		c, err := l.Accept(context.Background())
		accepted <- result{c, err}
	}()
	a, err = transport.DialTCP(context.Background(), l.Addr().String(), dopts...)
	require.NoError(t, err)
	r := <-accepted
	require.NoError(t, r.err)
	t.Cleanup(func() { a.Close(); r.c.Close() })
	return a, r.c
}

func netPipe(t *testing.T) (a, b transport.Conn) {
	x, y := net.Pipe()
	a = transport.NewConn(x, transport.WithMaxMessageSize(testMax))
	b = transport.NewConn(y, transport.WithMaxMessageSize(testMax))
	t.Cleanup(func() { a.Close(); b.Close() })
	return a, b
}

func certs(t *testing.T) *devcert.Set {
	t.Helper()
	s, err := devcert.New()
	require.NoError(t, err)
	return s
}

func TestConnConformance(t *testing.T) {
	set := certs(t)
	tests := []struct {
		name string
		pipe func(*testing.T) (a, b transport.Conn)
	}{
		{"TCP", func(t *testing.T) (a, b transport.Conn) { return tcpPipe(t, nil, nil) }},
		{"TLS", func(t *testing.T) (a, b transport.Conn) { return tcpPipe(t, set.Server, set.Client) }},
		{"MutualTLS", func(t *testing.T) (a, b transport.Conn) { return tcpPipe(t, set.MutualServer, set.MutualClient) }},
		{"NetPipe", netPipe},
		{"FaultyConnWithoutFaults", func(t *testing.T) (a, b transport.Conn) {
			x, y := netPipe(t)
			fx, err := transport.NewFaultyConn(x, transport.Faults{Seed: 1})
			require.NoError(t, err)
			fy, err := transport.NewFaultyConn(y, transport.Faults{Seed: 2})
			require.NoError(t, err)
			t.Cleanup(func() { fx.Close(); fy.Close() })
			return fx, fy
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			transporttest.TestConn(t, transporttest.ConnConfig{MakePipe: tt.pipe, MaxMessageSize: testMax})
		})
	}
}

func TestListenerConformance(t *testing.T) {
	set := certs(t)
	listen := func(serverTLS, clientTLS *tls.Config) func(t *testing.T) (transport.Listener, func(context.Context) (transport.Conn, error)) {
		return func(t *testing.T) (transport.Listener, func(context.Context) (transport.Conn, error)) {
			var lopts, dopts []transport.Option
			if serverTLS != nil {
				lopts = append(lopts, transport.WithTLS(serverTLS))
				dopts = append(dopts, transport.WithTLS(clientTLS))
			}
			l, err := transport.ListenTCP("127.0.0.1:0", lopts...)
			require.NoError(t, err)
			t.Cleanup(func() { l.Close() })
			return l, func(ctx context.Context) (transport.Conn, error) {
				return transport.DialTCP(ctx, l.Addr().String(), dopts...)
			}
		}
	}
	tests := []struct {
		name   string
		listen func(t *testing.T) (transport.Listener, func(context.Context) (transport.Conn, error))
	}{
		{"TCP", listen(nil, nil)},
		{"TLS", listen(set.Server, set.Client)},
		{"FaultyListenerWithoutFaults", func(t *testing.T) (transport.Listener, func(context.Context) (transport.Conn, error)) {
			inner, dial := listen(nil, nil)(t)
			l, err := transport.NewFaultyListener(inner, transport.Faults{})
			require.NoError(t, err)
			return l, dial
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			transporttest.TestListener(t, transporttest.ListenerConfig{Listen: tt.listen})
		})
	}
}
