package vfs_test

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/internal/vfs"
)

// write creates name with data through fsys, syncing it if sync is set.
func write(t *testing.T, fsys vfs.FS, name, data string, sync bool) {
	t.Helper()
	f, err := fsys.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	require.NoError(t, err)
	_, err = io.WriteString(f, data)
	require.NoError(t, err)
	if sync {
		require.NoError(t, f.Sync())
	}
	require.NoError(t, f.Close())
}

func read(t *testing.T, fsys vfs.FS, name string) string {
	t.Helper()
	b, err := fsys.ReadFile(name)
	require.NoError(t, err)
	return string(b)
}

func TestUnsyncedWritesAreLostInACrash(t *testing.T) {
	m := vfs.NewMem()
	require.NoError(t, m.MkdirAll("/d", 0o755))
	write(t, m, "/d/a", "durable", true)
	require.NoError(t, m.SyncDir("/d"))

	f, err := m.OpenFile("/d/a", os.O_WRONLY|os.O_APPEND, 0)
	require.NoError(t, err)
	_, err = f.Write([]byte(" and more"))
	require.NoError(t, err)
	assert.Equal(t, "durable and more", read(t, m, "/d/a"))

	m.Crash()
	assert.Equal(t, "durable", read(t, m, "/d/a"))
	_, err = f.Write([]byte("x"))
	assert.ErrorIs(t, err, vfs.ErrCrashed, "a handle from before the crash")
}

func TestSyncedDataSurvivesACrash(t *testing.T) {
	m := vfs.NewMem()
	write(t, m, "a", "one", true)
	require.NoError(t, m.SyncDir("."))
	m.Crash()
	assert.Equal(t, "one", read(t, m, "a"))
}

func TestANewFileIsLostWithoutADirectorySync(t *testing.T) {
	m := vfs.NewMem()
	write(t, m, "a", "synced data, unsynced name", true)
	m.Crash()
	_, err := m.ReadFile("a")
	assert.ErrorIs(t, err, fs.ErrNotExist)
}

func TestARenameIsUndoneWithoutADirectorySync(t *testing.T) {
	m := vfs.NewMem()
	write(t, m, "a", "old", true)
	write(t, m, "a.tmp", "new", true)
	require.NoError(t, m.SyncDir("."))
	require.NoError(t, m.Rename("a.tmp", "a"))
	assert.Equal(t, "new", read(t, m, "a"))
	m.Crash()
	assert.Equal(t, "old", read(t, m, "a"))
	assert.Equal(t, "new", read(t, m, "a.tmp"))
}

func TestARemoveIsUndoneWithoutADirectorySync(t *testing.T) {
	m := vfs.NewMem()
	write(t, m, "a", "kept", true)
	require.NoError(t, m.SyncDir("."))
	require.NoError(t, m.Remove("a"))
	m.Crash()
	assert.Equal(t, "kept", read(t, m, "a"))
}

func TestADurableNameOnUnsyncedDataIsEmptyAfterACrash(t *testing.T) {
	m := vfs.NewMem()
	write(t, m, "a", "never synced", false)
	require.NoError(t, m.SyncDir("."))
	m.Crash()
	assert.Equal(t, "", read(t, m, "a"))
}

func TestCrashTornKeepsAPrefixOfTheUnsyncedWrites(t *testing.T) {
	const seeds = 200
	outcomes := make(map[string]bool)
	for seed := int64(0); seed < seeds; seed++ {
		m := vfs.NewMem()
		write(t, m, "log", "A", true)
		require.NoError(t, m.SyncDir("."))
		f, err := m.OpenFile("log", os.O_WRONLY|os.O_APPEND, 0)
		require.NoError(t, err)
		for _, s := range []string{"bb", "ccc", "dddd"} {
			_, err := io.WriteString(f, s)
			require.NoError(t, err)
		}
		m.CrashTorn(seed)
		got := read(t, m, "log")
		assert.Equal(t, "Abbcccdddd"[:len(got)], got, "seed %d: a prefix of the writes, in order", seed)
		outcomes[got] = true

		again := vfs.NewMem()
		write(t, again, "log", "A", true)
		require.NoError(t, again.SyncDir("."))
		g, err := again.OpenFile("log", os.O_WRONLY|os.O_APPEND, 0)
		require.NoError(t, err)
		for _, s := range []string{"bb", "ccc", "dddd"} {
			_, err := io.WriteString(g, s)
			require.NoError(t, err)
		}
		again.CrashTorn(seed)
		assert.Equal(t, got, read(t, again, "log"), "seed %d replays", seed)
	}
	assert.True(t, outcomes["A"], "some crash kept nothing unsynced")
	assert.True(t, outcomes["Abbcccdddd"], "some crash kept everything")
	assert.True(t, outcomes["Abbc"] || outcomes["Abbcc"] || outcomes["Abbcccd"], "some crash tore a write: %v", outcomes)
}

func TestOpsRecordsTheOrder(t *testing.T) {
	m := vfs.NewMem()
	require.NoError(t, vfs.WriteFileAtomic(m, "state", []byte("v1"), 0o644))
	var got []string
	for _, op := range m.Ops() {
		got = append(got, op.String())
	}
	assert.Equal(t, []string{"create state.tmp", "write state.tmp 2@0", "sync state.tmp", "rename state.tmp state", "syncdir ."}, got)
}

func TestWriteFileAtomicLeavesOldOrNewWhereverItCrashes(t *testing.T) {
	// Count the ops of one replacement, then crash after each prefix of
	// them: the fault hook fails op k and every later one.
	probe := vfs.NewMem()
	write(t, probe, "state", "old", true)
	require.NoError(t, probe.SyncDir("."))
	probe.ResetOps()
	require.NoError(t, vfs.WriteFileAtomic(probe, "state", []byte("new"), 0o644))
	n := len(probe.Ops())
	require.Equal(t, 5, n)

	for k := 0; k <= n; k++ {
		for _, torn := range []bool{false, true} {
			m := vfs.NewMem()
			write(t, m, "state", "old", true)
			require.NoError(t, m.SyncDir("."))
			done := 0
			m.SetFault(func(vfs.Op) error {
				if done >= k {
					return errors.New("power cut")
				}
				done++
				return nil
			})
			err := vfs.WriteFileAtomic(m, "state", []byte("new"), 0o644)
			assert.Equal(t, k == n, err == nil, "crash after %d ops: err %v", k, err)
			m.SetFault(nil)
			if torn {
				m.CrashTorn(int64(k))
			} else {
				m.Crash()
			}
			got := read(t, m, "state")
			assert.Contains(t, []string{"old", "new"}, got, "crash after %d of %d ops (torn %v)", k, n, torn)
			if k == n {
				assert.Equal(t, "new", got, "WriteFileAtomic returned nil, so the new contents must survive")
			}
		}
	}
}

func TestFaultFailsTheOperationAndChangesNothing(t *testing.T) {
	m := vfs.NewMem()
	write(t, m, "a", "x", true)
	boom := errors.New("disk full")
	m.SetFault(func(op vfs.Op) error {
		if op.Kind == vfs.OpWrite {
			return boom
		}
		return nil
	})
	f, err := m.OpenFile("a", os.O_WRONLY|os.O_APPEND, 0)
	require.NoError(t, err)
	_, err = f.Write([]byte("y"))
	require.ErrorIs(t, err, boom)
	assert.Equal(t, "x", read(t, m, "a"))
	ops := m.Ops()
	assert.Equal(t, boom, ops[len(ops)-1].Err)
}

func TestFileReadSeekTruncate(t *testing.T) {
	for _, tt := range []struct {
		name string
		fsys func(t *testing.T) (vfs.FS, string)
	}{
		{"mem", func(t *testing.T) (vfs.FS, string) { return vfs.NewMem(), "/d" }},
		{"os", func(t *testing.T) (vfs.FS, string) { return vfs.OS{}, t.TempDir() }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			fsys, dir := tt.fsys(t)
			require.NoError(t, fsys.MkdirAll(dir, 0o755))
			name := filepath.Join(dir, "f")
			f, err := fsys.OpenFile(name, os.O_RDWR|os.O_CREATE, 0o644)
			require.NoError(t, err)
			_, err = f.Write([]byte("hello world"))
			require.NoError(t, err)
			require.NoError(t, f.Truncate(5))
			size, err := f.Size()
			require.NoError(t, err)
			assert.EqualValues(t, 5, size)
			_, err = f.Seek(1, io.SeekStart)
			require.NoError(t, err)
			b, err := io.ReadAll(f)
			require.NoError(t, err)
			assert.Equal(t, "ello", string(b))
			require.NoError(t, f.Close())

			_, err = fsys.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o644)
			assert.ErrorIs(t, err, fs.ErrExist)
			_, err = fsys.OpenFile(filepath.Join(dir, "missing"), os.O_RDONLY, 0)
			assert.ErrorIs(t, err, fs.ErrNotExist)

			names, err := fsys.ReadDir(dir)
			require.NoError(t, err)
			assert.Equal(t, []string{"f"}, names)
			require.NoError(t, fsys.SyncDir(dir))
		})
	}
}

func TestLockIsExclusive(t *testing.T) {
	for _, tt := range []struct {
		name string
		fsys func(t *testing.T) (vfs.FS, string)
	}{
		{"mem", func(t *testing.T) (vfs.FS, string) { return vfs.NewMem(), "." }},
		{"os", func(t *testing.T) (vfs.FS, string) { return vfs.OS{}, t.TempDir() }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			fsys, dir := tt.fsys(t)
			l, err := fsys.Lock(dir)
			require.NoError(t, err)
			_, err = fsys.Lock(dir)
			require.ErrorIs(t, err, vfs.ErrLocked)
			require.NoError(t, l.Close())
			l2, err := fsys.Lock(dir)
			require.NoError(t, err, "released by Close")
			require.NoError(t, l2.Close())
		})
	}
}

func TestACrashReleasesLocks(t *testing.T) {
	m := vfs.NewMem()
	_, err := m.Lock(".")
	require.NoError(t, err)
	m.Crash()
	l, err := m.Lock(".")
	require.NoError(t, err)
	require.NoError(t, l.Close())
}
