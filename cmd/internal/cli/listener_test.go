package cli

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/transport"
)

func TestCountingListenerCountsOpenConns(t *testing.T) {
	tl, err := transport.ListenTCP("127.0.0.1:0")
	require.NoError(t, err)
	l := NewCountingListener(tl)
	defer l.Close()
	ctx := context.Background()

	var clients []transport.Conn
	for range 2 {
		c, err := transport.DialTCP(ctx, l.Addr().String())
		require.NoError(t, err)
		defer c.Close()
		clients = append(clients, c)
	}
	a, err := l.Accept(ctx)
	require.NoError(t, err)
	b, err := l.Accept(ctx)
	require.NoError(t, err)
	assert.Equal(t, int64(2), l.Accepted())
	assert.Equal(t, int64(2), l.Open())

	require.NoError(t, a.Close())
	require.NoError(t, a.Close(), "a second Close counts nothing")
	assert.Equal(t, int64(1), l.Open())
	require.NoError(t, b.Close())
	assert.Equal(t, int64(0), l.Open())
	assert.Equal(t, int64(2), l.Accepted())
	for _, c := range clients {
		require.NoError(t, c.Close())
	}
}
