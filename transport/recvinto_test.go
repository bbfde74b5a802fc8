package transport_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/transport"
)

// A stream conn receives into the caller's buffer when the message fits,
// small or large, and into new memory when it does not.
func TestRecvIntoUsesTheCallersMemoryWhenItFits(t *testing.T) {
	a, b := netPipe(t)
	ctx := context.Background()
	small, large := []byte("small"), make([]byte, 300_000)
	go func() {
		for _, m := range [][]byte{small, large, large} {
			if err := a.Send(ctx, m); err != nil {
				t.Errorf("send: %v", err)
			}
		}
	}()
	buf := make([]byte, 0, 400_000)
	got, err := transport.RecvInto(ctx, b, buf)
	require.NoError(t, err)
	assert.Equal(t, small, got)
	assert.Same(t, &buf[:1][0], &got[0], "a small message in buf")

	got, err = transport.RecvInto(ctx, b, buf)
	require.NoError(t, err)
	assert.Equal(t, large, got)
	assert.Same(t, &buf[:1][0], &got[0], "a large message, assembled in pieces, in buf")

	tiny := make([]byte, 0, 10)
	got, err = transport.RecvInto(ctx, b, tiny)
	require.NoError(t, err)
	assert.Equal(t, large, got)
	assert.NotSame(t, &tiny[:1][0], &got[0], "too large for tiny: new memory")
}
