package transport_test

import (
	"context"
	"net"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/transport"
)

// TestSendBlocksWhenTheSendBufferIsFull shows backpressure: a peer that
// does not read makes Send block once the buffer is full, and reading
// again releases it.
func TestSendBlocksWhenTheSendBufferIsFull(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		x, y := net.Pipe() // no buffering at all below us
		a := transport.NewConn(x, transport.WithSendBuffer(100))
		b := transport.NewConn(y)
		defer a.Close()
		defer b.Close()
		ctx := context.Background()
		msg := make([]byte, 60) // 64 bytes framed

		require.NoError(t, a.Send(ctx, msg)) // taken by the writer, which blocks in the pipe
		synctest.Wait()
		require.NoError(t, a.Send(ctx, msg)) // queued: 64 of 100 bytes
		short, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		require.ErrorIs(t, a.Send(short, msg), context.DeadlineExceeded, "a third would pass the bound")

		done := make(chan error, 1)
		go func() { done <- a.Send(ctx, msg) }()
		synctest.Wait()
		for range 3 { // the peer reads: the queue drains and the blocked Send goes through
			_, err := b.Recv(ctx)
			require.NoError(t, err)
		}
		require.NoError(t, <-done)
	})
}
