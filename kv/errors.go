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
	// ErrTooLarge is matched by the *LimitError that a write through a
	// server returns when its key or value is longer than the server's
	// Limits allow.
	ErrTooLarge = errors.New("kv: key or value too large")
	// ErrFull is matched by the *LimitError that a write through a server
	// returns when it would make the store hold more keys or bytes than
	// the server's Limits allow.
	ErrFull = errors.New("kv: store full")
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

// LimitError is what a write through a server returns when the server
// refused it because it would go over one of the server's Limits. Nothing
// was written. It matches ErrTooLarge (Limit is "MaxKeyLen" or
// "MaxValueLen") or ErrFull ("MaxKeys" or "MaxBytes").
type LimitError struct {
	Limit string // the field of Limits: "MaxKeyLen", "MaxValueLen", "MaxKeys" or "MaxBytes"
	Max   int64  // the limit
	Got   int64  // what the write would have made it
}

func (e *LimitError) Error() string {
	var what string
	switch e.Limit {
	case "MaxKeyLen":
		what = "a key of %d bytes is"
	case "MaxValueLen":
		what = "a value of %d bytes is"
	case "MaxKeys":
		what = "store full: %d keys would be"
	case "MaxBytes":
		what = "store full: %d bytes of keys and values would be"
	default:
		what = "%d is"
	}
	return fmt.Sprintf("kv: "+what+" over the server's limit (%s %d)", e.Got, e.Limit, e.Max)
}

// Is reports whether target is the sentinel the limit matches:
// ErrTooLarge for MaxKeyLen and MaxValueLen, ErrFull for MaxKeys and
// MaxBytes.
func (e *LimitError) Is(target error) bool {
	switch e.Limit {
	case "MaxKeyLen", "MaxValueLen":
		return target == ErrTooLarge
	case "MaxKeys", "MaxBytes":
		return target == ErrFull
	}
	return false
}
