package lock

import (
	"fmt"
	"sync"
)

// FencedStore is a tiny key-value store that protects itself with fencing
// tokens, the way any resource guarded by a lock service should. Every Put
// carries the writer's token; the store remembers the newest token it has
// seen and refuses any write with an older one. A holder whose lease ran out
// while it was paused (a long garbage collection, a swapped-out process, a
// partition) still believes it holds the lock and still writes, but its
// token is older than the new holder's, so the write is refused instead of
// silently overwriting the new holder's work.
//
// The check runs where the data lives, not in the writer: that is the whole
// point. A writer cannot check its own lease reliably, because it could be
// paused between the check and the write.
//
// Tokens start at 1; a write with token 0 carries no lease and is refused.
// Equal tokens are accepted, since one holder may write many times.
//
// The zero value is an empty store, ready to use. A FencedStore is safe for
// concurrent use by multiple goroutines.
type FencedStore struct {
	mu     sync.Mutex // protects newest, data
	newest uint64
	data   map[string]string
}

// Put stores value under key if token is at least as new as every token
// the store has seen, and remembers token as the newest. Otherwise it
// changes nothing and returns an error matching ErrStaleToken. Put does not
// block, except on other calls to the store.
func (s *FencedStore) Put(token uint64, key, value string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if token == 0 || token < s.newest {
		return fmt.Errorf("%w: write with token %d, but the store has seen token %d", ErrStaleToken, token, s.newest)
	}
	s.newest = token
	if s.data == nil {
		s.data = make(map[string]string)
	}
	s.data[key] = value
	return nil
}

// Get returns the value stored under key, and whether there is one.
// Get takes no token: use it for reads that need no lock. A holder doing
// read-modify-write should read with FencedGet, or an old holder's write
// can land between its read and its write.
func (s *FencedStore) Get(key string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.data[key]
	return v, ok
}

// FencedGet is Get for a lock holder: it returns the value under key if
// token is at least as new as every token the store has seen, and
// remembers token as the newest, so that from then on no older holder can
// write. Otherwise it returns an error matching ErrStaleToken. Reading with
// the token before a read-modify-write makes the whole step safe: an older
// holder's write can land neither before nor after this holder's read.
func (s *FencedStore) FencedGet(token uint64, key string) (string, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if token == 0 || token < s.newest {
		return "", false, fmt.Errorf("%w: read with token %d, but the store has seen token %d", ErrStaleToken, token, s.newest)
	}
	s.newest = token
	v, ok := s.data[key]
	return v, ok, nil
}

// Newest returns the newest fencing token the store has accepted, or 0.
func (s *FencedStore) Newest() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.newest
}
