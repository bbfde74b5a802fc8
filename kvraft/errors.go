package kvraft

import "errors"

// Errors of the service. Get also returns kv.ErrNoKey, and PutIf a
// *kv.ConflictError (matching kv.ErrConflict), as package kv does.
var (
	// ErrMaybeApplied is returned by a Clerk's Put, Append and PutIf when
	// ctx ended while the write was outstanding: some attempt reached a
	// server, and the write may or may not have been applied (once, if
	// it was). The error also wraps ctx.Err(). Read the key to find out.
	ErrMaybeApplied = errors.New("kvraft: the write may or may not have been applied")
	// ErrClosed is returned by a Clerk's methods after Close.
	ErrClosed = errors.New("kvraft: clerk closed")
)
