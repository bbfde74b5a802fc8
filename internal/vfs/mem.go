package vfs

import (
	"fmt"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sync"
)

// Mem is an in-memory FS that records what it is asked to do and can
// crash, losing what was not yet durable (see the package comment for the
// model). The zero value is not usable; call NewMem. A Mem is safe for
// concurrent use.
type Mem struct {
	mu    sync.Mutex // protects every field below
	gen   int        // bumped by each crash; handles of older generations fail
	dirs  map[string]*memDir
	ops   []Op
	fault func(Op) error
	locks map[string]bool
}

// memDir is a directory: its entries now, and as of its last sync.
type memDir struct {
	entries map[string]*inode
	durable map[string]*inode
}

// inode is a file's contents: now, as of its last sync, and the writes in
// between, in order, so that a crash can keep a prefix of them.
type inode struct {
	data    []byte
	synced  []byte
	pending []Op
}

var _ FS = (*Mem)(nil)

// NewMem returns an empty in-memory file system whose root directory
// exists.
func NewMem() *Mem {
	m := &Mem{dirs: make(map[string]*memDir), locks: make(map[string]bool)}
	m.dirs[string(filepath.Separator)] = newMemDir()
	m.dirs["."] = newMemDir()
	return m
}

func newMemDir() *memDir {
	return &memDir{entries: make(map[string]*inode), durable: make(map[string]*inode)}
}

// SetFault installs f, called with each mutating operation before it is
// applied (OpCreate, OpWrite, OpSync, OpTruncate, OpRename, OpRemove,
// OpSyncDir, OpMkdir). If f returns an error the operation fails with it
// and changes nothing. A nil f removes the hook. f runs with the Mem's
// lock held and must not call back into the Mem.
func (m *Mem) SetFault(f func(Op) error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.fault = f
}

// Ops returns a copy of the mutating operations done so far, in order,
// including those a fault made fail (Op.Err says which).
func (m *Mem) Ops() []Op {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]Op(nil), m.ops...)
}

// ResetOps forgets the recorded operations, so a test can look at the ops
// of one step alone.
func (m *Mem) ResetOps() {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.ops = nil
}

// do records op and asks the fault hook whether it may happen. The
// caller holds m.mu.
func (m *Mem) do(op Op) error {
	if m.fault != nil {
		op.Err = m.fault(op)
	}
	m.ops = append(m.ops, op)
	return op.Err
}

// lookup splits name into its directory and base and returns the
// directory, or an error if it does not exist. The caller holds m.mu.
func (m *Mem) lookup(name string) (*memDir, string, string, error) {
	name = filepath.Clean(name)
	d := m.dirs[filepath.Dir(name)]
	if d == nil {
		return nil, "", "", &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	return d, filepath.Base(name), name, nil
}

// OpenFile opens or creates a file. O_CREATE, O_EXCL, O_TRUNC, O_APPEND,
// O_RDONLY, O_WRONLY and O_RDWR have their os meanings; perm is ignored.
func (m *Mem) OpenFile(name string, flag int, perm fs.FileMode) (File, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	d, base, name, err := m.lookup(name)
	if err != nil {
		return nil, err
	}
	if m.dirs[name] != nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fmt.Errorf("is a directory")}
	}
	ino := d.entries[base]
	switch {
	case ino == nil && flag&os.O_CREATE == 0:
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	case ino != nil && flag&os.O_CREATE != 0 && flag&os.O_EXCL != 0:
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrExist}
	case ino == nil:
		if err := m.do(Op{Kind: OpCreate, Path: name}); err != nil {
			return nil, &fs.PathError{Op: "open", Path: name, Err: err}
		}
		ino = &inode{}
		d.entries[base] = ino
	}
	if flag&os.O_TRUNC != 0 && len(ino.data) > 0 {
		op := Op{Kind: OpTruncate, Path: name, Off: 0}
		if err := m.do(op); err != nil {
			return nil, &fs.PathError{Op: "open", Path: name, Err: err}
		}
		ino.apply(op)
	}
	return &memFile{m: m, ino: ino, name: name, gen: m.gen, flag: flag}, nil
}

// ReadFile returns a copy of the named file's current contents.
func (m *Mem) ReadFile(name string) ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	d, base, name, err := m.lookup(name)
	if err != nil {
		return nil, err
	}
	ino := d.entries[base]
	if ino == nil {
		return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
	}
	return append([]byte(nil), ino.data...), nil
}

// ReadDir returns the sorted names of the files in the named directory
// (subdirectories are not listed).
func (m *Mem) ReadDir(name string) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	d := m.dirs[filepath.Clean(name)]
	if d == nil {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: fs.ErrNotExist}
	}
	return slices.Sorted(maps.Keys(d.entries)), nil
}

// Rename moves oldpath to newpath, replacing newpath. Until the
// directories are synced, a crash undoes it.
func (m *Mem) Rename(oldpath, newpath string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	od, obase, oldpath, err := m.lookup(oldpath)
	if err != nil {
		return &fs.PathError{Op: "rename", Path: oldpath, Err: fs.ErrNotExist}
	}
	nd, nbase, newpath, err := m.lookup(newpath)
	if err != nil {
		return &fs.PathError{Op: "rename", Path: newpath, Err: fs.ErrNotExist}
	}
	ino := od.entries[obase]
	if ino == nil {
		return &fs.PathError{Op: "rename", Path: oldpath, Err: fs.ErrNotExist}
	}
	if err := m.do(Op{Kind: OpRename, Path: oldpath, To: newpath}); err != nil {
		return &fs.PathError{Op: "rename", Path: oldpath, Err: err}
	}
	delete(od.entries, obase)
	nd.entries[nbase] = ino
	return nil
}

// Remove deletes the named file. Until its directory is synced, a crash
// brings it back.
func (m *Mem) Remove(name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	d, base, name, err := m.lookup(name)
	if err != nil || d.entries[base] == nil {
		return &fs.PathError{Op: "remove", Path: name, Err: fs.ErrNotExist}
	}
	if err := m.do(Op{Kind: OpRemove, Path: name}); err != nil {
		return &fs.PathError{Op: "remove", Path: name, Err: err}
	}
	delete(d.entries, base)
	return nil
}

// MkdirAll creates the directory and its parents. Directories, unlike
// files, are durable at once: the model is about file data and names.
func (m *Mem) MkdirAll(path string, perm fs.FileMode) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	path = filepath.Clean(path)
	for p := path; m.dirs[p] == nil; p = filepath.Dir(p) {
		if err := m.do(Op{Kind: OpMkdir, Path: p}); err != nil {
			return &fs.PathError{Op: "mkdir", Path: p, Err: err}
		}
		m.dirs[p] = newMemDir()
	}
	return nil
}

// SyncDir makes the named directory's current entries durable.
func (m *Mem) SyncDir(name string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	name = filepath.Clean(name)
	d := m.dirs[name]
	if d == nil {
		return &fs.PathError{Op: "sync", Path: name, Err: fs.ErrNotExist}
	}
	if err := m.do(Op{Kind: OpSyncDir, Path: name}); err != nil {
		return &fs.PathError{Op: "sync", Path: name, Err: err}
	}
	d.durable = make(map[string]*inode, len(d.entries))
	for n, ino := range d.entries {
		d.durable[n] = ino
	}
	return nil
}

// Lock takes an in-memory exclusive lock on dir. A crash releases every
// lock, as the death of a process releases its flocks.
func (m *Mem) Lock(dir string) (io.Closer, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	dir = filepath.Clean(dir)
	if m.locks[dir] {
		return nil, fmt.Errorf("%w: %s", ErrLocked, dir)
	}
	m.locks[dir] = true
	return &memLock{m: m, dir: dir, gen: m.gen}, nil
}

type memLock struct {
	m    *Mem
	dir  string
	gen  int
	once sync.Once
}

func (l *memLock) Close() error {
	l.once.Do(func() {
		l.m.mu.Lock()
		defer l.m.mu.Unlock()
		if l.gen == l.m.gen {
			delete(l.m.locks, l.dir)
		}
	})
	return nil
}
