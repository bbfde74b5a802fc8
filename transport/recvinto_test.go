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

// Small messages that Recv returns share memory (a slab), but each is the
// caller's own: writing into one, or appending to it, leaves the others
// as they were.
func TestRecvMessagesAreTheCallersOwn(t *testing.T) {
	a, b := netPipe(t)
	ctx := context.Background()
	const n = 200 // several slabs' worth
	go func() {
		for i := range n {
			if err := a.Send(ctx, []byte{byte(i), byte(i)}); err != nil {
				t.Errorf("send: %v", err)
			}
		}
	}()
	var got [][]byte
	for range n {
		msg, err := b.Recv(ctx)
		require.NoError(t, err)
		require.Len(t, msg, 2)
		got = append(got, msg)
		if len(got) > 1 {
			prev := got[len(got)-2]
			prev[1] = 0xff                           // write into the previous message
			_ = append(prev, 0xee, 0xee, 0xee, 0xee) // and append to it
		}
	}
	for i, msg := range got {
		assert.Equal(t, byte(i), msg[0], "message %d", i)
		if i < n-1 {
			assert.Equal(t, byte(0xff), msg[1], "message %d", i)
		}
	}
	assert.Equal(t, byte(n-1), got[n-1][1], "the last message, written by no one")
}
