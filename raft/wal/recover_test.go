package wal

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/internal/vfs"
	"github.com/distsys-kit/distsys/raft"
)

// Records that pass their checksums but contradict each other cannot come
// from this package's writes: Open refuses them.
func TestContradictoryRecordsAreRefused(t *testing.T) {
	batch := func(first, last uint64) []byte {
		var es []raft.Entry
		for i := first; i <= last; i++ {
			es = append(es, raft.Entry{Index: i, Term: 1})
		}
		return appendRecord(nil, recBatch, appendBatch(nil, raft.HardState{}, es))
	}
	mark := func(index, last uint64) []byte {
		return appendRecord(nil, recSnapshot, appendMarker(nil, marker{index: index, term: 1, last: last}))
	}
	cat := func(bs ...[]byte) []byte {
		var out []byte
		for _, b := range bs {
			out = append(out, b...)
		}
		return out
	}
	tests := []struct {
		name    string
		segment []byte
		snaps   map[uint64]raft.Snapshot
		wantErr string
	}{
		{"entries with a gap", cat(batch(1, 3), batch(5, 6)),
			nil, "at offset 84: entry 5 would leave a gap after the last entry, 3"},
		{"snapshot records going back", cat(batch(1, 6), mark(4, 6), mark(2, 6)),
			map[uint64]raft.Snapshot{4: {Index: 4, Term: 1}, 2: {Index: 2, Term: 1}},
			"at offset 156: snapshot record at index 2 after one at index 4"},
		{"a snapshot file of another term", cat(batch(1, 6), mark(4, 6)),
			map[uint64]raft.Snapshot{4: {Index: 4, Term: 2}},
			"0000000000000004.snap at offset 0: snapshot of index 4 term 2, but the log says index 4 term 1"},
		{"a snapshot file's record in a segment", cat(batch(1, 2), encodeSnapshotFile(raft.Snapshot{Index: 1, Term: 1})),
			nil, "at offset 71: record of type 3 in a segment"},
		{"a snapshot file but no segment", nil,
			map[uint64]raft.Snapshot{4: {Index: 4, Term: 1}}, "0000000000000004.snap at offset 0: a snapshot file, but no segment"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := vfs.NewMem()
			require.NoError(t, m.MkdirAll("/d", 0o755))
			if tt.segment != nil {
				require.NoError(t, vfs.WriteFileAtomic(m, "/d/"+segmentName(1), tt.segment, 0o644))
			}
			for index, snap := range tt.snaps {
				require.NoError(t, vfs.WriteFileAtomic(m, "/d/"+snapshotName(index), encodeSnapshotFile(snap), 0o644))
			}
			_, err := Open("/d", WithFS(m))
			require.ErrorIs(t, err, ErrCorrupt)
			assert.ErrorContains(t, err, tt.wantErr)
		})
	}
}
