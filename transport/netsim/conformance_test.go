package netsim_test

import (
	"context"
	"testing"
	"time"

	"github.com/distsys-kit/distsys/transport"
	"github.com/distsys-kit/distsys/transport/netsim"
	"github.com/distsys-kit/distsys/transport/transporttest"
)

const testMax = 1 << 20

func TestConnConformance(t *testing.T) {
	t.Parallel()
	transporttest.TestConn(t, transporttest.ConnConfig{
		MakePipe: func(t *testing.T) (a, b transport.Conn) {
			n := newNetwork(t, 1, netsim.WithMaxMessageSize(testMax))
			return pipe(t, n, "a", "b")
		},
		MaxMessageSize: testMax,
	})
}

// A conn to itself (a node dialing its own listener) is a conn like any
// other.
func TestConnConformanceLoopback(t *testing.T) {
	t.Parallel()
	transporttest.TestConn(t, transporttest.ConnConfig{
		MakePipe: func(t *testing.T) (a, b transport.Conn) {
			n := newNetwork(t, 1, netsim.WithMaxMessageSize(testMax))
			return pipe(t, n, "a", "a")
		},
		MaxMessageSize: testMax,
	})
}

// A link with a fixed delay is slower but keeps every promise of the suite.
func TestConnConformanceWithDelay(t *testing.T) {
	t.Parallel()
	transporttest.TestConn(t, transporttest.ConnConfig{
		MakePipe: func(t *testing.T) (a, b transport.Conn) {
			n := newNetwork(t, 1, netsim.WithMaxMessageSize(testMax))
			if err := n.SetDefaultFaults(transport.Faults{Delay: 50 * time.Microsecond}); err != nil {
				t.Fatal(err)
			}
			return pipe(t, n, "a", "b")
		},
		MaxMessageSize: testMax,
	})
}

func TestListenerConformance(t *testing.T) {
	t.Parallel()
	transporttest.TestListener(t, transporttest.ListenerConfig{
		Listen: func(t *testing.T) (transport.Listener, func(context.Context) (transport.Conn, error)) {
			n := newNetwork(t, 1)
			l, err := n.Listen("server")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { l.Close() })
			return l, func(ctx context.Context) (transport.Conn, error) { return n.Dial(ctx, "client", "server") }
		},
	})
}
