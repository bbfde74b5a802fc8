package vfs

import (
	"os"
	"path/filepath"
)

// WriteFileAtomic replaces the named file with data so that a crash at
// any moment leaves either the old contents or the new ones, never a mix
// and never an empty file:
//
//	write name.tmp → sync name.tmp → rename name.tmp over name → sync the directory
//
// The sync before the rename makes the new bytes durable before the name
// points at them (otherwise a crash could leave the name on an empty or
// partial file); the directory sync makes the rename itself durable, so
// that a caller who acts on "saved" after WriteFileAtomic returns is never
// contradicted by a crash.
func WriteFileAtomic(fsys FS, name string, data []byte, perm os.FileMode) error {
	tmp := name + ".tmp"
	f, err := fsys.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, perm)
	if err != nil {
		return err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	if err := fsys.Rename(tmp, name); err != nil {
		return err
	}
	return fsys.SyncDir(filepath.Dir(name))
}
