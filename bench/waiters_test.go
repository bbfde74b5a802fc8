package bench

import (
	"encoding/binary"
	"sync"
)

// waiters wakes the Commit calls waiting for their commands, each known
// by its number (the first 8 bytes, as raftbench.System says).
type waiters struct {
	mu sync.Mutex // protects m
	m  map[uint64]chan struct{}
}

func newWaiters() waiters { return waiters{m: make(map[uint64]chan struct{})} }

// add returns a channel closed when cmd is applied.
func (w *waiters) add(cmd []byte) <-chan struct{} {
	ch := make(chan struct{})
	w.mu.Lock()
	w.m[binary.BigEndian.Uint64(cmd)] = ch
	w.mu.Unlock()
	return ch
}

// done wakes the waiter of cmd, if any: the first server to apply a
// command wakes it, later ones find nobody waiting.
func (w *waiters) done(cmd []byte) {
	id := binary.BigEndian.Uint64(cmd)
	w.mu.Lock()
	defer w.mu.Unlock()
	if ch, ok := w.m[id]; ok {
		close(ch)
		delete(w.m, id)
	}
}

func (w *waiters) forget(cmd []byte) {
	w.mu.Lock()
	delete(w.m, binary.BigEndian.Uint64(cmd))
	w.mu.Unlock()
}
