package extsort

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"
)

// Intermediate data lives in run files. A run file holds one segment per
// reduce partition, one after the other; a segment is a sorted run of
// groups, and a group is a key and its values:
//
//	segment := group*                      (keys strictly increasing)
//	group   := uvarint(len(key)) key uvarint(n) value{n}    (n >= 1)
//	value   := uvarint(len(v)) v
//
// A word count's "the" with values "1" and "41" is 15 bytes:
// 03 't' 'h' 'e' 02 01 '1' 02 '4' '1'. There is no per-file header: where
// each segment starts, how long it is and its CRC-32C travel beside the
// file (in a map task's report to the coordinator), and readers check them,
// so a truncated or damaged file is an error, never a wrong answer. (JSON,
// which the MIT lab uses, is several times larger and slower to parse.)

// A Segment locates one partition's run inside a run file.
type Segment struct {
	Offset int64
	Length int64
	CRC    uint32 // CRC-32C (Castagnoli) of the segment's bytes
}

// WriteBufferSize is how much a Writer buffers before it writes.
const WriteBufferSize = 64 << 10

// A Writer writes groups to a run file, segment by segment:
//
//	w.Header(key, 2); w.Value(v1); w.Value(v2)   // a group, keys in increasing order
//	w.EndSegment()                                // the next partition
//	segs, err := w.Finish()
type Writer struct {
	w     io.Writer
	table *crc32.Table
	buf   []byte    // encoded bytes not yet written
	off   int64     // file offset of buf[0]
	seg   Segment   // the segment being written
	segs  []Segment // finished segments
	err   error     // the first write error
}

// NewWriter returns a Writer that writes to w.
func NewWriter(w io.Writer) *Writer {
	return &Writer{w: w, table: crc32.MakeTable(crc32.Castagnoli), buf: make([]byte, 0, WriteBufferSize)}
}

// Header starts a group of n values.
func (w *Writer) Header(key string, n int) {
	w.buf = binary.AppendUvarint(w.buf, uint64(len(key)))
	w.buf = append(w.buf, key...)
	w.buf = binary.AppendUvarint(w.buf, uint64(n))
}

// Value adds one value to the current group.
func (w *Writer) Value(v string) {
	w.buf = binary.AppendUvarint(w.buf, uint64(len(v)))
	w.buf = append(w.buf, v...)
	if len(w.buf) >= WriteBufferSize {
		w.flush()
	}
}

// flush writes the buffer, folding it into the segment's CRC.
func (w *Writer) flush() {
	if len(w.buf) == 0 {
		return
	}
	w.seg.CRC = crc32.Update(w.seg.CRC, w.table, w.buf)
	w.seg.Length += int64(len(w.buf))
	w.off += int64(len(w.buf))
	if w.err == nil {
		_, w.err = w.w.Write(w.buf)
	}
	w.buf = w.buf[:0]
}

// EndSegment finishes the current segment and starts the next.
func (w *Writer) EndSegment() {
	w.flush()
	w.segs = append(w.segs, w.seg)
	w.seg = Segment{Offset: w.off}
}

// Finish flushes what is buffered and returns the segments, or the first
// write error.
func (w *Writer) Finish() ([]Segment, error) {
	w.flush()
	if w.err != nil {
		return nil, fmt.Errorf("mapreduce: write intermediate data: %w", w.err)
	}
	return w.segs, nil
}

// A Reader reads the groups of one segment, checking as it goes that
// they are well formed and in order, and at the end that their checksum
// matches:
//
//	for r.NextGroup() {
//		for v, ok := r.NextValue(); ok; v, ok = r.NextValue() { ... }
//	}
//	if err := r.Err(); err != nil { ... }
type Reader struct {
	br      *bufio.Reader
	crc     *crcReader
	want    uint32 // the segment's CRC
	left    int64  // bytes of the segment not yet decoded
	key     []byte // the current group's key, in a buffer of the Reader's own
	prev    []byte // the buffer of the key before it, reused for the next
	hasKey  bool   // key is set (the first key may be "")
	values  uint64 // values of the current group not yet read
	scratch []byte
	err     error // the first error; sticky
}

// readBufferSize is the read buffer of a Reader: a merge of k runs holds
// k of them.
const readBufferSize = 32 << 10

// NewReader reads segment s of the file r.
func NewReader(r io.ReaderAt, s Segment) *Reader {
	cr := &crcReader{r: io.NewSectionReader(r, s.Offset, s.Length), table: crc32.MakeTable(crc32.Castagnoli)}
	return &Reader{br: bufio.NewReaderSize(cr, readBufferSize), crc: cr, want: s.CRC, left: s.Length}
}

// NextGroup skips what is left of the current group and moves to the next.
// It returns false at the end of the segment or on an error (see Err).
func (r *Reader) NextGroup() bool {
	for r.values > 0 && r.err == nil {
		n := r.length()
		r.discard(n)
		r.values--
	}
	if r.err != nil {
		return false
	}
	if r.left == 0 {
		if r.crc.sum != r.want {
			r.fail("checksum mismatch")
		}
		return false
	}
	// The key is read into a buffer the Reader reuses, not into a new
	// string: a merge of k runs compares k keys for each one it passes on,
	// and only that one needs to be a string.
	key := r.read(r.prev, r.length())
	n := r.uvarint()
	switch {
	case r.err != nil:
		return false
	case n == 0 || n > uint64(r.left):
		r.fail("bad value count")
		return false
	case r.hasKey && bytes.Compare(key, r.key) <= 0:
		r.fail("keys out of order")
		return false
	}
	r.prev, r.key = r.key, key
	r.hasKey, r.values = true, n
	return true
}

// NextValue returns the current group's next value; false when there is
// none left or on an error.
func (r *Reader) NextValue() (string, bool) {
	if r.values == 0 || r.err != nil {
		return "", false
	}
	v := r.bytes(r.length())
	if r.err != nil {
		return "", false
	}
	r.values--
	return v, true
}

// Key returns the current group's key.
func (r *Reader) Key() string { return string(r.key) }

// Err returns the first error met: ErrCorrupt for bytes that do not
// decode or fail the checksum, or the file's read error.
func (r *Reader) Err() error { return r.err }

// length reads a uvarint that is the length of something still to come in
// the segment.
func (r *Reader) length() int64 {
	n := r.uvarint()
	if r.err == nil && n > uint64(r.left) {
		r.fail("length past the end of the segment")
		return 0
	}
	return int64(n)
}

func (r *Reader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	var x uint64
	for shift := uint(0); ; shift += 7 {
		if r.left == 0 || shift > 63 {
			r.fail("bad varint")
			return 0
		}
		b, err := r.br.ReadByte()
		if err != nil {
			r.readFailed(err)
			return 0
		}
		r.left--
		if (b == 0 && shift > 0) || (shift == 63 && b > 1) {
			r.fail("non-canonical varint") // so every encoding is unique
			return 0
		}
		x |= uint64(b&0x7f) << shift
		if b < 0x80 {
			return x
		}
	}
}

// bytes reads n bytes as a string; the caller checked n <= r.left.
func (r *Reader) bytes(n int64) string {
	r.scratch = r.read(r.scratch, n)
	return string(r.scratch)
}

// read reads n bytes into buf, grown if need be, and returns them; the
// caller checked n <= r.left.
func (r *Reader) read(buf []byte, n int64) []byte {
	if r.err != nil {
		return buf[:0]
	}
	if int64(cap(buf)) < n {
		buf = make([]byte, n)
	}
	buf = buf[:n]
	if _, err := io.ReadFull(r.br, buf); err != nil {
		r.readFailed(err)
		return buf[:0]
	}
	r.left -= n
	return buf
}

// discard skips n bytes; the caller checked n <= r.left.
func (r *Reader) discard(n int64) {
	if r.err != nil {
		return
	}
	if _, err := r.br.Discard(int(n)); err != nil {
		r.readFailed(err)
		return
	}
	r.left -= n
}

func (r *Reader) fail(why string) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: %s", ErrCorrupt, why)
	}
}

func (r *Reader) readFailed(err error) {
	if err == io.EOF || err == io.ErrUnexpectedEOF {
		r.fail("segment shorter than announced")
		return
	}
	if r.err == nil {
		r.err = fmt.Errorf("mapreduce: read intermediate data: %w", err)
	}
}

// crcReader computes the CRC-32C of what is read through it.
type crcReader struct {
	r     io.Reader
	table *crc32.Table
	sum   uint32
}

func (c *crcReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.sum = crc32.Update(c.sum, c.table, p[:n])
	return n, err
}
