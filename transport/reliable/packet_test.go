package reliable

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// samplePackets has one packet of each shape, for round trips and as fuzz
// seeds.
func samplePackets() []*packet {
	return []*packet{
		{typ: typeConnect, nonce: 42, isn: 7, packetSize: 1400, window: 4096, maxMessage: 1 << 20},
		{typ: typeAccept, connID: 99, nonce: 42, isn: 123456, packetSize: 65507, window: 64, maxMessage: 1000},
		{typ: typeReset, connID: 99},
		{typ: typeRefuse, nonce: 42},
		{typ: typeAck, connID: 99, ack: 10, window: 5, ranges: []seqRange{{12, 14}, {20, 21}}},
		{typ: typeData, connID: 99, ack: 1, window: 8, segs: []segment{
			{seq: 5, left: 1, data: []byte("hello, ")},
			{seq: 6, data: []byte("world")},
			{seq: 7, fin: true},
		}},
		{typ: typeData, connID: 1, ack: 0xfffffffe, ranges: []seqRange{{0xffffffff, 2}}, segs: []segment{{seq: 3, data: []byte{}}}},
	}
}

func TestPacketRoundTrip(t *testing.T) {
	for _, want := range samplePackets() {
		t.Run(want.typ.String(), func(t *testing.T) {
			b := appendPacket(nil, want)
			assert.Len(t, b, want.encodedLen())
			var got packet
			require.NoError(t, decodePacket(b, &got))
			assert.Equal(t, normalized(want), normalized(&got))
		})
	}
}

// normalized makes empty slices nil, so that packets compare by content.
func normalized(p *packet) packet {
	q := *p
	if len(q.ranges) == 0 {
		q.ranges = nil
	}
	if len(q.segs) == 0 {
		q.segs = nil
	}
	q.segs = append([]segment(nil), q.segs...)
	for i := range q.segs {
		if len(q.segs[i].data) == 0 {
			q.segs[i].data = nil
		}
	}
	return q
}

func TestDamagedPacketRejected(t *testing.T) {
	for _, p := range samplePackets() {
		b := appendPacket(nil, p)
		var got packet
		for i := range b {
			for _, flip := range []byte{0x01, 0x80, 0xff} {
				bad := append([]byte(nil), b...)
				bad[i] ^= flip
				assert.Error(t, decodePacket(bad, &got), "%v with byte %d changed", p.typ, i)
			}
		}
		for n := range len(b) {
			assert.Error(t, decodePacket(b[:n], &got), "%v cut to %d bytes", p.typ, n)
		}
	}
}

func TestMalformedPacketsRejected(t *testing.T) {
	tests := []struct {
		name string
		give *packet
		want error
	}{
		{"AckWithSegment", &packet{typ: typeAck, segs: []segment{{seq: 1}}}, errMalformed},
		{"DataWithoutSegment", &packet{typ: typeData}, errMalformed},
		{"EmptyRange", &packet{typ: typeAck, ranges: []seqRange{{5, 5}}}, errMalformed},
		{"FinWithData", &packet{typ: typeData, segs: []segment{{seq: 1, fin: true, data: []byte("x")}}}, errMalformed},
		// A window of segments as large as datagrams would hold 256 MiB.
		{"SegmentOverSegmentSize", &packet{typ: typeData, segs: []segment{{seq: 1, data: make([]byte, SegmentSize+1)}}}, errMalformed},
		{"UnknownType", &packet{typ: 77}, errPacketType},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got packet
			assert.ErrorIs(t, decodePacket(appendPacket(nil, tt.give), &got), tt.want)
		})
	}
}

func TestSeqComparisonWrapsAround(t *testing.T) {
	assert.True(t, seqLess(0xffffffff, 0), "0 comes after 2^32-1")
	assert.True(t, seqLess(1, 2))
	assert.False(t, seqLess(2, 2))
	assert.True(t, seqLessEq(2, 2))
	assert.False(t, seqLess(0, 0xffffffff))
}

func TestSegmentFitsDefaultPacket(t *testing.T) {
	assert.Equal(t, 1366, SegmentSize, "the value the documentation states")
	p := &packet{typ: typeData, segs: []segment{{data: make([]byte, SegmentSize)}}}
	assert.Equal(t, DefaultPacketSize, p.encodedLen())
}
