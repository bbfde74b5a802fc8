//go:build !(linux || darwin || freebsd || netbsd || openbsd || dragonfly)

package vfs

import "io"

// lockDir is a no-op where flock is not available: the rule "one process
// per directory" is then the user's to keep.
func lockDir(dir string) (io.Closer, error) { return nopCloser{}, nil }

type nopCloser struct{}

func (nopCloser) Close() error { return nil }
