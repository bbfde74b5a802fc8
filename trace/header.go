package trace

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
)

// A traced message travels as a header and then the payload, the bytes the
// code above gave to Send:
//
//	"\xd5tr"        magic: 3 bytes that say "this message is traced"
//	1               version: 1 byte
//	sender          string: the sending node
//	label           string: what the message is (an rpc method), or empty
//	n               uvarint: how many clock entries follow
//	node, count     n times: a string and a uvarint, nodes in sorted order
//	payload         the rest: the message itself
//
// A string is a uvarint length and then its bytes. The header costs a few
// bytes per node in the clock, and it is the whole cost of tracing on the
// wire.

const (
	headerMagic   = "\xd5tr"
	headerVersion = 1

	maxNameLen    = 1 << 10 // bytes in a node name or label; longer means damage
	maxClockNodes = 1 << 12 // entries in a clock; more means damage
)

// header is what a traced message carries besides its payload.
type header struct {
	from  string      // the sending node
	label string      // what the message is, if the sender said (an rpc method)
	clock VectorClock // the sender's clock at the send event
}

// msgID returns the message's number: the sender's own clock entry at the
// send. With the sender's name, it identifies the message.
func (h header) msgID() uint64 { return h.clock[h.from] }

// appendHeader appends the encoding of h to dst. Node names and the label
// are cut to maxNameLen bytes so that the peer accepts them.
func appendHeader(dst []byte, h header) []byte {
	dst = append(dst, headerMagic...)
	dst = append(dst, headerVersion)
	dst = appendString(dst, h.from)
	dst = appendString(dst, h.label)
	dst = binary.AppendUvarint(dst, uint64(len(h.clock)))
	for _, node := range sortedNodes(h.clock) {
		dst = appendString(dst, node)
		dst = binary.AppendUvarint(dst, h.clock[node])
	}
	return dst
}

func appendString(dst []byte, s string) []byte {
	s = s[:min(len(s), maxNameLen)]
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

// splitHeader decodes the header at the start of msg and returns it with
// the payload, which shares msg's memory. A msg without the magic bytes is
// ErrNotTraced; any other flaw is ErrBadHeader.
func splitHeader(msg []byte) (header, []byte, error) {
	if !bytes.HasPrefix(msg, []byte(headerMagic)) {
		return header{}, nil, ErrNotTraced
	}
	d := decoder{buf: msg[len(headerMagic):]}
	if v := d.byte(); v != headerVersion {
		return header{}, nil, fmt.Errorf("%w: version %d, want %d", ErrBadHeader, v, headerVersion)
	}
	h := header{from: d.string(), label: d.string()}
	n := d.uvarint()
	if n > maxClockNodes {
		return header{}, nil, fmt.Errorf("%w: %d clock entries", ErrBadHeader, n)
	}
	h.clock = make(VectorClock, min(n, 16)) // grows if the header really is that long
	for range n {
		node, count := d.string(), d.uvarint()
		if d.err != nil {
			break
		}
		if _, dup := h.clock[node]; dup || count == 0 {
			return header{}, nil, fmt.Errorf("%w: clock entry %q repeated or zero", ErrBadHeader, node)
		}
		h.clock[node] = count
	}
	if d.err != nil {
		return header{}, nil, fmt.Errorf("%w: %v", ErrBadHeader, d.err)
	}
	if h.from == "" || h.msgID() == 0 {
		return header{}, nil, fmt.Errorf("%w: sender %q has no clock entry", ErrBadHeader, h.from)
	}
	return h, d.buf, nil
}

// decoder reads the fields of a header; after the first error every read
// returns a zero value and err says what went wrong.
type decoder struct {
	buf []byte
	err error
}

func (d *decoder) byte() byte {
	if d.err != nil || len(d.buf) == 0 {
		d.fail("truncated")
		return 0
	}
	b := d.buf[0]
	d.buf = d.buf[1:]
	return b
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.buf)
	if n <= 0 {
		d.fail("bad number")
		return 0
	}
	d.buf = d.buf[n:]
	return v
}

func (d *decoder) string() string {
	n := d.uvarint()
	if d.err != nil {
		return ""
	}
	if n > maxNameLen || n > uint64(len(d.buf)) {
		d.fail(fmt.Sprintf("string of %d bytes", n))
		return ""
	}
	s := string(d.buf[:n])
	d.buf = d.buf[n:]
	return s
}

func (d *decoder) fail(why string) {
	if d.err == nil {
		d.err = errors.New(why)
	}
}
