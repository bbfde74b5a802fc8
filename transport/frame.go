package transport

import (
	"encoding/binary"
	"fmt"
	"io"
	"os"
)

// A frame on a byte stream is a 4-byte big-endian length followed by that
// many bytes of message:
//
//	+--------+--------+--------+--------+---- ... ----+
//	|        length (uint32, big-endian)     | message |
//	+--------+--------+--------+--------+---- ... ----+
//
// A zero length is a valid, empty message.
const (
	headerLen   = 4
	maxFrameLen = 1<<32 - 1
	readBufSize = 64 << 10
)

// appendFrame appends msg, framed, to buf.
func appendFrame(buf, msg []byte) []byte {
	buf = binary.BigEndian.AppendUint32(buf, uint32(len(msg)))
	return append(buf, msg...)
}

// frameReader splits a byte stream into messages. It keeps every byte it has
// read until the message it belongs to is returned, so a read interrupted by
// a deadline (how Recv honours its ctx) loses nothing: the next call resumes
// where the last one stopped.
//
// A frame that fits in buf is copied out of it. A larger one is assembled
// in chunks, allocated as its bytes arrive: the first holds the bytes
// already read (at least minChunk), each next one is twice the last, up to
// maxChunk, and none goes beyond the announced length. So a peer that announces 16 MiB and sends 4 MiB holds 4 MiB of
// ours and at most a chunk more, not 16 MiB (nor the 8 MiB a slice grown
// by doubling would hold). The chunks are glued into one slice when the
// last byte arrives; a message that fits in one chunk is not copied again.
type frameReader struct {
	r          io.Reader
	max        int
	buf        []byte
	start, end int    // buf[start:end] holds bytes read but not yet returned
	slab       []byte // small messages returned by Recv are cut from it; see slabbed

	chunks [][]byte // a large message being assembled; nil if none
	have   int      // bytes of it in chunks
	want   int      // its length

	err error // a read error held back until buffered bytes are used
}

// minChunk and maxChunk bound the chunks of a large message. maxChunk is
// the most a peer can make us allocate beyond what it has sent.
const (
	minChunk = 4 << 10
	maxChunk = 256 << 10
)

func newFrameReader(r io.Reader, max int) *frameReader {
	return &frameReader{r: r, max: max}
}

// next returns the next message. Errors from the underlying reader are
// returned as they are, except that io.EOF in the middle of a frame becomes
// io.ErrUnexpectedEOF. An oversized frame gives an error matching
// ErrMessageTooLarge; the stream cannot be resynchronised after it.
func (fr *frameReader) next() ([]byte, error) {
	for {
		msg, err := fr.parse(nil)
		if msg != nil || err != nil {
			return msg, err
		}
		if err := fr.fill(); err != nil {
			return nil, err
		}
	}
}

// midFrame reports whether part of a frame has been read: the peer owes us
// the rest.
func (fr *frameReader) midFrame() bool {
	return fr.start < fr.end || fr.chunks != nil
}

// parse returns a complete message if the bytes read so far hold one, or
// (nil, nil) if more bytes are needed. The message is stored in dst's
// memory if it fits in cap(dst) (dst may be nil), else in new memory.
func (fr *frameReader) parse(dst []byte) ([]byte, error) {
	if fr.chunks != nil {
		if fr.have < fr.want {
			return nil, nil
		}
		return fr.assemble(dst), nil
	}
	avail := fr.end - fr.start
	if avail < headerLen {
		return nil, nil
	}
	n := binary.BigEndian.Uint32(fr.buf[fr.start:])
	if uint64(n) > uint64(fr.max) {
		return nil, fmt.Errorf("%w: peer announced %d bytes, limit is %d", ErrMessageTooLarge, n, fr.max)
	}
	size := int(n)
	if avail-headerLen >= size {
		body := fr.buf[fr.start+headerLen : fr.start+headerLen+size]
		fr.start += headerLen + size
		switch {
		case size == 0 && dst == nil:
			return []byte{}, nil // an empty message, not "no message"
		case dst == nil && size <= maxSlabbed:
			return fr.slabbed(body), nil
		}
		// append, unlike make+copy, does not clear memory it is about
		// to overwrite: it matters for large messages.
		return append(dst[:0], body...), nil
	}
	if size > readBufSize-headerLen {
		// Too big for buf: assemble it in chunks, starting from the
		// bytes already buffered.
		body := fr.buf[fr.start+headerLen : fr.end]
		first := append(make([]byte, 0, min(size, max(len(body), minChunk))), body...)
		fr.chunks, fr.have, fr.want = [][]byte{first}, len(body), size
		fr.start, fr.end = 0, 0
	}
	return nil, nil
}

// A message returned by Recv must lie in memory of its own, which the
// caller may keep and change. For a small message that meant an allocation
// per Recv. Small messages are cut from a shared slab instead, one
// allocation for many messages: each gets its own stretch, capped (a full
// slice expression) so that appending to it copies instead of writing over
// the next one. It gains less than one would think: copying each message
// into memory not yet in the cache is most of what Recv costs beyond
// RecvInto, and that remains. 64-byte messages, one sender, six
// interleaved runs under load: 140 ns each (median) against 153 ns with an
// allocation per message, and no allocation left (BenchmarkTCP/framed/64B).
// The price: a small message that is kept keeps its whole slab alive, at
// most slabSize bytes, and not more than slabSize/maxSlabbed times its
// size.
const (
	slabSize   = 4 << 10
	maxSlabbed = 256
)

// slabbed returns a copy of body, cut from the slab.
func (fr *frameReader) slabbed(body []byte) []byte {
	if cap(fr.slab)-len(fr.slab) < len(body) {
		fr.slab = make([]byte, 0, slabSize)
	}
	start := len(fr.slab)
	fr.slab = append(fr.slab, body...)
	return fr.slab[start:len(fr.slab):len(fr.slab)]
}

// assemble returns the complete large message, in dst's memory if it fits,
// and forgets its chunks.
func (fr *frameReader) assemble(dst []byte) []byte {
	msg := fr.chunks[0]
	if len(fr.chunks) > 1 || cap(dst) >= fr.want {
		msg = dst[:0]
		if cap(dst) < fr.want {
			msg = make([]byte, 0, fr.want)
		}
		for _, c := range fr.chunks {
			msg = append(msg, c...)
		}
	}
	fr.chunks, fr.have, fr.want = nil, 0, 0
	return msg
}

// room returns the free part of the last chunk of the large message being
// assembled, allocating the next chunk if the last one is full.
func (fr *frameReader) room() []byte {
	last := fr.chunks[len(fr.chunks)-1]
	if len(last) == cap(last) {
		last = make([]byte, 0, min(fr.want-fr.have, min(2*cap(last), maxChunk)))
		fr.chunks = append(fr.chunks, last)
	}
	return last[len(last):cap(last)]
}

// release lets the buffers go: the stream will not be read again.
func (fr *frameReader) release() {
	fr.buf, fr.start, fr.end, fr.slab = nil, 0, 0, nil
	fr.chunks, fr.have, fr.want = nil, 0, 0
}

// fill reads once from the stream into buf, or into the last chunk if a
// large message is being assembled.
func (fr *frameReader) fill() error {
	if fr.err != nil {
		return fr.eofErr(fr.err)
	}
	if fr.chunks != nil {
		n, err := fr.r.Read(fr.room())
		last := &fr.chunks[len(fr.chunks)-1]
		*last = (*last)[:len(*last)+n]
		fr.have += n
		return fr.readErr(n, err)
	}
	if fr.buf == nil {
		fr.buf = make([]byte, readBufSize)
	}
	if fr.start == fr.end {
		fr.start, fr.end = 0, 0
	} else if fr.start > 0 {
		fr.end = copy(fr.buf, fr.buf[fr.start:fr.end])
		fr.start = 0
	}
	n, err := fr.r.Read(fr.buf[fr.end:])
	fr.end += n
	return fr.readErr(n, err)
}

// readErr turns the result of one Read into fill's error. An error that
// came with bytes is held back until those bytes have been parsed; a timeout
// is never held (a deadline that cut a read short is not a failure of the
// stream, and the next read may succeed).
func (fr *frameReader) readErr(n int, err error) error {
	switch {
	case err == nil:
		return nil
	case os.IsTimeout(err):
		return err
	case n > 0:
		fr.err = err
		return nil
	default:
		fr.err = err
		return fr.eofErr(err)
	}
}

// eofErr reports io.EOF in the middle of a frame as io.ErrUnexpectedEOF.
func (fr *frameReader) eofErr(err error) error {
	if err == io.EOF && fr.midFrame() {
		return io.ErrUnexpectedEOF
	}
	return err
}
