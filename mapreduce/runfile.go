package mapreduce

import (
	"bufio"
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

// A segment locates one partition's run inside a run file.
type segment struct {
	Offset int64
	Length int64
	CRC    uint32 // CRC-32C (Castagnoli) of the segment's bytes
}

// writeBufferSize is how much a runWriter buffers before it writes.
const writeBufferSize = 64 << 10

// A runWriter writes groups to a run file, segment by segment.
type runWriter struct {
	w     io.Writer
	table *crc32.Table
	buf   []byte    // encoded bytes not yet written
	off   int64     // file offset of buf[0]
	seg   segment   // the segment being written
	segs  []segment // finished segments
	err   error     // the first write error
}

func newRunWriter(w io.Writer) *runWriter {
	return &runWriter{w: w, table: crc32.MakeTable(crc32.Castagnoli), buf: make([]byte, 0, writeBufferSize)}
}

// header starts a group of n values.
func (w *runWriter) header(key string, n int) {
	w.buf = binary.AppendUvarint(w.buf, uint64(len(key)))
	w.buf = append(w.buf, key...)
	w.buf = binary.AppendUvarint(w.buf, uint64(n))
}

// value adds one value to the current group.
func (w *runWriter) value(v string) {
	w.buf = binary.AppendUvarint(w.buf, uint64(len(v)))
	w.buf = append(w.buf, v...)
	if len(w.buf) >= writeBufferSize {
		w.flush()
	}
}

// flush writes the buffer, folding it into the segment's CRC.
func (w *runWriter) flush() {
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

// endSegment finishes the current segment and starts the next.
func (w *runWriter) endSegment() {
	w.flush()
	w.segs = append(w.segs, w.seg)
	w.seg = segment{Offset: w.off}
}

// finish flushes what is buffered and returns the segments, or the first
// write error.
func (w *runWriter) finish() ([]segment, error) {
	w.flush()
	if w.err != nil {
		return nil, fmt.Errorf("mapreduce: write intermediate data: %w", w.err)
	}
	return w.segs, nil
}

// A runReader reads the groups of one segment.
//
//	for r.nextGroup() {
//		for v, ok := r.nextValue(); ok; v, ok = r.nextValue() { ... }
//	}
//	if r.err != nil { ... }
type runReader struct {
	br      *bufio.Reader
	crc     *crcReader
	want    uint32 // the segment's CRC
	left    int64  // bytes of the segment not yet decoded
	key     string // the current group's key
	hasKey  bool   // key is set (the first key may be "")
	values  uint64 // values of the current group not yet read
	scratch []byte
	err     error // the first error; sticky
}

// readBufferSize is the read buffer of a runReader: a merge of k runs holds
// k of them.
const readBufferSize = 32 << 10

// newRunReader reads segment s of the file r.
func newRunReader(r io.ReaderAt, s segment) *runReader {
	cr := &crcReader{r: io.NewSectionReader(r, s.Offset, s.Length), table: crc32.MakeTable(crc32.Castagnoli)}
	return &runReader{br: bufio.NewReaderSize(cr, readBufferSize), crc: cr, want: s.CRC, left: s.Length}
}

// nextGroup skips what is left of the current group and moves to the next.
// It returns false at the end of the segment or on an error (see r.err).
func (r *runReader) nextGroup() bool {
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
	key := r.bytes(r.length())
	n := r.uvarint()
	switch {
	case r.err != nil:
		return false
	case n == 0 || n > uint64(r.left):
		r.fail("bad value count")
		return false
	case r.hasKey && key <= r.key:
		r.fail("keys out of order")
		return false
	}
	r.key, r.hasKey, r.values = key, true, n
	return true
}

// nextValue returns the current group's next value; false when there is
// none left or on an error.
func (r *runReader) nextValue() (string, bool) {
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

// length reads a uvarint that is the length of something still to come in
// the segment.
func (r *runReader) length() int64 {
	n := r.uvarint()
	if r.err == nil && n > uint64(r.left) {
		r.fail("length past the end of the segment")
		return 0
	}
	return int64(n)
}

func (r *runReader) uvarint() uint64 {
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
func (r *runReader) bytes(n int64) string {
	if r.err != nil {
		return ""
	}
	if int64(cap(r.scratch)) < n {
		r.scratch = make([]byte, n)
	}
	b := r.scratch[:n]
	if _, err := io.ReadFull(r.br, b); err != nil {
		r.readFailed(err)
		return ""
	}
	r.left -= n
	return string(b)
}

// discard skips n bytes; the caller checked n <= r.left.
func (r *runReader) discard(n int64) {
	if r.err != nil {
		return
	}
	if _, err := r.br.Discard(int(n)); err != nil {
		r.readFailed(err)
		return
	}
	r.left -= n
}

func (r *runReader) fail(why string) {
	if r.err == nil {
		r.err = fmt.Errorf("%w: %s", errCorrupt, why)
	}
}

func (r *runReader) readFailed(err error) {
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
