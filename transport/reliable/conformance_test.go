package reliable_test

import (
	"context"
	"net"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/transport"
	"github.com/distsys-kit/distsys/transport/reliable"
	"github.com/distsys-kit/distsys/transport/transporttest"
)

// udpPipe connects a dialer and an accepted conn over loopback UDP,
// through fault wrappers when faults is not zero.
func udpPipe(t *testing.T, cfg reliable.Config, faults transport.Faults) (a, b transport.Conn) {
	t.Helper()
	ctx := context.Background()
	l, err := reliable.ListenPacket(faultyUDP(t, faults, 1), cfg)
	require.NoError(t, err)
	defer l.Close()
	type result struct {
		c   transport.Conn
		err error
	}
	accepted := make(chan result, 1)
	go func() {
		c, err := l.Accept(ctx)
		accepted <- result{c, err}
	}()
	a, err = reliable.DialPacket(ctx, faultyUDP(t, faults, 2), l.Addr(), cfg)
	require.NoError(t, err)
	r := <-accepted
	require.NoError(t, r.err)
	t.Cleanup(func() { a.Close(); r.c.Close() })
	return a, r.c
}

// faultyUDP opens a loopback UDP socket whose writes meet faults (seeded
// with faults.Seed+salt), or a plain one if faults is zero.
func faultyUDP(t testing.TB, faults transport.Faults, salt int64) net.PacketConn {
	t.Helper()
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	require.NoError(t, err)
	// No buffer sizes to set: the package enlarges the kernel buffers
	// itself, through the fault wrapper too.
	if faults.IsZero() {
		return pc
	}
	faults.Seed += salt
	fp, err := transport.NewFaultyPacketConn(pc, faults)
	require.NoError(t, err)
	return fp
}

// segmentBoundaries are the message sizes where a message needs one more
// segment: around one, two and three segments.
var segmentBoundaries = []int{
	reliable.SegmentSize - 1, reliable.SegmentSize, reliable.SegmentSize + 1,
	2*reliable.SegmentSize - 1, 2 * reliable.SegmentSize, 2*reliable.SegmentSize + 1,
	3 * reliable.SegmentSize,
}

func TestConnConformance(t *testing.T) {
	tests := []struct {
		name   string
		cfg    reliable.Config
		faults transport.Faults
	}{
		{"UDP", reliable.Config{}, transport.Faults{}},
		{"UDPSmallPackets", reliable.Config{PacketSize: 1400, MaxMessageSize: 1 << 20}, transport.Faults{}},
		{"UDPFixedWindow", reliable.Config{FixedWindow: true, MaxMessageSize: 1 << 20}, transport.Faults{}},
		{"UDPWithFaults", reliable.Config{MaxMessageSize: 1 << 20}, transport.Faults{
			Drop: 0.05, Duplicate: 0.05, Reorder: 0.05, Corrupt: 0.02, Truncate: 0.02, Seed: 7,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			max := tt.cfg.MaxMessageSize
			if max == 0 {
				max = reliable.DefaultMaxMessageSize
			}
			transporttest.TestConn(t, transporttest.ConnConfig{
				MakePipe:       func(t *testing.T) (a, b transport.Conn) { return udpPipe(t, tt.cfg, tt.faults) },
				MaxMessageSize: max,
				BoundarySizes:  segmentBoundaries,
			})
		})
	}
}

func TestListenerConformance(t *testing.T) {
	transporttest.TestListener(t, transporttest.ListenerConfig{
		Listen: func(t *testing.T) (transport.Listener, func(context.Context) (transport.Conn, error)) {
			l, err := reliable.Listen("127.0.0.1:0", reliable.Config{})
			require.NoError(t, err)
			t.Cleanup(func() { l.Close() })
			d := reliable.NewDialer(reliable.Config{})
			return l, func(ctx context.Context) (transport.Conn, error) {
				return d.Dial(ctx, l.Addr().String())
			}
		},
	})
}
