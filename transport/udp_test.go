package transport_test

import (
	"context"
	"net"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/transport"
)

func TestEndpointExchangesDatagrams(t *testing.T) {
	ctx := context.Background()
	a, err := transport.ListenUDP("127.0.0.1:0")
	require.NoError(t, err)
	defer a.Close()
	b, err := transport.ListenUDP("127.0.0.1:0")
	require.NoError(t, err)
	defer b.Close()

	require.NoError(t, a.SendTo(ctx, []byte("ping"), b.LocalAddr()))
	msg, from, err := b.RecvFrom(ctx)
	require.NoError(t, err)
	assert.Equal(t, "ping", string(msg))
	assert.Equal(t, a.LocalAddr().String(), from.String())

	big := make([]byte, transport.MaxDatagramSize)
	require.NoError(t, b.SendTo(ctx, big, from))
	msg, _, err = a.RecvFrom(ctx)
	require.NoError(t, err)
	assert.Len(t, msg, transport.MaxDatagramSize)
}

func TestEndpointRefusesOversizedDatagram(t *testing.T) {
	a, err := transport.ListenUDP("127.0.0.1:0")
	require.NoError(t, err)
	defer a.Close()
	err = a.SendTo(context.Background(), make([]byte, transport.MaxDatagramSize+1), a.LocalAddr())
	require.ErrorIs(t, err, transport.ErrMessageTooLarge)
}

func TestEndpointRecvFromHonoursContextAndClose(t *testing.T) {
	a, err := transport.ListenUDP("127.0.0.1:0")
	require.NoError(t, err)

	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, _, err := a.RecvFrom(ctx)
		errc <- err
	}()
	cancel()
	require.ErrorIs(t, <-errc, context.Canceled)

	// After a cancelled RecvFrom the endpoint still receives.
	require.NoError(t, a.SendTo(context.Background(), []byte("still here"), a.LocalAddr()))
	msg, _, err := a.RecvFrom(context.Background())
	require.NoError(t, err)
	assert.Equal(t, "still here", string(msg))

	go func() {
		_, _, err := a.RecvFrom(context.Background())
		errc <- err
	}()
	require.NoError(t, a.Close())
	err = <-errc
	require.ErrorIs(t, err, transport.ErrClosed)
	require.ErrorIs(t, err, net.ErrClosed)
	require.NoError(t, a.Close(), "Close is idempotent")
	require.ErrorIs(t, a.SendTo(context.Background(), []byte("x"), a.LocalAddr()), transport.ErrClosed)
}
