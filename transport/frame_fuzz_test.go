package transport

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"testing"
)

// chunkReader returns its data in pieces of varying size, as a network does.
type chunkReader struct {
	data     []byte
	r        *rand.Rand
	maxChunk int
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(c.data) == 0 {
		return 0, io.EOF
	}
	n := min(len(p), len(c.data), 1+c.r.IntN(c.maxChunk))
	copy(p, c.data[:n])
	c.data = c.data[n:]
	return n, nil
}

// FuzzFrameReader feeds arbitrary bytes to the frame decoder. Whatever the
// stream holds, it returns messages within the limit, then a clean error;
// it never panics, hangs or allocates past the limit.
func FuzzFrameReader(f *testing.F) {
	f.Add([]byte{0, 0, 0, 3, 'a', 'b', 'c', 0, 0, 0, 0}, uint64(1))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff}, uint64(2))
	f.Add([]byte{0, 0, 4, 0}, uint64(3))
	f.Add([]byte{0, 0, 0}, uint64(4))
	f.Fuzz(func(t *testing.T, stream []byte, seed uint64) {
		const limit = 4096
		fr := newFrameReader(&chunkReader{data: stream, r: rand.New(rand.NewPCG(seed, 0)), maxChunk: 64}, limit)
		consumed := 0
		for {
			msg, err := fr.next()
			if err != nil {
				switch {
				case errors.Is(err, io.EOF):
					if consumed != len(stream) {
						t.Fatalf("clean EOF after %d of %d bytes", consumed, len(stream))
					}
				case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, ErrMessageTooLarge):
				default:
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			if len(msg) > limit {
				t.Fatalf("message of %d bytes passed a %d-byte limit", len(msg), limit)
			}
			consumed += headerLen + len(msg)
		}
	})
}

// FuzzFrameRoundTrip frames messages, splits the stream at random and
// checks that the decoder gives back exactly what was framed, and that the
// messages it returned stay as they were while it reads on.
func FuzzFrameRoundTrip(f *testing.F) {
	f.Add([]byte("hello"), uint16(3), uint64(1))
	f.Add([]byte{}, uint16(0), uint64(2))
	f.Fuzz(func(t *testing.T, body []byte, count uint16, seed uint64) {
		r := rand.New(rand.NewPCG(seed, 1))
		var stream []byte
		var want [][]byte
		for i := range int(count%50) + 1 {
			// Vary the sizes around the buffer size to exercise both paths.
			msg := bytes.Repeat(body, 1+r.IntN(1+readBufSize/max(1, len(body))))
			if i%2 == 0 {
				msg = body
			}
			want = append(want, msg)
			stream = appendFrame(stream, msg)
		}
		fr := newFrameReader(&chunkReader{data: stream, r: r, maxChunk: 8192}, 1<<24)
		var kept [][]byte
		for i, w := range want {
			got, err := fr.next()
			if err != nil {
				t.Fatalf("message %d: %v", i, err)
			}
			if !bytes.Equal(got, w) {
				t.Fatalf("message %d: got %d bytes, want %d", i, len(got), len(w))
			}
			kept = append(kept, got)
		}
		for i, w := range want { // none written over by those read after it
			if !bytes.Equal(kept[i], w) {
				t.Fatalf("message %d changed after it was returned", i)
			}
		}
		if _, err := fr.next(); !errors.Is(err, io.EOF) {
			t.Fatalf("after the last message: %v, want io.EOF", err)
		}
	})
}
