package kv

import (
	"errors"
	"fmt"
)

var (
	// ErrNoKey is returned by Get for a key that was never written.
	ErrNoKey = errors.New("kv: no such key")
	// ErrConflict is matched by the *ConflictError that PutIf returns when
	// the key's version is not the one given.
	ErrConflict = errors.New("kv: version conflict")
)

// ConflictError is what PutIf returns when the key is not at the version
// the caller gave: someone wrote it since the caller read it (or, for
// version 0, it exists already). Read it again and retry. It matches
// ErrConflict.
type ConflictError struct {
	Key  string
	Want uint64 // the version the caller gave
	Have uint64 // the version the key is at
}

func (e *ConflictError) Error() string {
	return fmt.Sprintf("kv: put %q at version %d, but it is at %d: read it again and retry", e.Key, e.Want, e.Have)
}

// Is reports whether target is ErrConflict, so that errors.Is(err,
// ErrConflict) holds.
func (e *ConflictError) Is(target error) bool { return target == ErrConflict }
