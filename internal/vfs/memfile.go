package vfs

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// memFile is an open file of a Mem.
type memFile struct {
	m      *Mem
	ino    *inode
	name   string
	gen    int
	flag   int
	off    int64
	closed bool
}

var errClosedFile = errors.New("vfs: file already closed")

// check returns why the handle may not be used, if it may not. The caller
// holds f.m.mu.
func (f *memFile) check() error {
	switch {
	case f.closed:
		return &fs.PathError{Op: "use", Path: f.name, Err: errClosedFile}
	case f.gen != f.m.gen:
		return &fs.PathError{Op: "use", Path: f.name, Err: ErrCrashed}
	}
	return nil
}

func (f *memFile) Read(p []byte) (int, error) {
	f.m.mu.Lock()
	defer f.m.mu.Unlock()
	if err := f.check(); err != nil {
		return 0, err
	}
	if f.flag&(os.O_WRONLY|os.O_RDWR) == os.O_WRONLY {
		return 0, &fs.PathError{Op: "read", Path: f.name, Err: fs.ErrPermission}
	}
	if f.off >= int64(len(f.ino.data)) {
		return 0, io.EOF
	}
	n := copy(p, f.ino.data[f.off:])
	f.off += int64(n)
	return n, nil
}

func (f *memFile) Write(p []byte) (int, error) {
	f.m.mu.Lock()
	defer f.m.mu.Unlock()
	if err := f.check(); err != nil {
		return 0, err
	}
	if f.flag&(os.O_WRONLY|os.O_RDWR) == 0 {
		return 0, &fs.PathError{Op: "write", Path: f.name, Err: fs.ErrPermission}
	}
	if f.flag&os.O_APPEND != 0 {
		f.off = int64(len(f.ino.data))
	}
	op := Op{Kind: OpWrite, Path: f.name, Off: f.off, Data: append([]byte(nil), p...)}
	if err := f.m.do(op); err != nil {
		return 0, &fs.PathError{Op: "write", Path: f.name, Err: err}
	}
	f.ino.apply(op)
	f.off += int64(len(p))
	return len(p), nil
}

func (f *memFile) Seek(offset int64, whence int) (int64, error) {
	f.m.mu.Lock()
	defer f.m.mu.Unlock()
	if err := f.check(); err != nil {
		return 0, err
	}
	var abs int64
	switch whence {
	case io.SeekStart:
		abs = offset
	case io.SeekCurrent:
		abs = f.off + offset
	case io.SeekEnd:
		abs = int64(len(f.ino.data)) + offset
	default:
		return 0, fmt.Errorf("vfs: seek %s: bad whence %d", f.name, whence)
	}
	if abs < 0 {
		return 0, fmt.Errorf("vfs: seek %s: negative position", f.name)
	}
	f.off = abs
	return abs, nil
}

func (f *memFile) Sync() error {
	f.m.mu.Lock()
	defer f.m.mu.Unlock()
	if err := f.check(); err != nil {
		return err
	}
	if err := f.m.do(Op{Kind: OpSync, Path: f.name}); err != nil {
		return &fs.PathError{Op: "sync", Path: f.name, Err: err}
	}
	f.ino.synced = append([]byte(nil), f.ino.data...)
	f.ino.pending = nil
	return nil
}

func (f *memFile) Truncate(size int64) error {
	f.m.mu.Lock()
	defer f.m.mu.Unlock()
	if err := f.check(); err != nil {
		return err
	}
	if size < 0 {
		return fmt.Errorf("vfs: truncate %s: negative size", f.name)
	}
	op := Op{Kind: OpTruncate, Path: f.name, Off: size}
	if err := f.m.do(op); err != nil {
		return &fs.PathError{Op: "truncate", Path: f.name, Err: err}
	}
	f.ino.apply(op)
	return nil
}

func (f *memFile) Size() (int64, error) {
	f.m.mu.Lock()
	defer f.m.mu.Unlock()
	if err := f.check(); err != nil {
		return 0, err
	}
	return int64(len(f.ino.data)), nil
}

func (f *memFile) Close() error {
	f.m.mu.Lock()
	defer f.m.mu.Unlock()
	if f.closed {
		return &fs.PathError{Op: "close", Path: f.name, Err: errClosedFile}
	}
	f.closed = true
	return nil
}

// apply changes the file's current contents by a write or truncate and
// remembers it as not yet durable.
func (ino *inode) apply(op Op) {
	ino.data = applyOp(ino.data, op)
	ino.pending = append(ino.pending, op)
}

// applyOp returns data after op (a write or a truncate).
func applyOp(data []byte, op Op) []byte {
	switch op.Kind {
	case OpWrite:
		if end := op.Off + int64(len(op.Data)); end > int64(len(data)) {
			data = append(data, make([]byte, end-int64(len(data)))...)
		}
		copy(data[op.Off:], op.Data)
	case OpTruncate:
		if op.Off <= int64(len(data)) {
			data = data[:op.Off]
		} else {
			data = append(data, make([]byte, op.Off-int64(len(data)))...)
		}
	}
	return data
}
