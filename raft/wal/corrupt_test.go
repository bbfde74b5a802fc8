package wal_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/internal/vfs"
	"github.com/distsys-kit/distsys/raft"
	"github.com/distsys-kit/distsys/raft/wal"
)

// recordSize is the size of the record of a Save of one entry made by ents:
// a 9-byte header, a 36-byte batch header, a 13-byte entry header and 3
// bytes of data.
const recordSize = 9 + 36 + 13 + 3

// headerSize is the size of the record that starts every segment but the
// first: the hard state, a batch of no entries.
const headerSize = 9 + 36

// fixture makes a closed Storage of 30 one-entry Saves, in segments of a
// header and five Saves, and a snapshot at index 3. It returns the file system and
// the state before and after the last Save.
func fixture(t testing.TB) (m *vfs.Mem, beforeLast, final model) {
	t.Helper()
	m = vfs.NewMem()
	s := openMem(t, m, wal.WithSegmentSize(5*recordSize))
	var mod model
	for i := uint64(1); i <= 30; i++ {
		beforeLast = mod.clone()
		hs := raft.HardState{Term: 1, Commit: i}
		require.NoError(t, s.Save(hs, ents(i, i, 1)))
		mod.save(hs, ents(i, i, 1))
		if i == 3 {
			snap := raft.Snapshot{Index: 3, Term: 1, Data: []byte("three")}
			require.NoError(t, s.SaveSnapshot(snap))
			mod.saveSnapshot(snap)
		}
	}
	require.NoError(t, s.Close())
	return m, beforeLast, mod
}

// files returns the contents of every file in dir.
func files(t testing.TB, m *vfs.Mem) map[string]string {
	t.Helper()
	names, err := m.ReadDir(dir)
	require.NoError(t, err)
	fs := make(map[string]string)
	for _, name := range names {
		b, err := m.ReadFile(dir + "/" + name)
		require.NoError(t, err)
		fs[name] = string(b)
	}
	return fs
}

// rewrite replaces a file's contents by edit's result, durably.
func rewrite(t *testing.T, m *vfs.Mem, name string, edit func([]byte) []byte) {
	t.Helper()
	b, err := m.ReadFile(dir + "/" + name)
	require.NoError(t, err)
	f, err := m.OpenFile(dir+"/"+name, os.O_WRONLY|os.O_TRUNC, 0)
	require.NoError(t, err)
	_, err = f.Write(edit(bytes.Clone(b)))
	require.NoError(t, err)
	require.NoError(t, f.Sync())
	require.NoError(t, f.Close())
}

func flip(off int) func([]byte) []byte {
	return func(b []byte) []byte { b[off] ^= 0x10; return b }
}

func lastSegment(t *testing.T, m *vfs.Mem) string {
	t.Helper()
	names, err := m.ReadDir(dir)
	require.NoError(t, err)
	var last string
	for _, n := range names {
		if strings.HasSuffix(n, ".wal") {
			last = n
		}
	}
	return last
}

// Damage that a crash cannot leave is refused with ErrCorrupt naming the
// file and offset, and the files are left as they were.
func TestDamageACrashCannotExplainIsRefused(t *testing.T) {
	tests := []struct {
		name    string
		file    string // "" for the last segment
		edit    func([]byte) []byte
		wantErr string
	}{
		{"a byte of an older segment", "0000000000000002.wal", flip(headerSize + 20),
			"0000000000000002.wal at offset 45: record fails its checksum"},
		{"a length field of an older segment", "0000000000000002.wal", flip(headerSize + 1),
			"0000000000000002.wal at offset 45: record runs past the end of the file"},
		{"an older segment cut short", "0000000000000002.wal", func(b []byte) []byte { return b[:len(b)-5] },
			"0000000000000002.wal at offset 289: record runs past the end of the file"},
		{"the last segment's first record, valid ones following", "", flip(20),
			"at offset 0: record fails its checksum, and a valid record follows at offset 45"},
		{"a length field in the last segment, valid records following", "", flip(2),
			"at offset 0: record runs past the end of the file, and a valid record follows at offset 45"},
		{"the snapshot file", "0000000000000003.snap", flip(12),
			"0000000000000003.snap at offset 0: record fails its checksum"},
		{"the snapshot file cut short", "0000000000000003.snap", func(b []byte) []byte { return b[:10] },
			"0000000000000003.snap at offset 0: record runs past the end of the file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, _, _ := fixture(t)
			if tt.file == "" {
				tt.file = lastSegment(t, m)
			}
			rewrite(t, m, tt.file, tt.edit)
			before := files(t, m)
			_, err := wal.Open(dir, wal.WithFS(m))
			require.ErrorIs(t, err, wal.ErrCorrupt)
			assert.ErrorContains(t, err, tt.wantErr)
			assert.Equal(t, before, files(t, m), "the files are left as they were")
		})
	}
}

func TestMissingFilesAreRefused(t *testing.T) {
	tests := []struct {
		name    string
		remove  string
		wantErr string
	}{
		{"a segment", "0000000000000003.wal", "segment missing between 0000000000000002.wal and 0000000000000004.wal"},
		{"the snapshot", "0000000000000003.snap", "0000000000000003.snap at offset 0: the log's newest snapshot record refers to this file, which is missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, _, _ := fixture(t)
			require.NoError(t, m.Remove(dir+"/"+tt.remove))
			_, err := wal.Open(dir, wal.WithFS(m))
			require.ErrorIs(t, err, wal.ErrCorrupt)
			assert.ErrorContains(t, err, tt.wantErr)
		})
	}
}

// What a crash in the middle of a write can leave at the end of the log
// (the write was never acknowledged) is cut away, the cut logged, and the
// Storage holds the state before the interrupted Save. Damage to the last
// record itself cannot be told apart from that, and is treated the same.
func TestATornTailIsCutAndLogged(t *testing.T) {
	tests := []struct {
		name string
		edit func([]byte) []byte
	}{
		{"the last record cut short", func(b []byte) []byte { return b[:len(b)-recordSize/2] }},
		{"only the last record's header", func(b []byte) []byte { return b[:len(b)-recordSize+5] }},
		{"the last record's payload damaged", func(b []byte) []byte { b[len(b)-2] ^= 1; return b }},
		{"zeros after the last record", func(b []byte) []byte { return append(b, make([]byte, 100)...) }},
		{"a record's beginning after the last", func(b []byte) []byte { return append(b, b[len(b)-recordSize:len(b)-10]...) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, beforeLast, final := fixture(t)
			want := beforeLast
			if strings.Contains(tt.name, "after the last") {
				want = final
			}
			last := lastSegment(t, m)
			rewrite(t, m, last, tt.edit)
			var log bytes.Buffer
			s := openMem(t, m, wal.WithLogger(slog.New(slog.NewTextHandler(&log, nil))))
			assert.Equal(t, want.view(), viewOf(t, s))
			assert.Contains(t, log.String(), "cutting a torn record")
			assert.Contains(t, log.String(), last)

			// The cut was synced: it survives a crash, and records written
			// after it are not mistaken for damage.
			require.NoError(t, s.Save(raft.HardState{}, ents(want.last()+1, want.last()+1, 1)))
			want.save(raft.HardState{}, ents(want.last()+1, want.last()+1, 1))
			m.Crash()
			s.Close()
			assert.Equal(t, want.view(), viewOf(t, openMem(t, m)))
		})
	}
}

// A crash can leave temporary files, a snapshot file whose record was
// never written, and older snapshot files not yet deleted: Open deletes
// them and the state is as it was.
func TestOpenDeletesLeftoverFiles(t *testing.T) {
	m, _, final := fixture(t)
	for name, data := range map[string]string{
		"0000000000000009.snap.tmp": "half",
		"0000000000000009.snap":     string(encodeSnapshot(t, raft.Snapshot{Index: 9, Term: 1})),
		"0000000000000002.snap":     "old",
	} {
		require.NoError(t, vfs.WriteFileAtomic(m, dir+"/"+name, []byte(data), 0o644))
	}
	s := openMem(t, m)
	assert.Equal(t, final.view(), viewOf(t, s))
	names, err := m.ReadDir(dir)
	require.NoError(t, err)
	assert.NotContains(t, strings.Join(names, " "), "0000000000000009")
	assert.NotContains(t, names, "0000000000000002.snap")
	assert.Contains(t, names, "0000000000000003.snap")
}

// encodeSnapshot returns the contents of a valid snapshot file for snap,
// as SaveSnapshot writes it.
func encodeSnapshot(t *testing.T, snap raft.Snapshot) []byte {
	m := vfs.NewMem()
	s := openMem(t, m)
	require.NoError(t, s.SaveSnapshot(snap))
	b, err := m.ReadFile(dir + "/" + snapshotFile(snap.Index))
	require.NoError(t, err)
	return b
}

func snapshotFile(index uint64) string { return fmt.Sprintf("%016x.snap", index) }
