package wal

import (
	"io"
	"log/slog"

	"github.com/distsys-kit/distsys/internal/vfs"
)

// DefaultSegmentSize is the size at which a segment file is closed and a
// new one started, unless WithSegmentSize says otherwise.
const DefaultSegmentSize = 64 << 20

// An Option configures Open.
type Option interface {
	apply(*options)
}

type optionFunc func(*options)

func (f optionFunc) apply(o *options) { f(o) }

type options struct {
	fs          vfs.FS
	segmentSize int64
	logger      *slog.Logger
}

func newOptions(opts []Option) options {
	o := options{
		fs:          vfs.OS{},
		segmentSize: DefaultSegmentSize,
		logger:      slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	for _, opt := range opts {
		opt.apply(&o)
	}
	return o
}

// WithFS sets the file system the Storage keeps its files on. The default
// is the real one (vfs.OS); tests pass a vfs.Mem to watch the order of
// writes, syncs and renames, and to crash. A nil fsys means the default.
// Package vfs is internal to this module, so only its own code (tests,
// harnesses) can use this option.
func WithFS(fsys vfs.FS) Option {
	return optionFunc(func(o *options) {
		if fsys != nil {
			o.fs = fsys
		}
	})
}

// WithSegmentSize sets the size in bytes past which the Storage starts a
// new segment file: a Save that finds the current segment at least this
// big writes to a new one. Only whole segments are deleted once a snapshot
// covers them, so smaller segments free disk space sooner, at the cost of
// more files. Zero or negative means DefaultSegmentSize.
func WithSegmentSize(n int64) Option {
	return optionFunc(func(o *options) {
		if n > 0 {
			o.segmentSize = n
		}
	})
}

// WithLogger makes the Storage log what recovery does on Open (a torn tail
// cut away, leftover files removed) and the segments it starts and
// deletes. The default discards the log. A nil l means the default.
func WithLogger(l *slog.Logger) Option {
	return optionFunc(func(o *options) {
		if l != nil {
			o.logger = l
		}
	})
}
