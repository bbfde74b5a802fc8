package lock

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"path/filepath"
	"time"

	"github.com/distsys-kit/distsys/internal/vfs"
)

// durableState is all the server keeps on disk. Holders, waiters and
// sessions are not in it: writing them would cost a disk write per grant.
// Instead a restarted server waits out Horizon before granting anything,
// so every lease of the previous run has ended, and starts its tokens at
// TokenLimit, so none repeats.
type durableState struct {
	Epoch      uint64        // the run that wrote it; 1 for the first
	TokenLimit uint64        // every token issued so far is below this
	Horizon    time.Duration // how long a lease or lock-delay of that run can outlive a crash
}

// StateFileName is the name of the state file in the server's directory.
const StateFileName = "lock.state"

// The state file is 36 bytes, all big-endian:
//
//	magic   8 bytes  "dslock\x00\x01" (format version 1)
//	epoch   uint64
//	limit   uint64   token high-water mark
//	horizon int64    nanoseconds
//	crc     uint32   CRC-32C of the 32 bytes before it
//
// It is replaced whole by write-then-rename, so a crash leaves either the
// old file or the new one, never a mixture; a file of another size, another
// magic or a bad checksum was damaged by something else, and is refused.
const (
	stateMagic = "dslock\x00\x01"
	stateSize  = 36
)

var crcTable = crc32.MakeTable(crc32.Castagnoli)

func (st durableState) marshal() []byte {
	b := make([]byte, 0, stateSize)
	b = append(b, stateMagic...)
	b = binary.BigEndian.AppendUint64(b, st.Epoch)
	b = binary.BigEndian.AppendUint64(b, st.TokenLimit)
	b = binary.BigEndian.AppendUint64(b, uint64(st.Horizon))
	return binary.BigEndian.AppendUint32(b, crc32.Checksum(b, crcTable))
}

// unmarshalState decodes a state file, or says in words what is wrong
// with it.
func unmarshalState(b []byte) (durableState, error) {
	if len(b) != stateSize {
		return durableState{}, fmt.Errorf("%d bytes, want %d (truncated or overwritten?)", len(b), stateSize)
	}
	if string(b[:8]) != stateMagic {
		return durableState{}, fmt.Errorf("bad magic %q, want %q", b[:8], stateMagic)
	}
	if got, want := binary.BigEndian.Uint32(b[32:]), crc32.Checksum(b[:32], crcTable); got != want {
		return durableState{}, fmt.Errorf("checksum %08x, want %08x", got, want)
	}
	st := durableState{
		Epoch:      binary.BigEndian.Uint64(b[8:]),
		TokenLimit: binary.BigEndian.Uint64(b[16:]),
		Horizon:    time.Duration(binary.BigEndian.Uint64(b[24:])),
	}
	if st.Epoch == 0 || st.TokenLimit == 0 || st.Horizon < 0 {
		return durableState{}, fmt.Errorf("impossible values: epoch %d, token limit %d, horizon %v",
			st.Epoch, st.TokenLimit, st.Horizon)
	}
	return st, nil
}

// The state file goes through a vfs.FS, the file-system seam: the real
// file system in a running server, and in tests an in-memory one that
// records the order of writes, syncs and renames and can lose what was not
// synced, as a power cut would.

// lockDir creates dir if needed and takes its lock, so that no other
// server uses it until the returned Closer is closed. On the real file
// system the lock is flock(2) where the platform has it (see package
// internal/vfs): advisory, so it keeps out other lock servers, not other
// programs, and released by the kernel when the process dies, however it
// dies. Elsewhere there is no lock, and keeping to one server per
// directory is the operator's job.
func lockDir(fsys vfs.FS, dir string) (io.Closer, error) {
	if err := fsys.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("lock: state directory: %w", err)
	}
	l, err := fsys.Lock(dir)
	switch {
	case errors.Is(err, vfs.ErrLocked):
		return nil, fmt.Errorf("%w: %s", ErrDirLocked, dir)
	case err != nil:
		return nil, fmt.Errorf("lock: state directory: %w", err)
	}
	return l, nil
}

// loadState reads the state file in dir. A missing file is a new
// directory: the zero state. A file that cannot be trusted is an error
// matching ErrCorruptState.
func loadState(fsys vfs.FS, dir string) (durableState, error) {
	path := filepath.Join(dir, StateFileName)
	b, err := fsys.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return durableState{}, nil
	}
	if err != nil {
		return durableState{}, fmt.Errorf("lock: read state: %w", err)
	}
	st, err := unmarshalState(b)
	if err != nil {
		return durableState{}, fmt.Errorf("%w: %s: %v; refusing to start, since tokens could repeat", ErrCorruptState, path, err)
	}
	return st, nil
}

// saveState replaces the state file in dir with st durably, so that after
// a crash at any moment the file holds either the old state or st, and
// once saveState returns, st:
//
//	write lock.state.tmp → fsync it → rename it over lock.state → fsync dir
//
// Without the first fsync, a crash could leave the new name on an empty or
// partial file (ErrCorruptState at the next start); writing lock.state in
// place could tear it; without the directory's fsync, the rename could be
// undone, and a restarted server would start below tokens it had issued.
func saveState(fsys vfs.FS, dir string, st durableState) error {
	return vfs.WriteFileAtomic(fsys, filepath.Join(dir, StateFileName), st.marshal(), 0o644)
}
