package wal

import "errors"

var (
	// ErrCorrupt is returned by Open when the directory holds damage it
	// cannot explain as the torn tail of an unfinished write: a record that
	// fails its checksum in any segment but the last, or one followed by
	// valid records; a missing segment; a snapshot file that fails its
	// checksum or is missing. The error names the file and the offset. Open
	// refuses rather than guess, because guessing could drop data that a
	// Save had already promised was durable; a person must look.
	ErrCorrupt = errors.New("wal: corrupt")

	// ErrLocked is returned by Open when another Storage (in this process
	// or another) has the directory open. It also matches the file
	// system's own lock error.
	ErrLocked = errors.New("wal: directory is in use by another storage")

	// ErrClosed is returned by every method of a Storage after Close.
	ErrClosed = errors.New("wal: storage closed")
)
