package transporttest

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/transport"
)

// safetyTimeout bounds every wait in the suite, so that a broken
// implementation fails the test instead of hanging it. Correct ones never
// come near it.
const safetyTimeout = 30 * time.Second

// ConnConfig describes the implementation under test.
type ConnConfig struct {
	// MakePipe returns two connected conns; what a sends, b receives, and
	// the other way round. It registers their cleanup with t.
	MakePipe func(t *testing.T) (a, b transport.Conn)
	// MaxMessageSize is the largest message the conns accept. The suite
	// sends one of this size and checks that one byte more is refused.
	MaxMessageSize int
	// BoundarySizes are message sizes at which the implementation changes
	// how it works (a segment size, a buffer size), beyond the ones the
	// suite always tries (see BufferBoundarySizes). Optional.
	BoundarySizes []int
}

// BufferBoundarySizes are the message sizes on either side of a 64 KiB
// read buffer holding a 4-byte length prefix: from 64 KiB - 4 - 1, the
// last size whose frame fits in the buffer with a byte to spare, to 64 KiB
// + 1. A reader that assembles messages larger than its buffer separately
// switches paths in this range, and an off-by-a-few error there makes some
// of these sizes hang or come out mangled while every other size works.
// The suite sends every one of them over every implementation.
var BufferBoundarySizes = func() []int {
	const buffer, header = 64 << 10, 4
	var sizes []int
	for n := buffer - header - 1; n <= buffer+1; n++ {
		sizes = append(sizes, n)
	}
	return sizes
}()

// TestConn runs the conformance suite for message conns.
func TestConn(t *testing.T, cfg ConnConfig) {
	t.Helper()
	tests := []struct {
		name string
		run  func(*testing.T, ConnConfig)
	}{
		{"MessagesArriveWholeAndInOrder", testWholeAndInOrder},
		{"MessagesAtSizeBoundariesArriveWhole", testBoundarySizes},
		{"RecvIntoKeepsEveryMessageWhole", testRecvInto},
		{"BothDirectionsAtOnce", testBothDirections},
		{"ConcurrentSendersKeepMessagesWhole", testConcurrentSenders},
		{"RecvCancelledByContextLosesNothing", testRecvCancel},
		{"RecvDeadline", testRecvDeadline},
		{"SendWithDoneContextFails", testSendDoneContext},
		{"CloseUnblocksRecv", testCloseUnblocksRecv},
		{"CloseUnblocksSend", testCloseUnblocksSend},
		{"CloseIsIdempotent", testCloseIdempotent},
		{"PeerCloseIsEOFAfterLastMessage", testPeerClose},
		{"OversizedMessageRefused", testOversize},
		{"Addresses", testAddrs},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.run(t, cfg)
		})
	}
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), safetyTimeout)
	t.Cleanup(cancel)
	return ctx
}

// message makes a distinctive payload of the given size: the 8-byte id
// repeated, so a message that is split, glued or mixed up is noticed.
func message(id uint64, size int) []byte {
	var word [8]byte
	binary.BigEndian.PutUint64(word[:], id)
	b := make([]byte, size)
	for i := range b {
		b[i] = word[i%8] ^ byte(i/8)
	}
	return b
}

func sizesUpTo(limit int) []int {
	sizes := []int{0, 1, 3, 4, 5, 100, 1000, 4096, 32 << 10, 32<<10 + 1, 100 << 10, 1 << 20}
	out := sizes[:0]
	for _, s := range sizes {
		if s <= limit {
			out = append(out, s)
		}
	}
	return out
}

func testWholeAndInOrder(t *testing.T, cfg ConnConfig) {
	ctx := testContext(t)
	a, b := cfg.MakePipe(t)
	sizes := sizesUpTo(cfg.MaxMessageSize)
	const rounds = 20

	errc := make(chan error, 1)
	go func() {
		for r := range rounds {
			for i, size := range sizes {
				if err := a.Send(ctx, message(uint64(r*len(sizes)+i), size)); err != nil {
					errc <- fmt.Errorf("send: %w", err)
					return
				}
			}
		}
		errc <- nil
	}()
	for r := range rounds {
		for i, size := range sizes {
			got, err := b.Recv(ctx)
			require.NoError(t, err)
			want := message(uint64(r*len(sizes)+i), size)
			require.True(t, bytes.Equal(got, want), "message %d: got %d bytes, want %d bytes of message %d", r*len(sizes)+i, len(got), size, r*len(sizes)+i)
		}
	}
	require.NoError(t, <-errc)
}

// testBoundarySizes sends a message of every boundary size, each after a
// short message of 0 to 3 bytes, so that the big one starts at a different
// offset of the stream each time, and checks that all arrive whole.
func testBoundarySizes(t *testing.T, cfg ConnConfig) {
	ctx := testContext(t)
	a, b := cfg.MakePipe(t)
	var sizes []int
	for _, n := range append(append([]int(nil), BufferBoundarySizes...), cfg.BoundarySizes...) {
		if n >= 0 && n <= cfg.MaxMessageSize {
			sizes = append(sizes, n)
		}
	}
	const shifts = 4
	errc := make(chan error, 1)
	go func() {
		for shift := range shifts {
			for i, size := range sizes {
				id := uint64(shift*len(sizes) + i)
				if err := a.Send(ctx, message(id, shift)); err != nil {
					errc <- fmt.Errorf("send: %w", err)
					return
				}
				if err := a.Send(ctx, message(id, size)); err != nil {
					errc <- fmt.Errorf("send %d bytes: %w", size, err)
					return
				}
			}
		}
		errc <- nil
	}()
	for shift := range shifts {
		for i, size := range sizes {
			id := uint64(shift*len(sizes) + i)
			got, err := b.Recv(ctx)
			require.NoError(t, err, "the message before one of %d bytes", size)
			require.Equal(t, message(id, shift), got, "the message before one of %d bytes", size)
			got, err = b.Recv(ctx)
			require.NoError(t, err, "a message of %d bytes after %d", size, shift)
			require.True(t, bytes.Equal(got, message(id, size)), "a message of %d bytes after %d: got %d bytes", size, shift, len(got))
		}
	}
	require.NoError(t, <-errc)
}

// testRecvInto receives with transport.RecvInto, into no buffer, a buffer
// too small and one large enough, reused: every message arrives whole, and
// one received into a buffer is not touched by a later RecvInto into
// another.
func testRecvInto(t *testing.T, cfg ConnConfig) {
	ctx := testContext(t)
	a, b := cfg.MakePipe(t)
	var sizes []int
	for _, n := range []int{100, 0, 1, 5000, 70_000, 10, 0, 3} {
		if n <= cfg.MaxMessageSize {
			sizes = append(sizes, n)
		}
	}
	go func() {
		for i, n := range sizes {
			if err := a.Send(ctx, message(uint64(i), n)); err != nil {
				t.Errorf("send: %v", err)
				return
			}
		}
	}()
	kept, err := transport.RecvInto(ctx, b, make([]byte, 0, 1<<20))
	require.NoError(t, err)
	require.NotNil(t, kept, "an empty message is not nil")
	require.Equal(t, message(0, sizes[0]), kept)
	small, large := make([]byte, 0, 10), make([]byte, 0, 100_000)
	for i := 1; i < len(sizes); i++ {
		buf := large
		switch i % 3 {
		case 1:
			buf = nil
		case 2:
			buf = small
		}
		got, err := transport.RecvInto(ctx, b, buf)
		require.NoError(t, err)
		require.NotNil(t, got, "message %d", i)
		require.True(t, bytes.Equal(message(uint64(i), sizes[i]), got), "message %d: got %d bytes, want %d", i, len(got), sizes[i])
		if i%3 == 0 {
			large = got[:0] // reuse what came back, as the documentation shows
		}
	}
	require.Equal(t, message(0, sizes[0]), kept, "the first message, in a buffer of its own, is untouched")
}

func testBothDirections(t *testing.T, cfg ConnConfig) {
	ctx := testContext(t)
	a, b := cfg.MakePipe(t)
	const n = 500
	var wg sync.WaitGroup
	pump := func(from, to transport.Conn, base uint64) {
		defer wg.Done()
		go func() {
			for i := range uint64(n) {
				if err := from.Send(ctx, message(base+i, 200)); err != nil {
					t.Errorf("send: %v", err)
					return
				}
			}
		}()
		for i := range uint64(n) {
			got, err := to.Recv(ctx)
			if err != nil {
				t.Errorf("recv %d: %v", i, err)
				return
			}
			if !bytes.Equal(got, message(base+i, 200)) {
				t.Errorf("message %d mangled or out of order", base+i)
				return
			}
		}
	}
	wg.Add(2)
	go pump(a, b, 0)
	go pump(b, a, 1<<32)
	wg.Wait()
}

func testConcurrentSenders(t *testing.T, cfg ConnConfig) {
	ctx := testContext(t)
	a, b := cfg.MakePipe(t)
	const senders, each = 8, 200
	size := min(300, cfg.MaxMessageSize)
	for s := range senders {
		go func() {
			for i := range each {
				msg := message(uint64(s)<<32|uint64(i), size)
				if err := a.Send(ctx, msg); err != nil {
					t.Errorf("sender %d: %v", s, err)
					return
				}
			}
		}()
	}
	next := make([]int, senders)
	for range senders * each {
		got, err := b.Recv(ctx)
		require.NoError(t, err)
		require.Len(t, got, size)
		id := binary.BigEndian.Uint64(got[:8]) // bytes 0-7 are the id itself
		s, i := int(id>>32), int(id&0xffffffff)
		require.Less(t, s, senders, "message from unknown sender")
		require.Equal(t, next[s], i, "sender %d: message out of order", s)
		require.True(t, bytes.Equal(got, message(id, size)), "message %x mangled", id)
		next[s]++
	}
}

func testRecvCancel(t *testing.T, cfg ConnConfig) {
	ctx := testContext(t)
	a, b := cfg.MakePipe(t)

	rctx, cancel := context.WithCancel(ctx)
	errc := make(chan error, 1)
	go func() {
		_, err := b.Recv(rctx)
		errc <- err
	}()
	cancel()
	require.ErrorIs(t, <-errc, context.Canceled)

	// The cancelled Recv took nothing: the next message is intact.
	want := message(7, min(5000, cfg.MaxMessageSize))
	require.NoError(t, a.Send(ctx, want))
	got, err := b.Recv(ctx)
	require.NoError(t, err)
	require.Equal(t, want, got)

	// Cancel again, many times, while messages flow: none is lost.
	const n = 200
	go func() {
		for i := range uint64(n) {
			if err := a.Send(ctx, message(i, 100)); err != nil {
				t.Errorf("send: %v", err)
				return
			}
		}
	}()
	for i, attempt := uint64(0), 0; i < n; attempt++ {
		short, cancel := context.WithCancel(ctx)
		if attempt%3 == 0 {
			cancel()
		}
		got, err := b.Recv(short)
		cancel()
		if errors.Is(err, context.Canceled) {
			continue
		}
		require.NoError(t, err)
		require.Equal(t, message(i, 100), got, "message %d", i)
		i++
	}
}

func testRecvDeadline(t *testing.T, cfg ConnConfig) {
	_, b := cfg.MakePipe(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	_, err := b.Recv(ctx)
	require.ErrorIs(t, err, context.DeadlineExceeded)
}

func testSendDoneContext(t *testing.T, cfg ConnConfig) {
	a, _ := cfg.MakePipe(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	require.ErrorIs(t, a.Send(ctx, []byte("late")), context.Canceled)
}

func requireClosedErr(t *testing.T, err error) {
	t.Helper()
	require.ErrorIs(t, err, transport.ErrClosed)
	require.ErrorIs(t, err, net.ErrClosed)
}

func testCloseUnblocksRecv(t *testing.T, cfg ConnConfig) {
	ctx := testContext(t)
	_, b := cfg.MakePipe(t)
	errc := make(chan error, 1)
	go func() {
		_, err := b.Recv(ctx)
		errc <- err
	}()
	require.NoError(t, b.Close())
	requireClosedErr(t, <-errc)
}

func testCloseUnblocksSend(t *testing.T, cfg ConnConfig) {
	ctx := testContext(t)
	a, _ := cfg.MakePipe(t) // b never reads, so a's sends eventually block
	size := min(64<<10, cfg.MaxMessageSize)
	const enough = 64 << 20 // bytes: more than any send buffer we know of

	progress := make(chan struct{}, 1)
	errc := make(chan error, 1)
	go func() {
		msg := make([]byte, size)
		for sent := 0; ; sent += size {
			if err := a.Send(ctx, msg); err != nil {
				errc <- err
				return
			}
			select {
			case progress <- struct{}{}:
			default:
			}
			if sent > enough {
				// The implementation buffers without bound (a
				// simulator may): Close must still stop Send.
				<-ctx.Done()
			}
		}
	}()
	// Wait until Send stops making progress (it blocked) or has sent more
	// than any buffer holds; either way, Close must end it.
	idle := time.NewTimer(50 * time.Millisecond)
	defer idle.Stop()
loop:
	for {
		select {
		case <-progress:
			idle.Reset(50 * time.Millisecond)
		case <-idle.C:
			break loop
		}
	}
	require.NoError(t, a.Close())
	requireClosedErr(t, <-errc)
}

func testCloseIdempotent(t *testing.T, cfg ConnConfig) {
	ctx := testContext(t)
	a, _ := cfg.MakePipe(t)
	require.NoError(t, a.Close())
	require.NoError(t, a.Close())
	requireClosedErr(t, a.Send(ctx, []byte("after close")))
	_, err := a.Recv(ctx)
	requireClosedErr(t, err)
}

func testPeerClose(t *testing.T, cfg ConnConfig) {
	ctx := testContext(t)
	a, b := cfg.MakePipe(t)
	const n = 50
	done := make(chan struct{})
	go func() { // the peer reads while a sends and closes
		defer close(done)
		for i := range uint64(n) {
			got, err := b.Recv(ctx)
			if err != nil {
				t.Errorf("message %d of %d sent before Close: %v", i, n, err)
				return
			}
			if !bytes.Equal(message(i, 1000), got) {
				t.Errorf("message %d mangled", i)
			}
		}
		_, err := b.Recv(ctx)
		assert.ErrorIs(t, err, io.EOF)
	}()
	for i := range uint64(n) {
		require.NoError(t, a.Send(ctx, message(i, 1000)))
	}
	require.NoError(t, a.Close())
	<-done
}

func testOversize(t *testing.T, cfg ConnConfig) {
	ctx := testContext(t)
	a, b := cfg.MakePipe(t)
	err := a.Send(ctx, make([]byte, cfg.MaxMessageSize+1))
	require.ErrorIs(t, err, transport.ErrMessageTooLarge)

	// The refusal did not break the conn: the largest allowed message and
	// a small one still arrive.
	big := message(1, cfg.MaxMessageSize)
	go func() {
		if err := a.Send(ctx, big); err != nil {
			t.Errorf("send max: %v", err)
		}
		if err := a.Send(ctx, []byte("after")); err != nil {
			t.Errorf("send after: %v", err)
		}
	}()
	got, err := b.Recv(ctx)
	require.NoError(t, err)
	assert.True(t, bytes.Equal(big, got), "max-size message mangled")
	got, err = b.Recv(ctx)
	require.NoError(t, err)
	assert.Equal(t, "after", string(got))
}

func testAddrs(t *testing.T, cfg ConnConfig) {
	a, b := cfg.MakePipe(t)
	for _, c := range []transport.Conn{a, b} {
		assert.NotNil(t, c.LocalAddr())
		assert.NotNil(t, c.RemoteAddr())
	}
}
