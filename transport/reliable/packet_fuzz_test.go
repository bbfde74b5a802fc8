package reliable

import (
	"encoding/binary"
	"hash/crc32"
	"testing"
)

// FuzzDecodePacket feeds the decoder arbitrary datagrams: it must never
// panic, and whatever it accepts must encode back to the same bytes. With
// fixSum set, the fuzzer's bytes get a correct checksum first, so that it
// explores the parser behind the checksum rather than the checksum alone.
//
//	go test -run='^$' -fuzz=FuzzDecodePacket -fuzztime=90s ./transport/reliable/
func FuzzDecodePacket(f *testing.F) {
	for _, p := range samplePackets() {
		b := appendPacket(nil, p)
		f.Add(b, false)
		f.Add(b, true)
	}
	f.Add([]byte{}, false)
	f.Add(make([]byte, headerLen), true)
	f.Fuzz(func(t *testing.T, b []byte, fixSum bool) {
		if fixSum && len(b) >= 4 {
			binary.BigEndian.PutUint32(b, crc32.Checksum(b[4:], crc32c))
		}
		var p packet
		if decodePacket(b, &p) != nil {
			return
		}
		if again := appendPacket(nil, &p); string(again) != string(b) {
			t.Fatalf("decoded %+v, which encodes to %x, not %x", p, again, b)
		}
	})
}
