package lock

import "github.com/distsys-kit/distsys/internal/vfs"

// NewServerFS is NewServer on the file system fsys, for the tests of
// package lock_test: an in-memory vfs.Mem shows the order of writes,
// syncs and renames, and can crash.
func NewServerFS(cfg Config, fsys vfs.FS) (*Server, error) { return newServer(cfg, fsys) }
