package reliable

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
)

// This file is the wire format: how a packet is laid out in a datagram, and
// how it is encoded and decoded. Nothing here knows about connections or
// time. Every integer is big-endian.
//
// Every packet starts with the same 14 bytes:
//
//	 0  checksum  4  CRC-32C of everything after it (bytes 4 to the end)
//	 4  version   1  protocolVersion
//	 5  type      1  CONNECT, ACCEPT, DATA, ACK, RESET or REFUSE
//	 6  connID    8  the connection (0 in CONNECT: none is assigned yet)
//
// CONNECT and ACCEPT (the handshake) go on with:
//
//	14  nonce       8  the dialer's random number for this attempt
//	22  isn         4  the sender's initial sequence number
//	26  packetSize  2  the largest datagram the sender accepts
//	28  window      4  segments the sender buffers (its receive window)
//	32  maxMessage  4  the largest message the sender accepts
//
// DATA and ACK go on with an acknowledgement block and then, in DATA only,
// one or more segments:
//
//	14  ack     4  cumulative: every segment before this one has arrived
//	18  window  4  segments the receiver accepts from ack on
//	22  nsacks  1  number of ranges that follow
//	23  ranges     nsacks × (start 4, end 4): segments [start, end) above
//	               ack that have arrived too (selective acknowledgement)
//	    segments   until the end of the packet, each:
//	               seq 4 | flags 1 | left 4 | length 2 | length bytes of data
//
// A segment carries at most SegmentSize bytes of data.
//
// A segment's left counts the segments of the same message still to come,
// so a message of n segments is sent as left = n-1, n-2, ..., 0. Flag finFlag
// marks the end of the stream; that segment carries no data.
//
// RESET is the common header alone: "I have no connection connID".
//
// REFUSE answers a CONNECT that the listener will not take (it has as many
// connections as it may): the common header, connID 0, then
//
//	14  nonce  8  the nonce of the CONNECT refused

const protocolVersion = 1

// packetType says what a packet is for.
type packetType uint8

const (
	typeConnect packetType = 1 + iota // dialer → listener: open a connection
	typeAccept                        // listener → dialer: here is your connection ID
	typeData                          // segments, with an acknowledgement
	typeAck                           // an acknowledgement alone (also the heartbeat)
	typeReset                         // "no such connection": the peer must give up
	typeRefuse                        // listener → dialer: no connection for you
)

func (t packetType) String() string {
	switch t {
	case typeConnect:
		return "CONNECT"
	case typeAccept:
		return "ACCEPT"
	case typeData:
		return "DATA"
	case typeAck:
		return "ACK"
	case typeReset:
		return "RESET"
	case typeRefuse:
		return "REFUSE"
	}
	return fmt.Sprintf("type(%d)", uint8(t))
}

// Sizes of the parts of a packet, in bytes.
const (
	headerLen        = 14
	handshakeLen     = headerLen + 8 + 4 + 2 + 4 + 4
	refuseLen        = headerLen + 8
	ackBlockLen      = headerLen + 4 + 4 + 1 // a DATA or ACK packet with no ranges and no segments
	rangeLen         = 8
	segmentHeaderLen = 4 + 1 + 4 + 2
	maxRanges        = 255 // nsacks is one byte
)

// finFlag marks the segment that ends the stream: the sender has closed.
const finFlag = 1

// crc32c is the Castagnoli polynomial's table: the CRC that iSCSI, SCTP and
// ext4 use, computed in hardware on amd64 and arm64. It is read-only.
var crc32c = crc32.MakeTable(crc32.Castagnoli)

// packet is a decoded packet. Which fields mean something depends on typ.
// The slices of a decoded packet (ranges, segments and their data) point
// into the datagram it was decoded from.
type packet struct {
	typ    packetType
	connID uint64

	// CONNECT and ACCEPT; nonce also in REFUSE.
	nonce      uint64
	isn        uint32
	packetSize int
	maxMessage int

	// window is in CONNECT, ACCEPT, DATA and ACK.
	window uint32

	// DATA and ACK.
	ack    uint32
	ranges []seqRange
	segs   []segment
}

// seqRange is the segments [start, end) in sequence-number order.
type seqRange struct{ start, end uint32 }

// segment is one piece of a message, or the end of the stream.
type segment struct {
	seq  uint32
	fin  bool
	left uint32 // segments of this message after this one
	data []byte
}

// Decoding errors. A datagram that fails to decode is dropped without an
// answer: it was damaged on the way, or is not ours.
var (
	errShortPacket = errors.New("reliable: packet too short")
	errChecksum    = errors.New("reliable: bad checksum")
	errVersion     = errors.New("reliable: unknown protocol version")
	errPacketType  = errors.New("reliable: unknown packet type")
	errMalformed   = errors.New("reliable: malformed packet")
)

// decodePacket parses b into p, reusing p's slices. It checks the checksum
// first, so a damaged or truncated datagram is refused, never half-read.
// p's slices point into b afterwards.
func decodePacket(b []byte, p *packet) error {
	if len(b) < headerLen {
		return errShortPacket
	}
	if binary.BigEndian.Uint32(b) != crc32.Checksum(b[4:], crc32c) {
		return errChecksum
	}
	if b[4] != protocolVersion {
		return errVersion
	}
	*p = packet{
		typ:    packetType(b[5]),
		connID: binary.BigEndian.Uint64(b[6:]),
		ranges: p.ranges[:0],
		segs:   p.segs[:0],
	}
	switch p.typ {
	case typeConnect, typeAccept:
		if len(b) != handshakeLen {
			return errMalformed
		}
		p.nonce = binary.BigEndian.Uint64(b[14:])
		p.isn = binary.BigEndian.Uint32(b[22:])
		p.packetSize = int(binary.BigEndian.Uint16(b[26:]))
		p.window = binary.BigEndian.Uint32(b[28:])
		p.maxMessage = int(binary.BigEndian.Uint32(b[32:]))
		return nil
	case typeReset:
		if len(b) != headerLen {
			return errMalformed
		}
		return nil
	case typeRefuse:
		if len(b) != refuseLen {
			return errMalformed
		}
		p.nonce = binary.BigEndian.Uint64(b[14:])
		return nil
	case typeData, typeAck:
		return decodeAckAndSegments(b, p)
	}
	return errPacketType
}

func decodeAckAndSegments(b []byte, p *packet) error {
	if len(b) < ackBlockLen {
		return errShortPacket
	}
	p.ack = binary.BigEndian.Uint32(b[14:])
	p.window = binary.BigEndian.Uint32(b[18:])
	n := int(b[22])
	rest := b[ackBlockLen:]
	if len(rest) < n*rangeLen {
		return errMalformed
	}
	for range n {
		r := seqRange{binary.BigEndian.Uint32(rest), binary.BigEndian.Uint32(rest[4:])}
		if !seqLess(r.start, r.end) {
			return errMalformed
		}
		p.ranges = append(p.ranges, r)
		rest = rest[rangeLen:]
	}
	for len(rest) > 0 {
		if len(rest) < segmentHeaderLen {
			return errMalformed
		}
		s := segment{
			seq:  binary.BigEndian.Uint32(rest),
			left: binary.BigEndian.Uint32(rest[5:]),
		}
		flags := rest[4]
		size := int(binary.BigEndian.Uint16(rest[9:]))
		rest = rest[segmentHeaderLen:]
		if flags&^finFlag != 0 || len(rest) < size || size > SegmentSize {
			// (A segment over SegmentSize is never sent. Refusing it
			// bounds what a window of early segments holds: WindowSize
			// × SegmentSize bytes, not WindowSize datagrams.)
			return errMalformed
		}
		s.fin = flags&finFlag != 0
		if s.fin && (size != 0 || s.left != 0) {
			return errMalformed
		}
		s.data = rest[:size:size]
		rest = rest[size:]
		p.segs = append(p.segs, s)
	}
	if (p.typ == typeAck) != (len(p.segs) == 0) {
		return errMalformed // an ACK carries no segment, a DATA at least one
	}
	return nil
}

// encodedLen is the size of p on the wire.
func (p *packet) encodedLen() int {
	switch p.typ {
	case typeConnect, typeAccept:
		return handshakeLen
	case typeReset:
		return headerLen
	case typeRefuse:
		return refuseLen
	}
	n := ackBlockLen + len(p.ranges)*rangeLen
	for _, s := range p.segs {
		n += segmentHeaderLen + len(s.data)
	}
	return n
}

// appendPacket appends p's encoding to b. It panics if p cannot be encoded
// (too many ranges, a segment over 64 KiB): the session never builds such a
// packet.
func appendPacket(b []byte, p *packet) []byte {
	start := len(b)
	b = append(b, 0, 0, 0, 0, protocolVersion, byte(p.typ))
	b = binary.BigEndian.AppendUint64(b, p.connID)
	switch p.typ {
	case typeConnect, typeAccept:
		b = binary.BigEndian.AppendUint64(b, p.nonce)
		b = binary.BigEndian.AppendUint32(b, p.isn)
		b = binary.BigEndian.AppendUint16(b, uint16(p.packetSize))
		b = binary.BigEndian.AppendUint32(b, p.window)
		b = binary.BigEndian.AppendUint32(b, uint32(p.maxMessage))
	case typeRefuse:
		b = binary.BigEndian.AppendUint64(b, p.nonce)
	case typeData, typeAck:
		if len(p.ranges) > maxRanges {
			panic("reliable: too many ranges in a packet")
		}
		b = binary.BigEndian.AppendUint32(b, p.ack)
		b = binary.BigEndian.AppendUint32(b, p.window)
		b = append(b, byte(len(p.ranges)))
		for _, r := range p.ranges {
			b = binary.BigEndian.AppendUint32(b, r.start)
			b = binary.BigEndian.AppendUint32(b, r.end)
		}
		for _, s := range p.segs {
			if len(s.data) > 0xffff {
				panic("reliable: segment too large")
			}
			var flags byte
			if s.fin {
				flags = finFlag
			}
			b = binary.BigEndian.AppendUint32(b, s.seq)
			b = append(b, flags)
			b = binary.BigEndian.AppendUint32(b, s.left)
			b = binary.BigEndian.AppendUint16(b, uint16(len(s.data)))
			b = append(b, s.data...)
		}
	}
	binary.BigEndian.PutUint32(b[start:], crc32.Checksum(b[start+4:], crc32c))
	return b
}

// Sequence numbers are 32 bits and wrap around, so they are compared the
// way TCP compares them (RFC 1982 serial arithmetic): a comes before b if b
// is less than 2^31 ahead of it. Windows are far smaller than 2^31, so
// within a connection the comparison is always meaningful.

// seqLess reports whether a comes before b.
func seqLess(a, b uint32) bool { return int32(a-b) < 0 }

// seqLessEq reports whether a comes before b or is b.
func seqLessEq(a, b uint32) bool { return int32(a-b) <= 0 }
