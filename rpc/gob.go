package rpc

import (
	"bytes"
	"encoding/binary"
	"encoding/gob"
	"errors"
	"fmt"
	"io"
	"reflect"
	"sync"
)

// NewGobCodec returns the default Codec, built on encoding/gob.
//
// A gob stream describes each type once and then sends values of it as
// compact field lists; net/rpc keeps one stream per connection. That cannot
// work here: a message may be lost or arrive twice (a simulated network, a
// retry), so every message must decode on its own. Sending a fresh stream
// per message would describe the type, and make the receiver compile a
// decoder for it, on every call, which is slow. So each message carries the
// type description (the "preamble") and one value, and both sides cache:
//
//   - the sender keeps, per Go type, encoders that have already sent the
//     description, so encoding emits just the value, and pastes the cached
//     preamble in front of it;
//   - the receiver keeps, per preamble, decoders that have already read it,
//     and feeds them only the value.
//
// The caches, and the few functions below that find where a gob stream's
// messages begin and end (gob has no API for that), pay: without them a
// small call costs 341 allocations instead of 10, 16 KB instead of 0.3 KB,
// and four times as long (BenchmarkRPC/small).
//
// A type holding interface values (whose concrete types are described only
// when they appear) falls back to a fresh stream per message. As with
// net/rpc, the concrete types stored in interfaces must be registered with
// gob.Register on both sides.
//
// Gob is not hardened against hostile input: a crafted message can make the
// decoder allocate a lot. Keep strangers away from it with mutual TLS,
// signed connections (transport.NewSignedConn) or WithAuth, which all act
// before any argument is decoded.
func NewGobCodec() Codec {
	return &gobCodec{decs: make(map[string]*freeList[*gobDecoder])}
}

// The first byte of a gob body says how the rest is laid out.
const (
	gobEmpty    = 'z' // nothing follows: a struct with no fields
	gobPreamble = 'p' // preamble length, preamble, one value message
	gobStream   = 's' // a complete gob stream, decoded by a fresh decoder
)

// maxCachedPreambles bounds the receiver's decoder cache, so that a peer
// sending ever new type descriptions cannot grow it without end; past the
// bound, messages are decoded with fresh decoders (slower, still correct).
const maxCachedPreambles = 256

type gobCodec struct {
	encs sync.Map // reflect.Type → *gobTypeEncoder

	mu   sync.RWMutex                      // protects decs
	decs map[string]*freeList[*gobDecoder] // preamble → decoders that have read it
}

func (c *gobCodec) Name() string { return "gob" }

func (c *gobCodec) Append(b []byte, v any) ([]byte, error) {
	rv := reflect.ValueOf(v)
	if !rv.IsValid() || (rv.Kind() == reflect.Pointer && rv.IsNil()) {
		return b, fmt.Errorf("gob: cannot encode nil value %T", v)
	}
	te, err := c.typeEncoder(rv.Type())
	if err != nil {
		return b, err
	}
	switch {
	case te.empty:
		return append(b, gobEmpty), nil
	case te.stream:
		w := sliceWriter{b: append(b, gobStream)}
		if err := gob.NewEncoder(&w).Encode(v); err != nil {
			return b, err
		}
		return w.b, nil
	}
	pe, ok := te.free.get()
	if !ok {
		if pe, err = te.newEncoder(); err != nil {
			return b, err
		}
	}
	out := append(b, gobPreamble)
	out = binary.AppendUvarint(out, uint64(len(te.preamble)))
	pe.w.b = append(out, te.preamble...)
	err = pe.enc.Encode(v)
	out, pe.w.b = pe.w.b, nil
	if err != nil {
		return b, err // pe is dropped: its state after an error is unknown
	}
	te.free.put(pe)
	return out, nil
}

func (c *gobCodec) Decode(data []byte, v any) error {
	if len(data) == 0 {
		return errors.New("gob: empty body")
	}
	switch data[0] {
	case gobEmpty:
		t := reflect.TypeOf(v)
		if t == nil || t.Kind() != reflect.Pointer || t.Elem().Kind() != reflect.Struct || t.Elem().NumField() != 0 {
			return fmt.Errorf("gob: empty value sent for %T", v)
		}
		return nil
	case gobStream:
		return gob.NewDecoder(bytes.NewReader(data[1:])).Decode(v)
	case gobPreamble:
	default:
		return fmt.Errorf("gob: unknown body layout %q", data[0])
	}
	n, k := binary.Uvarint(data[1:])
	if k <= 0 || n > uint64(len(data)-1-k) {
		return errors.New("gob: bad preamble length")
	}
	both := data[1+k:] // the preamble, then the value
	pre, val := both[:n], both[n:]
	if !gobMessagesAre(pre, true) || !gobMessagesAre(val, false) || !gobOneMessage(val) {
		return errors.New("gob: malformed body")
	}

	c.mu.RLock()
	free := c.decs[string(pre)] // no allocation: the conversion is only a lookup key
	c.mu.RUnlock()
	if free != nil {
		if d, ok := free.get(); ok {
			d.r.b = val
			err := d.dec.Decode(v)
			if err == nil {
				free.put(d)
			}
			return err
		}
	}
	// No decoder has read this preamble yet: a fresh one reads it and the
	// value, and is kept if that went well.
	d := newGobDecoder()
	d.r.b = both
	if err := d.dec.Decode(v); err != nil {
		return err
	}
	c.keepDecoder(pre, free, d)
	return nil
}

// keepDecoder caches d, which has read preamble pre.
func (c *gobCodec) keepDecoder(pre []byte, free *freeList[*gobDecoder], d *gobDecoder) {
	if free == nil {
		c.mu.Lock()
		free = c.decs[string(pre)]
		if free == nil && len(c.decs) < maxCachedPreambles {
			free = new(freeList[*gobDecoder])
			c.decs[string(pre)] = free
		}
		c.mu.Unlock()
	}
	if free != nil {
		free.put(d)
	}
}

// freeList keeps idle values for reuse, up to maxIdle of them. Unlike a
// sync.Pool it keeps them across garbage collections, which matters for a
// gob coder: making one means compiling its types again.
type freeList[T any] struct {
	mu   sync.Mutex // protects idle
	idle []T
}

// maxIdle bounds a free list: about the number of goroutines that encode
// or decode one type at the same moment.
const maxIdle = 128

func (l *freeList[T]) get() (v T, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if n := len(l.idle); n > 0 {
		v, l.idle = l.idle[n-1], l.idle[:n-1]
		return v, true
	}
	return v, false
}

func (l *freeList[T]) put(v T) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.idle) < maxIdle {
		l.idle = append(l.idle, v)
	}
}

// gobTypeEncoder holds what the sender caches for one Go type.
type gobTypeEncoder struct {
	t        reflect.Type
	empty    bool                     // a struct with no fields: nothing to send
	stream   bool                     // holds interfaces: a fresh stream per message
	preamble []byte                   // the type's description, as a gob stream starts
	free     freeList[*primedEncoder] // encoders that have sent the preamble
}

// primedEncoder is a gob encoder that has already described its type, so
// Encode writes one value message, into w.
type primedEncoder struct {
	w   sliceWriter
	enc *gob.Encoder
}

func (c *gobCodec) typeEncoder(t reflect.Type) (*gobTypeEncoder, error) {
	if te, ok := c.encs.Load(t); ok {
		return te.(*gobTypeEncoder), nil
	}
	te := &gobTypeEncoder{t: t}
	base := t
	for base.Kind() == reflect.Pointer {
		base = base.Elem()
	}
	switch {
	case base.Kind() == reflect.Struct && base.NumField() == 0:
		te.empty = true
	case holdsInterface(base):
		te.stream = true
	default:
		pe, err := te.newEncoder()
		if err != nil {
			return nil, err
		}
		te.free.put(pe)
	}
	actual, _ := c.encs.LoadOrStore(t, te)
	return actual.(*gobTypeEncoder), nil
}

// newEncoder makes an encoder that has described te.t, by encoding a zero
// value with it. The first one made also records the description as the
// preamble: everything the encoder wrote before the value message.
func (te *gobTypeEncoder) newEncoder() (*primedEncoder, error) {
	pe := &primedEncoder{}
	pe.enc = gob.NewEncoder(&pe.w)
	zero := reflect.New(te.t)
	for zero.Elem().Kind() == reflect.Pointer {
		zero.Elem().Set(reflect.New(zero.Elem().Type().Elem()))
		zero = zero.Elem()
	}
	if err := pe.enc.EncodeValue(zero.Elem()); err != nil {
		return nil, err
	}
	if te.preamble == nil {
		pre, ok := gobSplitLast(pe.w.b)
		if !ok {
			return nil, fmt.Errorf("gob: cannot find the type description of %v", te.t)
		}
		te.preamble = append([]byte{}, pre...)
	}
	pe.w.b = nil
	return pe, nil
}

// gobDecoder is a gob decoder reading from a buffer that the codec refills
// with one message at a time.
type gobDecoder struct {
	r   byteReader
	dec *gob.Decoder
}

func newGobDecoder() *gobDecoder {
	d := &gobDecoder{}
	d.dec = gob.NewDecoder(&d.r) // byteReader is an io.ByteReader: gob adds no buffering
	return d
}

type sliceWriter struct{ b []byte }

func (w *sliceWriter) Write(p []byte) (int, error) {
	w.b = append(w.b, p...)
	return len(p), nil
}

type byteReader struct{ b []byte }

func (r *byteReader) Read(p []byte) (int, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	n := copy(p, r.b)
	r.b = r.b[n:]
	return n, nil
}

func (r *byteReader) ReadByte() (byte, error) {
	if len(r.b) == 0 {
		return 0, io.EOF
	}
	c := r.b[0]
	r.b = r.b[1:]
	return c, nil
}

// A gob stream is a sequence of messages, each a count and that many bytes;
// a message starts with a type id, negative for a type description and
// positive for a value. Counts and ids are gob integers: below 128, one
// byte; otherwise a byte holding the negated length, then big-endian bytes.
// Signed integers keep their sign in the lowest bit.

// gobUint reads a gob unsigned integer from the front of b.
func gobUint(b []byte) (v uint64, n int, ok bool) {
	if len(b) == 0 {
		return 0, 0, false
	}
	if b[0] < 0x80 {
		return uint64(b[0]), 1, true
	}
	size := 256 - int(b[0]) // the byte is the length, negated
	if size > 8 || len(b) < 1+size {
		return 0, 0, false
	}
	for _, x := range b[1 : 1+size] {
		v = v<<8 | uint64(x)
	}
	return v, 1 + size, true
}

// gobNext splits the first message off b: its body and the rest.
func gobNext(b []byte) (msg, rest []byte, ok bool) {
	n, k, ok := gobUint(b)
	if !ok || n == 0 || n > uint64(len(b)-k) {
		return nil, nil, false
	}
	return b[k : k+int(n)], b[k+int(n):], true
}

// gobMessagesAre reports whether b is a whole number of messages, all type
// descriptions (descriptions true) or all values (false).
func gobMessagesAre(b []byte, descriptions bool) bool {
	for len(b) > 0 {
		msg, rest, ok := gobNext(b)
		if !ok {
			return false
		}
		id, _, ok := gobUint(msg)
		if !ok || (id&1 == 1) != descriptions {
			return false
		}
		b = rest
	}
	return true
}

// gobOneMessage reports whether b is exactly one message.
func gobOneMessage(b []byte) bool {
	_, rest, ok := gobNext(b)
	return ok && len(rest) == 0
}

// gobSplitLast returns b without its last message.
func gobSplitLast(b []byte) (head []byte, ok bool) {
	for i := 0; i < len(b); {
		_, rest, ok := gobNext(b[i:])
		if !ok {
			return nil, false
		}
		if len(rest) == 0 {
			return b[:i], true
		}
		i = len(b) - len(rest)
	}
	return nil, false
}
