package transporttest

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/transport"
)

// ListenerConfig describes the listener implementation under test.
type ListenerConfig struct {
	// Listen returns a fresh listener and a function that dials it. It
	// registers the listener's cleanup with t; the suite closes the conns.
	Listen func(t *testing.T) (l transport.Listener, dial func(ctx context.Context) (transport.Conn, error))
}

// TestListener runs the conformance suite for listeners.
func TestListener(t *testing.T, cfg ListenerConfig) {
	t.Helper()
	tests := []struct {
		name string
		run  func(*testing.T, ListenerConfig)
	}{
		{"DialAndAcceptExchangeMessages", testDialAccept},
		{"ManyDialsAllAccepted", testManyDials},
		{"AcceptCancelledByContext", testAcceptCancel},
		{"CloseUnblocksAccept", testCloseUnblocksAccept},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.run(t, cfg)
		})
	}
}

func acceptAsync(ctx context.Context, l transport.Listener) <-chan acceptResult {
	ch := make(chan acceptResult, 1)
	go func() {
		c, err := l.Accept(ctx)
		ch <- acceptResult{c, err}
	}()
	return ch
}

type acceptResult struct {
	c   transport.Conn
	err error
}

func testDialAccept(t *testing.T, cfg ListenerConfig) {
	ctx := testContext(t)
	l, dial := cfg.Listen(t)
	require.NotNil(t, l.Addr())
	accepted := acceptAsync(ctx, l)
	client, err := dial(ctx)
	require.NoError(t, err)
	defer client.Close()
	res := <-accepted
	require.NoError(t, res.err)
	server := res.c
	defer server.Close()

	require.NoError(t, client.Send(ctx, []byte("ping")))
	got, err := server.Recv(ctx)
	require.NoError(t, err)
	assert.Equal(t, "ping", string(got))
	require.NoError(t, server.Send(ctx, []byte("pong")))
	got, err = client.Recv(ctx)
	require.NoError(t, err)
	assert.Equal(t, "pong", string(got))
}

func testManyDials(t *testing.T, cfg ListenerConfig) {
	ctx := testContext(t)
	l, dial := cfg.Listen(t)
	const n = 10
	clients := make(chan transport.Conn, n)
	for range n {
		go func() {
			c, err := dial(ctx)
			if err != nil {
				t.Errorf("dial: %v", err)
				clients <- nil
				return
			}
			clients <- c
		}()
	}
	var servers []transport.Conn
	for i := range n {
		c, err := l.Accept(ctx)
		require.NoError(t, err, "accept %d", i)
		servers = append(servers, c)
	}
	// Close only after every dial has returned: a server that hangs up at
	// once may fail a dial that still has a handshake to finish (TLS).
	for range n {
		if c := <-clients; c != nil {
			require.NoError(t, c.Close())
		}
	}
	for _, c := range servers {
		require.NoError(t, c.Close())
	}
}

func testAcceptCancel(t *testing.T, cfg ListenerConfig) {
	ctx := testContext(t)
	l, dial := cfg.Listen(t)
	actx, cancel := context.WithCancel(ctx)
	accepted := acceptAsync(actx, l)
	cancel()
	require.ErrorIs(t, (<-accepted).err, context.Canceled)

	// The listener still works after a cancelled Accept.
	accepted = acceptAsync(ctx, l)
	client, err := dial(ctx)
	require.NoError(t, err)
	defer client.Close()
	res := <-accepted
	require.NoError(t, res.err)
	require.NoError(t, res.c.Close())
}

func testCloseUnblocksAccept(t *testing.T, cfg ListenerConfig) {
	ctx := testContext(t)
	l, _ := cfg.Listen(t)
	accepted := acceptAsync(ctx, l)
	require.NoError(t, l.Close())
	requireClosedErr(t, (<-accepted).err)
	_, err := l.Accept(ctx)
	requireClosedErr(t, err)
	require.NoError(t, l.Close())
}
