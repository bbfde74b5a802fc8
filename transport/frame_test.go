package transport

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"os"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// stallingReader returns its data, then a timeout for ever: a peer that
// stopped sending.
type stallingReader struct{ data []byte }

func (r *stallingReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, os.ErrDeadlineExceeded
	}
	n := copy(p, r.data)
	r.data = r.data[n:]
	return n, nil
}

// A peer that announces 16 MiB and sends 4 MiB makes us allocate about
// 4 MiB: memory follows the bytes that arrived, not the length announced,
// nor twice the bytes (a slice grown by doubling, copied at each step,
// allocates 16 MiB on the way to holding 4).
func TestMemoryForALargeFrameFollowsTheBytesThatArrived(t *testing.T) {
	const announced, sent = 16 << 20, 4 << 20
	stream := append(binary.BigEndian.AppendUint32(nil, announced), make([]byte, sent)...)
	fr := newFrameReader(&stallingReader{stream}, DefaultMaxMessageSize)

	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := fr.next()
	runtime.ReadMemStats(&after)
	require.ErrorIs(t, err, os.ErrDeadlineExceeded)
	allocated := after.TotalAlloc - before.TotalAlloc
	assert.Less(t, allocated, uint64(sent+readBufSize+2*maxChunk),
		"allocated %d bytes for %d that arrived", allocated, sent)
}

// Messages whose size crosses a boundary of the reader (its buffer, its
// first chunk, its largest chunk) come out whole, read in pieces of every
// size.
func TestLargeFramesAcrossChunkBoundaries(t *testing.T) {
	var sizes []int
	for _, n := range []int{
		readBufSize - headerLen, readBufSize, readBufSize + minChunk,
		maxChunk, 2 * maxChunk, 1 << 20, 3<<20 + 7,
	} {
		sizes = append(sizes, n-1, n, n+1)
	}
	var stream []byte
	for i, n := range sizes {
		stream = appendFrame(stream, bytes.Repeat([]byte{byte(i)}, n))
	}
	for _, piece := range []int{1 << 10, 70 << 10, 1 << 20} {
		fr := newFrameReader(&chunkReader{data: stream, r: rand.New(rand.NewPCG(1, uint64(piece))), maxChunk: piece}, DefaultMaxMessageSize)
		for i, n := range sizes {
			got, err := fr.next()
			require.NoError(t, err)
			require.Len(t, got, n, "message %d, pieces up to %d bytes", i, piece)
			require.Equal(t, bytes.Repeat([]byte{byte(i)}, n), got, "message %d of %d bytes", i, n)
		}
	}
}
