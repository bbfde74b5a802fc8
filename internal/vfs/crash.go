package vfs

import (
	"fmt"
	"maps"
	"math/rand"
	"slices"
)

// OpKind names a mutating file-system operation.
type OpKind int

// The operations a Mem records.
const (
	OpCreate   OpKind = iota + 1 // a new file
	OpWrite                      // bytes written at Off
	OpSync                       // a file's contents made durable
	OpTruncate                   // a file cut (or grown) to size Off
	OpRename                     // Path renamed to To
	OpRemove                     // a file removed
	OpSyncDir                    // a directory's entries made durable
	OpMkdir                      // a directory created
)

var opNames = [...]string{"?", "create", "write", "sync", "truncate", "rename", "remove", "syncdir", "mkdir"}

// String returns the operation's name, as in "sync".
func (k OpKind) String() string {
	if k < 0 || int(k) >= len(opNames) {
		return fmt.Sprintf("OpKind(%d)", int(k))
	}
	return opNames[k]
}

// Op is one recorded operation.
type Op struct {
	Kind OpKind
	Path string // the file or directory
	To   string // OpRename: the new name
	Off  int64  // OpWrite: the offset; OpTruncate: the new size
	Data []byte // OpWrite: the bytes
	Err  error  // the error the fault hook made it fail with, if any
}

// String describes the op in a line, for test failures: "write a.tmp
// 36@0", "rename a.tmp a".
func (op Op) String() string {
	s := op.Kind.String() + " " + op.Path
	switch op.Kind {
	case OpRename:
		s += " " + op.To
	case OpWrite:
		s += fmt.Sprintf(" %d@%d", len(op.Data), op.Off)
	case OpTruncate:
		s += fmt.Sprintf(" %d", op.Off)
	}
	if op.Err != nil {
		s += " (failed: " + op.Err.Error() + ")"
	}
	return s
}

// Crash simulates a power cut in which everything not durable is lost:
// every file goes back to its contents at its last Sync, every directory
// to its entries at its last SyncDir. Handles opened before the crash
// fail with ErrCrashed, locks are released, and the recorded ops are kept.
// The Mem is then what a restarted process would find on the disk.
func (m *Mem) Crash() { m.crash(nil) }

// CrashTorn is Crash, except that each file keeps a prefix of the writes
// made to it since its last sync, chosen by seed, and the last write kept
// may be torn (only its first bytes reached the disk). It models a disk
// that wrote some of the dirty pages before the power went. The same seed
// on the same history keeps the same bytes.
func (m *Mem) CrashTorn(seed int64) { m.crash(rand.New(rand.NewSource(seed))) }

func (m *Mem) crash(rng *rand.Rand) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.gen++
	m.locks = make(map[string]bool)
	seen := make(map[*inode]bool)
	// Walk in sorted order, so that a seed replays.
	for _, path := range slices.Sorted(maps.Keys(m.dirs)) {
		d := m.dirs[path]
		d.entries = make(map[string]*inode, len(d.durable))
		for _, name := range slices.Sorted(maps.Keys(d.durable)) {
			ino := d.durable[name]
			d.entries[name] = ino
			if !seen[ino] {
				seen[ino] = true
				ino.revert(rng)
			}
		}
	}
}

// revert sets the file to what survives a crash: its synced contents, plus
// (with rng) a prefix of the pending writes, the last maybe torn.
func (ino *inode) revert(rng *rand.Rand) {
	data := append([]byte(nil), ino.synced...)
	if rng != nil && len(ino.pending) > 0 {
		keep := rng.Intn(len(ino.pending) + 1)
		for i, op := range ino.pending[:keep] {
			if i == keep-1 && op.Kind == OpWrite && len(op.Data) > 1 {
				op.Data = op.Data[:1+rng.Intn(len(op.Data))]
			}
			data = applyOp(data, op)
		}
	}
	ino.data = data
	ino.synced = append([]byte(nil), data...)
	ino.pending = nil
}
