package wal

import (
	"bytes"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/raft"
)

func sampleBatch() []byte {
	hs := raft.HardState{Term: 3, VotedFor: 2, Commit: 5}
	ents := []raft.Entry{
		{Index: 7, Term: 3, Type: raft.EntryNoop},
		{Index: 8, Term: 3, Data: []byte("x=1")},
	}
	return appendRecord(nil, recBatch, appendBatch(nil, hs, ents))
}

func TestRecordRoundTrip(t *testing.T) {
	b := sampleBatch()
	typ, payload, n, err := readRecord(b)
	require.NoError(t, err)
	assert.Equal(t, recBatch, typ)
	assert.Equal(t, len(b), n)

	hs, ents, err := decodeBatch(payload)
	require.NoError(t, err)
	assert.Equal(t, raft.HardState{Term: 3, VotedFor: 2, Commit: 5}, hs)
	require.Len(t, ents, 2)
	assert.Equal(t, raft.Entry{Index: 7, Term: 3, Type: raft.EntryNoop, Data: nil}, ents[0])
	assert.Equal(t, raft.Entry{Index: 8, Term: 3, Data: []byte("x=1")}, ents[1])
}

// A crash can cut a record anywhere: every cut must be noticed.
func TestEveryTruncationOfARecordIsDetected(t *testing.T) {
	b := sampleBatch()
	for n := range len(b) {
		_, _, _, err := readRecord(b[:n])
		assert.ErrorIs(t, err, errShort, "cut at %d of %d", n, len(b))
	}
}

// The checksum covers the length: a damaged length field is caught even
// when the shorter record it describes would fit (here a second record
// follows, so there are bytes enough).
func TestEveryBitFlipInARecordIsDetected(t *testing.T) {
	one := sampleBatch()
	two := append(append([]byte(nil), one...), one...)
	for i := range len(one) * 8 {
		b := bytes.Clone(two)
		b[i/8] ^= 1 << (i % 8)
		_, _, _, err := readRecord(b)
		assert.Error(t, err, "bit %d flipped", i)
	}
}

// A length or count field must not make a decoder allocate what it says:
// a few bytes claiming a gigabyte get an error, not a gigabyte.
func TestDecodersDoNotBelieveLengths(t *testing.T) {
	huge := []byte{0xff, 0xff, 0xff, 0x3f, 0, 0, 0, 0, byte(recBatch)}
	batch := appendBatch(nil, raft.HardState{}, nil)
	batch[32], batch[33], batch[34], batch[35] = 0xff, 0xff, 0xff, 0xff
	batch = append(batch, make([]byte, 20)...)

	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, _, _, rerr := readRecord(huge)
	_, _, berr := decodeBatch(batch)
	runtime.ReadMemStats(&after)

	assert.ErrorIs(t, rerr, errShort)
	assert.ErrorContains(t, berr, "claims 4294967295 entries")
	assert.Less(t, after.TotalAlloc-before.TotalAlloc, uint64(1<<20), "bytes allocated")
}

func TestSnapshotFileRoundTrip(t *testing.T) {
	snap := raft.Snapshot{Index: 9, Term: 2, Data: []byte("state")}
	got, err := decodeSnapshotFile(encodeSnapshotFile(snap))
	require.NoError(t, err)
	assert.Equal(t, snap, got)

	b := encodeSnapshotFile(snap)
	_, err = decodeSnapshotFile(append(b, 0))
	assert.ErrorContains(t, err, "1 bytes after the snapshot record")
	b[len(b)-1] ^= 1
	_, err = decodeSnapshotFile(b)
	assert.ErrorIs(t, err, errChecksum)
}

// FuzzReadRecord feeds the record and payload decoders arbitrary bytes:
// they must not panic, must not read past the input, and whatever they
// accept must encode back to the same bytes.
func FuzzReadRecord(f *testing.F) {
	f.Add(sampleBatch())
	f.Add(appendRecord(nil, recSnapshot, appendMarker(nil, marker{index: 4, term: 2, last: 9})))
	f.Add(encodeSnapshotFile(raft.Snapshot{Index: 1, Term: 1, Data: []byte("d")}))
	f.Add([]byte{})
	f.Add(make([]byte, 64))
	f.Fuzz(func(t *testing.T, b []byte) {
		// The payload decoders see only what a checksum let through, which
		// the fuzzer can rarely forge: give them the raw bytes too.
		if hs, ents, err := decodeBatch(b); err == nil {
			require.Equal(t, b, appendBatch(nil, hs, ents))
		}
		if m, err := decodeMarker(b); err == nil {
			require.Equal(t, b, appendMarker(nil, m))
		}

		typ, payload, n, err := readRecord(b)
		if err != nil {
			return
		}
		require.LessOrEqual(t, n, len(b))
		require.Equal(t, b[:n], appendRecord(nil, typ, payload))
		switch typ {
		case recBatch:
			hs, ents, err := decodeBatch(payload)
			if err == nil {
				require.Equal(t, payload, appendBatch(nil, hs, ents))
			}
		case recSnapshot:
			m, err := decodeMarker(payload)
			if err == nil {
				require.Equal(t, payload, appendMarker(nil, m))
			}
		case recSnapshotFile:
			snap, err := decodeSnapshotFile(b[:n])
			if err == nil {
				require.Equal(t, b[:n], encodeSnapshotFile(snap))
			}
		}
	})
}
