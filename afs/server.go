package afs

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/distsys-kit/distsys/rpc"
)

// ErrNoFile is what the server answers for a file it does not have.
// Declare it on both sides with rpc.WithErrors, so that errors.Is works on
// the client.
var ErrNoFile = errors.New("afs: no such file")

// File is a whole file, as the server sends it and a client caches it.
// Version grows by one with every store.
type File struct {
	Name    string
	Data    string
	Version int64
}

// FetchArgs asks for a whole file. Client is the name of the caller, which
// the server calls back (Callback.Break) when the file changes.
type FetchArgs struct {
	Name   string
	Client string
}

// StoreArgs replaces a whole file, as a client does when it closes a file
// it has written.
type StoreArgs struct {
	Name   string
	Data   string
	Client string
}

// BreakArgs is a callback from the server: the client's copy of Name is no
// longer valid, since the file is now at Version.
type BreakArgs struct {
	Name    string
	Version int64
}

// Conn is a connection to a client's callback service: an *rpc.Client, or
// anything with the same Call and Close.
type Conn interface {
	Call(ctx context.Context, method string, args, reply any) error
	Close() error
}

// DialFunc connects the server to the callback service of the client
// named client (the name it gave in FetchArgs and StoreArgs).
type DialFunc func(ctx context.Context, client string) (Conn, error)

// Config is a Server's settings.
type Config struct {
	// Callbacks makes the server promise a callback to every client that
	// fetches a file, and keep the promise when the file changes. Without
	// it, cached copies are never invalidated.
	Callbacks bool
	// Dial connects the server to a client's callback service. It is
	// needed only with Callbacks.
	Dial DialFunc
	// CallbackTimeout is how long one callback may take; a store waits for
	// its callbacks, so keep it below the clients' patience. Zero means
	// DefaultCallbackTimeout.
	CallbackTimeout time.Duration
}

// DefaultCallbackTimeout is a callback's timeout unless Config says
// otherwise.
const DefaultCallbackTimeout = 200 * time.Millisecond

// Server is the file service, an rpc service: register it with Register
// ("Files.Fetch", "Files.Store"). With callbacks on, it promises every
// client that fetches a file to tell it when the file changes, and keeps
// the promise: a store returns only after the server has called back
// every other client that holds a copy (AFS's callbacks). With callbacks
// off, it just serves files, and cached copies go stale.
//
// A Server is safe for concurrent use. Close closes its connections to
// the clients.
type Server struct {
	callbacks bool
	dial      DialFunc
	timeout   time.Duration // how long a callback may take

	mu       sync.Mutex                 // protects files, promises, conns and the counters
	files    map[string]File            // the files, by name
	promises map[string]map[string]bool // file name -> clients promised a callback
	conns    map[string]Conn            // client -> the server's connection to its callback service

	fetches, stores, broken, unreachable int
}

// NewServer returns a server holding files.
func NewServer(files []File, cfg Config) *Server {
	if cfg.CallbackTimeout <= 0 {
		cfg.CallbackTimeout = DefaultCallbackTimeout
	}
	s := &Server{
		callbacks: cfg.Callbacks, dial: cfg.Dial, timeout: cfg.CallbackTimeout,
		files: map[string]File{}, promises: map[string]map[string]bool{}, conns: map[string]Conn{},
	}
	for _, f := range files {
		s.files[f.Name] = f
	}
	return s
}

// Register serves s on srv as the service "Files".
func (s *Server) Register(srv *rpc.Server) error { return srv.RegisterName("Files", s) }

// Fetch returns a whole file and, with callbacks on, promises the caller
// a callback when it changes.
func (s *Server) Fetch(args *FetchArgs, reply *File) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, ok := s.files[args.Name]
	if !ok {
		return fmt.Errorf("fetch %q: %w", args.Name, ErrNoFile)
	}
	s.fetches++
	if s.callbacks {
		s.promiseLocked(args.Name, args.Client)
	}
	*reply = f
	return nil
}

// Store replaces a whole file (creating it if need be) and returns its new
// version. With callbacks on, it first breaks the callback promises of the
// other clients holding a copy, so that no one reads the old version once
// Store has returned. The writer keeps its promise: its copy is the new one.
func (s *Server) Store(ctx context.Context, args *StoreArgs, reply *File) error {
	s.mu.Lock()
	f := s.files[args.Name]
	f = File{Name: args.Name, Data: args.Data, Version: f.Version + 1}
	s.files[args.Name] = f
	s.stores++
	var holders []string
	if s.callbacks {
		holders = slices.Sorted(maps.Keys(s.promises[args.Name]))
		holders = slices.DeleteFunc(holders, func(c string) bool { return c == args.Client })
		delete(s.promises, args.Name)
		s.promiseLocked(args.Name, args.Client)
	}
	s.mu.Unlock()

	// Break the promises concurrently, with the lock released: a slow or
	// unreachable client delays this store, not the rest of the server.
	var wg sync.WaitGroup
	for _, c := range holders {
		wg.Go(func() { s.breakCallback(ctx, c, f) })
	}
	wg.Wait()
	*reply = f
	return nil
}

// promiseLocked records that client holds a callback promise for name.
// The caller holds s.mu.
func (s *Server) promiseLocked(name, client string) {
	if s.promises[name] == nil {
		s.promises[name] = map[string]bool{}
	}
	s.promises[name][client] = true
}

// breakCallback tells client that its copy of f.Name is stale.
func (s *Server) breakCallback(ctx context.Context, client string, f File) {
	ctx, cancel := context.WithTimeout(ctx, s.timeout)
	defer cancel()
	err := s.callBack(ctx, client, &BreakArgs{Name: f.Name, Version: f.Version})
	s.mu.Lock()
	defer s.mu.Unlock()
	if err != nil {
		// The client may go on reading its old copy. AFS clients guard
		// against this by checking in with the server after they lose
		// touch with it; this small server only counts it.
		s.unreachable++
		return
	}
	s.broken++
}

// callBack calls Callback.Break on client, connecting to it the first time.
func (s *Server) callBack(ctx context.Context, client string, args *BreakArgs) error {
	s.mu.Lock()
	rc := s.conns[client]
	s.mu.Unlock()
	if rc == nil {
		var err error
		if rc, err = s.dial(ctx, client); err != nil {
			return err
		}
		s.mu.Lock()
		if other := s.conns[client]; other != nil { // another store dialed first
			rc.Close()
			rc = other
		} else {
			s.conns[client] = rc
		}
		s.mu.Unlock()
	}
	return rc.Call(ctx, "Callback.Break", args, nil)
}

// Close closes the server's connections to the clients' callback services.
// Close the rpc server that serves s first, so no store is still running.
func (s *Server) Close() error {
	s.mu.Lock()
	conns := s.conns
	s.conns = map[string]Conn{}
	s.mu.Unlock()
	for _, rc := range conns {
		rc.Close()
	}
	return nil
}

// ServerStats is what a server counted.
type ServerStats struct {
	Fetches, Stores int
	Broken          int // callbacks made
	Unreachable     int // callbacks that could not be delivered: those copies may be read stale
}

// Stats returns the server's counters.
func (s *Server) Stats() ServerStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return ServerStats{s.fetches, s.stores, s.broken, s.unreachable}
}

// File returns the server's current copy of a file, read on its side: the
// truth to compare the clients' reads with.
func (s *Server) File(name string) File {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.files[name]
}
