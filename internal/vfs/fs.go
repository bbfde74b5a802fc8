package vfs

import (
	"errors"
	"io"
	"io/fs"
	"os"
)

// FS is the part of a file system that durable state needs. Paths are
// slash- or OS-separated as for package os. Implementations are safe for
// concurrent use.
type FS interface {
	// OpenFile opens or creates the named file, like os.OpenFile.
	OpenFile(name string, flag int, perm fs.FileMode) (File, error)
	// ReadFile returns the named file's contents, like os.ReadFile.
	ReadFile(name string) ([]byte, error)
	// ReadDir returns the names of the entries of the named directory,
	// sorted.
	ReadDir(name string) ([]string, error)
	// Rename renames oldpath to newpath, replacing newpath if it exists,
	// like os.Rename. The new name is durable once its directory is synced.
	Rename(oldpath, newpath string) error
	// Remove removes the named file, like os.Remove.
	Remove(name string) error
	// MkdirAll creates a directory and its parents, like os.MkdirAll.
	MkdirAll(path string, perm fs.FileMode) error
	// SyncDir flushes the named directory's entries to stable storage, so
	// that files created, renamed or removed in it stay so after a crash.
	SyncDir(name string) error
	// Lock takes an exclusive lock on the named directory, or returns an
	// error matching ErrLocked if another holder has it. Closing the
	// returned io.Closer releases it.
	Lock(dir string) (io.Closer, error)
}

// File is an open file of an FS.
type File interface {
	io.Reader
	io.Writer
	io.Seeker
	io.Closer
	// Sync flushes the file's contents to stable storage.
	Sync() error
	// Truncate changes the file's size.
	Truncate(size int64) error
	// Size returns the file's current size in bytes.
	Size() (int64, error)
}

// ErrLocked is returned by FS.Lock when another holder has the lock.
var ErrLocked = errors.New("vfs: directory is locked by another process")

// ErrCrashed is returned by a file handle of a Mem that was opened before
// the Mem crashed: the process that held it is gone.
var ErrCrashed = errors.New("vfs: file handle from before a crash")

// OS is the real file system, through package os.
type OS struct{}

var _ FS = OS{}

// OpenFile opens the named file with os.OpenFile.
func (OS) OpenFile(name string, flag int, perm fs.FileMode) (File, error) {
	f, err := os.OpenFile(name, flag, perm)
	if err != nil {
		return nil, err
	}
	return osFile{f}, nil
}

// ReadFile reads the named file with os.ReadFile.
func (OS) ReadFile(name string) ([]byte, error) { return os.ReadFile(name) }

// ReadDir lists the named directory with os.ReadDir.
func (OS) ReadDir(name string) ([]string, error) {
	entries, err := os.ReadDir(name)
	if err != nil {
		return nil, err
	}
	names := make([]string, len(entries))
	for i, e := range entries {
		names[i] = e.Name()
	}
	return names, nil
}

// Rename renames with os.Rename.
func (OS) Rename(oldpath, newpath string) error { return os.Rename(oldpath, newpath) }

// Remove removes with os.Remove.
func (OS) Remove(name string) error { return os.Remove(name) }

// MkdirAll creates directories with os.MkdirAll.
func (OS) MkdirAll(path string, perm fs.FileMode) error { return os.MkdirAll(path, perm) }

// SyncDir opens the directory and fsyncs it.
func (OS) SyncDir(name string) error {
	d, err := os.Open(name)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}

// Lock takes flock(2) on the directory where the platform has it (see
// lock_flock.go); elsewhere it returns a no-op lock, and the one-process-
// per-directory rule is the user's to keep.
func (OS) Lock(dir string) (io.Closer, error) { return lockDir(dir) }

// osFile adds Size to *os.File.
type osFile struct{ *os.File }

func (f osFile) Size() (int64, error) {
	st, err := f.Stat()
	if err != nil {
		return 0, err
	}
	return st.Size(), nil
}
