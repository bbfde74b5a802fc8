package reliable_test

import (
	"io"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/transport"
	"github.com/distsys-kit/distsys/transport/reliable"
)

// A little latency, so that round trips take time as on a real network.
var slowLink = transport.Faults{Delay: time.Millisecond}

func TestPeerLostWithinStatedBound(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := t.Context()
		n := newMemNet()
		client, server := memPipe(t, n, reliable.Config{Seed: 1}, slowLink)
		// Traffic right up to the crash, so the last packet heard is fresh.
		require.NoError(t, client.Send(ctx, []byte("ping")))
		_, err := server.Recv(ctx)
		require.NoError(t, err)
		time.Sleep(10 * time.Millisecond) // virtual: the last ACK lands

		crashed := time.Now()
		n.crash("server")
		_, err = client.Recv(ctx)
		require.ErrorIs(t, err, reliable.ErrPeerLost)
		took := time.Since(crashed)

		// The documented bound: between EpochLimit and EpochLimit+1
		// epochs after the last packet heard (at most 10 ms before the
		// crash).
		limit, epoch := time.Duration(reliable.DefaultEpochLimit), reliable.DefaultEpochLength
		assert.GreaterOrEqual(t, took, limit*epoch-10*time.Millisecond)
		assert.LessOrEqual(t, took, (limit+1)*epoch)
		require.ErrorIs(t, client.Send(ctx, []byte("anyone?")), reliable.ErrPeerLost)
		require.NoError(t, client.Close(), "everything sent was acknowledged before the crash")
	})
}

func TestDialWithoutListenerGivesUpAfterEpochLimit(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := newMemNet()
		cfg := reliable.Config{EpochLength: 100 * time.Millisecond, EpochLimit: 3, Seed: 1}
		start := time.Now()
		_, err := reliable.DialPacket(t.Context(), n.listen(t, "client"), memAddr("nobody"), cfg)
		require.ErrorIs(t, err, reliable.ErrPeerLost)
		assert.Equal(t, 300*time.Millisecond, time.Since(start), "three silent epochs")
	})
}

func TestIdleConnectionKeptAliveByHeartbeats(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := t.Context()
		lossy := transport.Faults{Drop: 0.2, Delay: time.Millisecond, Seed: 3}
		client, server := memPipe(t, newMemNet(), reliable.Config{Seed: 1}, lossy)
		time.Sleep(time.Minute) // virtual: 120 epochs without a message
		require.NoError(t, client.Send(ctx, []byte("still there?")))
		got, err := server.Recv(ctx)
		require.NoError(t, err)
		assert.Equal(t, "still there?", string(got))
		assert.Positive(t, client.Stats().PacketsSent, "heartbeats")
	})
}

func TestCloseFlushesPendingMessages(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := t.Context()
		client, server := memPipe(t, newMemNet(), reliable.Config{Seed: 1}, badNetwork)
		const n = 2000
		for i := range n {
			require.NoError(t, client.Send(ctx, payload(1, i)))
		}
		// Close returns once the server has everything, though it has not
		// read a single message yet.
		require.NoError(t, client.Close())
		assert.Equal(t, int64(n), server.Stats().MessagesReceived)

		for i := range n {
			got, err := server.Recv(ctx)
			require.NoError(t, err)
			require.Equal(t, payload(1, i), got, "message %d", i)
		}
		_, err := server.Recv(ctx)
		require.ErrorIs(t, err, io.EOF)
		require.ErrorIs(t, server.Send(ctx, []byte("late")), reliable.ErrPeerClosed)
		require.NoError(t, server.Close())
	})
}

func TestCloseGivesUpAfterLinger(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := t.Context()
		n := newMemNet()
		client, _ := memPipe(t, n, reliable.Config{Linger: 300 * time.Millisecond, Seed: 1}, slowLink)
		n.crash("server") // nobody will acknowledge
		require.NoError(t, client.Send(ctx, []byte("into the void")))
		start := time.Now()
		require.NoError(t, client.Close(), "a linger that runs out is not an error")
		assert.Equal(t, 300*time.Millisecond, time.Since(start))
	})
}

func TestRestartedPeerIsANewConnection(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := t.Context()
		n := newMemNet()
		l, err := reliable.ListenPacket(n.listen(t, "server"), reliable.Config{Seed: 1})
		require.NoError(t, err)
		defer l.Close()

		old, err := reliable.DialPacket(ctx, n.listen(t, "client"), memAddr("server"), reliable.Config{Seed: 2})
		require.NoError(t, err)
		defer old.Close()
		oldServer, err := l.Accept(ctx)
		require.NoError(t, err)
		defer oldServer.Close()
		require.NoError(t, old.Send(ctx, []byte("from the first run")))
		got, err := oldServer.Recv(ctx)
		require.NoError(t, err)
		require.Equal(t, "from the first run", string(got))

		// The client's machine dies without a goodbye, and the program
		// starts again on the same address, with a new nonce.
		n.crash("client")
		fresh, err := reliable.DialPacket(ctx, n.listen(t, "client"), memAddr("server"), reliable.Config{Seed: 3})
		require.NoError(t, err)
		defer fresh.Close()
		newServer, err := l.Accept(ctx)
		require.NoError(t, err)
		defer newServer.Close()
		require.NotSame(t, oldServer, newServer, "a restarted client gets a new connection")

		require.NoError(t, fresh.Send(ctx, []byte("from the second run")))
		got, err = newServer.Recv(ctx)
		require.NoError(t, err)
		assert.Equal(t, "from the second run", string(got))

		// The old connection is not confused with the new one: what it
		// sends reaches a socket that does not know its connection ID,
		// which answers RESET (perhaps already, to its last ACK).
		if err := oldServer.Send(ctx, []byte("are you there?")); err != nil {
			require.ErrorIs(t, err, reliable.ErrPeerReset)
		}
		_, err = oldServer.Recv(ctx)
		require.ErrorIs(t, err, reliable.ErrPeerReset)

		// And the new connection is untouched.
		require.NoError(t, newServer.Send(ctx, []byte("welcome back")))
		got, err = fresh.Recv(ctx)
		require.NoError(t, err)
		assert.Equal(t, "welcome back", string(got))
	})
}

func TestListenerCloseResetsUnacceptedAndKeepsAccepted(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := t.Context()
		n := newMemNet()
		l, err := reliable.ListenPacket(n.faulty(t, "server", slowLink), reliable.Config{Seed: 1})
		require.NoError(t, err)
		accepted, err := reliable.DialPacket(ctx, n.faulty(t, "a", slowLink), memAddr("server"), reliable.Config{Seed: 2})
		require.NoError(t, err)
		defer accepted.Close()
		sa, err := l.Accept(ctx)
		require.NoError(t, err)
		defer sa.Close()
		waiting, err := reliable.DialPacket(ctx, n.faulty(t, "b", slowLink), memAddr("server"), reliable.Config{Seed: 3})
		require.NoError(t, err)
		defer waiting.Close()

		require.NoError(t, l.Close())
		_, err = l.Accept(ctx)
		require.ErrorIs(t, err, transport.ErrClosed)

		// The dialer nobody accepted is told at once.
		_, err = waiting.Recv(ctx)
		require.ErrorIs(t, err, reliable.ErrPeerReset)
		// The accepted connection lives on, on the same socket.
		require.NoError(t, accepted.Send(ctx, []byte("still here")))
		got, err := sa.Recv(ctx)
		require.NoError(t, err)
		assert.Equal(t, "still here", string(got))
	})
}

func TestDialToAFullListenerRefusedAtOnce(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := t.Context()
		n := newMemNet()
		l, err := reliable.ListenPacket(n.faulty(t, "server", slowLink), reliable.Config{MaxConnections: 1, Seed: 1})
		require.NoError(t, err)
		defer l.Close()
		first, err := reliable.DialPacket(ctx, n.faulty(t, "a", slowLink), memAddr("server"), reliable.Config{Seed: 2})
		require.NoError(t, err)
		defer first.Close()

		start := time.Now()
		_, err = reliable.DialPacket(ctx, n.faulty(t, "b", slowLink), memAddr("server"), reliable.Config{Seed: 3})
		require.ErrorIs(t, err, reliable.ErrRefused)
		assert.Equal(t, 2*time.Millisecond, time.Since(start), "one round trip, not the epochs of a silent listener")

		// The connection that fits is not disturbed.
		sa, err := l.Accept(ctx)
		require.NoError(t, err)
		defer sa.Close()
		require.NoError(t, first.Send(ctx, []byte("still here")))
		got, err := sa.Recv(ctx)
		require.NoError(t, err)
		assert.Equal(t, "still here", string(got))
	})
}

func TestInvalidConfigRefused(t *testing.T) {
	tests := []struct {
		name string
		give reliable.Config
	}{
		{"NegativeEpochLength", reliable.Config{EpochLength: -1}},
		{"NegativeEpochLimit", reliable.Config{EpochLimit: -1}},
		{"NegativeWindow", reliable.Config{WindowSize: -1}},
		{"NegativeMaxUnacked", reliable.Config{MaxUnackedMessages: -1}},
		{"NegativeBackOff", reliable.Config{MaxBackOffInterval: -1}},
		{"NegativeMaxMessage", reliable.Config{MaxMessageSize: -1}},
		{"TinyPacket", reliable.Config{PacketSize: reliable.MinPacketSize - 1}},
		{"HugePacket", reliable.Config{PacketSize: transport.MaxDatagramSize + 1}},
		{"NegativeMaxConnections", reliable.Config{MaxConnections: -1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := reliable.Listen("127.0.0.1:0", tt.give)
			require.ErrorIs(t, err, reliable.ErrInvalidConfig)
			_, err = reliable.Dial(t.Context(), "127.0.0.1:9", tt.give)
			require.ErrorIs(t, err, reliable.ErrInvalidConfig)
		})
	}
}
