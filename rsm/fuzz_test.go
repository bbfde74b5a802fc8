package rsm

import (
	"bytes"
	"testing"
)

func FuzzDecodeEntry(f *testing.F) {
	f.Add(entry{kind: kindCommand, nonce: 1, proposal: 2, client: 3, seq: 4, payload: []byte("x")}.encode())
	f.Add(entry{kind: kindQuery, payload: []byte("q")}.encode())
	f.Add([]byte{entryVersion, 9})
	f.Fuzz(func(t *testing.T, b []byte) {
		e, err := decodeEntry(b)
		if err != nil {
			return
		}
		if got := e.encode(); !bytes.Equal(got, b) && len(got) > len(b) {
			t.Fatalf("re-encoding %x gave %x", b, got)
		}
	})
}

func FuzzDecodeSnapshot(f *testing.F) {
	f.Add(encodeSnapshot(map[uint64]session{1: {seq: 2, result: []byte("r")}, 9: {seq: 1}}, []byte("state")))
	f.Add([]byte{snapshotVersion, 0xff, 0xff, 0xff, 0xff, 0x0f})
	f.Fuzz(func(t *testing.T, b []byte) {
		sessions, sm, err := decodeSnapshot(b)
		if err != nil {
			return
		}
		again, sm2, err := decodeSnapshot(encodeSnapshot(sessions, sm))
		if err != nil || len(again) != len(sessions) || !bytes.Equal(sm, sm2) {
			t.Fatalf("round trip of %x: %v", b, err)
		}
	})
}

func TestEntryRoundTrip(t *testing.T) {
	e := entry{kind: kindCommand, nonce: 1 << 60, proposal: 7, client: 1 << 40, seq: 300, payload: []byte("cmd")}
	got, err := decodeEntry(e.encode())
	if err != nil || got.client != e.client || got.seq != e.seq || got.nonce != e.nonce || got.proposal != e.proposal || string(got.payload) != "cmd" {
		t.Fatalf("decode(encode(%+v)) = %+v, %v", e, got, err)
	}
	if _, err := decodeEntry([]byte("garbage that is long enough")); err == nil {
		t.Fatal("garbage decoded")
	}
}
