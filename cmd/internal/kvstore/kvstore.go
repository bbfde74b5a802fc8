package kvstore

import (
	"errors"
	"fmt"
	"sync"

	"github.com/distsys-kit/distsys/rpc"
)

// Limits of the store, so that clients cannot make it use unbounded memory.
const (
	MaxKeyLen = 1024
	MaxKeys   = 1 << 20
)

var (
	// ErrConflict is what Put returns when the key's version is no longer
	// the one the writer read: someone else wrote in between. The writer
	// reads again and retries.
	ErrConflict = errors.New("kv: version changed since it was read: read again and retry")

	// ErrFull is what Add and Put return for a new key when the store
	// holds MaxKeys keys already.
	ErrFull = errors.New("kv: store full")
)

// Errors are the sentinels that cross the wire as themselves: declare them
// with rpc.WithErrors on both sides.
var Errors = []error{ErrConflict, ErrFull}

// ServiceName is the name the service is registered under.
const ServiceName = "KV"

// Entry is a value and its version. The version grows by one with every
// write; 0 means "never written".
type Entry struct {
	Value   int
	Version int
}

// AddArgs asks to add Delta to Key's value.
type AddArgs struct {
	Key   string
	Delta int
}

// PutArgs asks to set Key to Value, if Key's version is still Version.
type PutArgs struct {
	Key     string
	Value   int
	Version int
}

// Store is the service. Register it with an rpc server (Register). It is
// safe for concurrent use by multiple goroutines.
type Store struct {
	mu      sync.Mutex // protects everything below
	m       map[string]Entry
	adds    int64 // runs of Add
	refused int64 // Puts refused with ErrConflict
}

// New returns an empty store.
func New() *Store { return &Store{m: map[string]Entry{}} }

// Register registers s with srv under ServiceName.
func (s *Store) Register(srv *rpc.Server) error { return srv.RegisterName(ServiceName, s) }

// Add adds to a key's value and returns the new entry. It is not
// idempotent: run twice, it adds twice. That is what at-most-once retries
// are for.
func (s *Store) Add(args *AddArgs, reply *Entry) error {
	if err := checkKey(args.Key); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.m[args.Key]
	if !ok && len(s.m) >= MaxKeys {
		return ErrFull
	}
	s.adds++
	e.Value += args.Delta
	e.Version++
	s.m[args.Key] = e
	*reply = e
	return nil
}

// Get returns a key's value and version (zero for a key never written).
func (s *Store) Get(key *string, reply *Entry) error {
	if err := checkKey(*key); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	*reply = s.m[*key]
	return nil
}

// Put is a compare-and-set: it writes only if the key's version is the one
// the writer read, so a writer never overwrites a change it has not seen.
// Otherwise it refuses with ErrConflict.
func (s *Store) Put(args *PutArgs, reply *Entry) error {
	if err := checkKey(args.Key); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.m[args.Key]
	if e.Version != args.Version {
		s.refused++
		return fmt.Errorf("put %q at version %d, but it is at %d: %w", args.Key, args.Version, e.Version, ErrConflict)
	}
	if !ok && len(s.m) >= MaxKeys {
		return ErrFull
	}
	e = Entry{Value: args.Value, Version: e.Version + 1}
	s.m[args.Key] = e
	*reply = e
	return nil
}

func checkKey(key string) error {
	if n := len(key); n == 0 || n > MaxKeyLen {
		return fmt.Errorf("kv: key of %d bytes, want 1 to %d", n, MaxKeyLen)
	}
	return nil
}

// Stats is what the store has done, for a status page.
type Stats struct {
	Keys    int   `json:"keys"`
	Adds    int64 `json:"adds"`         // runs of Add
	Refused int64 `json:"puts_refused"` // Puts refused with ErrConflict
}

// Stats returns what the store has done so far.
func (s *Store) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return Stats{Keys: len(s.m), Adds: s.adds, Refused: s.refused}
}
