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
// A frame that fits in buf is copied out of it. A larger one is read into a
// slice of its own that grows as its bytes arrive, so a peer that announces
// a big message and sends nothing makes us allocate little.
type frameReader struct {
	r          io.Reader
	max        int
	buf        []byte
	start, end int    // buf[start:end] holds bytes read but not yet returned
	big        []byte // a large message being assembled, or nil
	bigLen     int    // the length big will have when complete
	err        error  // a read error held back until buffered bytes are used
}

func newFrameReader(r io.Reader, max int) *frameReader {
	return &frameReader{r: r, max: max}
}

// next returns the next message. Errors from the underlying reader are
// returned as they are, except that io.EOF in the middle of a frame becomes
// io.ErrUnexpectedEOF. An oversized frame gives an error matching
// ErrMessageTooLarge; the stream cannot be resynchronised after it.
func (fr *frameReader) next() ([]byte, error) {
	for {
		msg, err := fr.parse()
		if msg != nil || err != nil {
			return msg, err
		}
		if err := fr.fill(); err != nil {
			return nil, err
		}
	}
}

// parse returns a complete message if the bytes read so far hold one, or
// (nil, nil) if more bytes are needed.
func (fr *frameReader) parse() ([]byte, error) {
	if fr.big != nil {
		if len(fr.big) < fr.bigLen {
			return nil, nil
		}
		msg := fr.big
		fr.big = nil
		return msg, nil
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
		if size == 0 {
			return []byte{}, nil // an empty message, not "no message"
		}
		// append, unlike make+copy, does not clear memory it is about
		// to overwrite: it matters for large messages.
		return append([]byte(nil), body...), nil
	}
	if size > readBufSize-headerLen {
		// Too big for buf: assemble it in a slice of its own, starting
		// from the bytes already buffered.
		body := fr.buf[fr.start+headerLen : fr.end]
		fr.big = append(make([]byte, 0, max(len(body), min(size, 2*readBufSize))), body...)
		fr.bigLen = size
		fr.start, fr.end = 0, 0
	}
	return nil, nil
}

// fill reads once from the stream into buf, or into big if a large message
// is being assembled.
func (fr *frameReader) fill() error {
	if fr.err != nil {
		return fr.eofErr(fr.err)
	}
	if fr.big != nil {
		if len(fr.big) == cap(fr.big) {
			grown := make([]byte, len(fr.big), min(fr.bigLen, 2*cap(fr.big)))
			copy(grown, fr.big)
			fr.big = grown
		}
		n, err := fr.r.Read(fr.big[len(fr.big):min(cap(fr.big), fr.bigLen)])
		fr.big = fr.big[:len(fr.big)+n]
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
	if err == io.EOF && (fr.start < fr.end || fr.big != nil) {
		return io.ErrUnexpectedEOF
	}
	return err
}
