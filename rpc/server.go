package rpc

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/distsys-kit/distsys/transport"
)

// goAwayTimeout bounds how long Close and Shutdown wait to queue the
// goodbye message on a connection whose peer has stopped reading.
const goAwayTimeout = 100 * time.Millisecond

// Server serves calls to the methods of registered receivers, over any
// number of connections. Create one with NewServer, register receivers, then
// call Serve or ServeConn. A Server is safe for concurrent use by multiple
// goroutines: registering, serving, and closing.
//
// Each call runs in its own goroutine, so a slow handler delays no one
// else (and handlers must be safe for concurrent use); the server tracks
// every one of them, and Close waits for them.
type Server struct {
	opts    serverOptions
	errs    errorTable
	epoch   uint64 // this incarnation, for at-most-once; random, never 0
	cache   *replyCache
	handler Handler // the server interceptors around dispatch; nil if none
	stats   counters

	regMu    sync.Mutex               // serializes Register, which copies the registry
	registry atomic.Pointer[registry] // read without a lock by every call

	// ctx is the root of every handler's context; Close cancels it.
	ctx    context.Context
	cancel context.CancelFunc

	// inflight counts handlers running; draining is set by Shutdown. A
	// request increments inflight before it checks draining, and Shutdown
	// sets draining before it reads inflight, so either Shutdown sees the
	// call or the call sees draining and is refused.
	inflight atomic.Int64
	draining atomic.Bool
	idle     chan struct{} // size 1: a handler finished while draining

	bufs    bufPool
	workers *workers // run the calls

	mu sync.Mutex // protects the fields below
	// listeners holds a pointer to each Serve's listener: a Listener
	// need not be comparable (a struct value with a slice in it is not).
	listeners map[*transport.Listener]struct{}
	conns     map[*serverConn]struct{}
	closed    bool           // Close or Shutdown began: accept no new conns
	serving   sync.WaitGroup // the conn goroutines started by Serve

	closeOnce   sync.Once // the first Close cancels handlers and says goodbye
	stopWorkers sync.Once
}

// registry maps "Service.Method" to its method. It is never changed once
// published: Register publishes a new one.
type registry struct {
	methods  map[string]*method
	services map[string]bool
}

// NewServer returns a server with no services, configured by opts: see
// ServerOption.
func NewServer(opts ...ServerOption) *Server {
	o := newServerOptions(opts)
	s := &Server{
		opts:      o,
		errs:      newErrorTable(o.errs),
		epoch:     randomID(),
		cache:     newReplyCache(o.cache),
		idle:      make(chan struct{}, 1),
		workers:   newWorkers(),
		listeners: make(map[*transport.Listener]struct{}),
		conns:     make(map[*serverConn]struct{}),
	}
	if len(o.interceptors) > 0 {
		s.handler = chainServer(o.interceptors, func(ctx context.Context, call *ServerCall) error {
			return call.method.call(ctx, call.Args, call.Reply)
		})
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	s.registry.Store(&registry{methods: map[string]*method{}, services: map[string]bool{}})
	return s
}

// randomID returns a random nonzero 64-bit number, for server incarnations
// and client ids. It identifies; it decides nothing, so it need not come
// from a test's seed.
func randomID() uint64 {
	var b [8]byte
	for {
		_, _ = rand.Read(b[:]) // never fails (crypto/rand)
		if id := binary.BigEndian.Uint64(b[:]); id != 0 {
			return id
		}
	}
}

// Register publishes the methods of rcvr under the name of its type (for a
// *KV, "KV"), as RegisterName does.
func (s *Server) Register(rcvr any) error {
	return s.RegisterName(serviceName(rcvr), rcvr)
}

// RegisterName publishes the methods of rcvr under name: a method M is
// called as "name.M". The methods served are the exported ones shaped
//
//	func (t *T) M(ctx context.Context, args *A, reply *R) error
//	func (t *T) M(args *A, reply *R) error // net/rpc's shape
//	func (t *T) M(args *A, reply *R)       // labrpc's: it cannot fail
//
// others are ignored. It returns an error matching ErrInvalidService if rcvr
// has no such method, if name is empty, contains a dot or is taken, or if an
// argument or reply type would not cross the wire intact: a struct with an
// unexported field (the error names the type and the field), a channel, a
// function. Services may be registered while the server is serving.
func (s *Server) RegisterName(name string, rcvr any) error {
	if name == "" {
		return fmt.Errorf("%w: no service name for %T", ErrInvalidService, rcvr)
	}
	for _, r := range name {
		if r == '.' {
			return fmt.Errorf("%w: service name %q contains a dot", ErrInvalidService, name)
		}
	}
	methods, err := suitableMethods(name, rcvr)
	if err != nil {
		return err
	}
	s.regMu.Lock()
	defer s.regMu.Unlock()
	old := s.registry.Load()
	if old.services[name] {
		return fmt.Errorf("%w: service %q already registered", ErrInvalidService, name)
	}
	r := &registry{
		methods:  make(map[string]*method, len(old.methods)+len(methods)),
		services: make(map[string]bool, len(old.services)+1),
	}
	for k, v := range old.methods {
		r.methods[k] = v
	}
	for k := range old.services {
		r.services[k] = true
	}
	for _, m := range methods {
		r.methods[m.name] = m
	}
	r.services[name] = true
	s.registry.Store(r)
	return nil
}

// Serve accepts connections on l and serves each in its own goroutine. It
// blocks until l fails or the server is closed, and returns ErrServerClosed
// after Close or Shutdown (which close l), or the listener's error. l is
// closed when Serve returns.
func (s *Server) Serve(l transport.Listener) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		_ = l.Close()
		return ErrServerClosed
	}
	s.listeners[&l] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		_, ours := s.listeners[&l] // else closeListeners has taken it
		delete(s.listeners, &l)
		s.mu.Unlock()
		if ours {
			_ = l.Close()
		}
	}()

	for {
		c, err := l.Accept(context.Background()) // Close unblocks it by closing l
		if err != nil {
			if s.isClosed() {
				return ErrServerClosed
			}
			return fmt.Errorf("rpc: serve: %w", err)
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			_ = c.Close()
			return ErrServerClosed
		}
		s.serving.Add(1) // under mu, so never after Close began to wait
		s.mu.Unlock()
		go func() { // exits when c is done (Close closes c)
			defer s.serving.Done()
			s.ServeConn(c)
		}()
	}
}

func (s *Server) isClosed() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closed
}

// Shutdown stops the server gracefully: it closes the listeners, refuses new
// calls (with ErrServerClosed: they did not run), waits for the calls in
// flight to finish and their replies to be sent, then closes every
// connection. If ctx ends first, Shutdown returns ctx.Err() and leaves the
// remaining calls running: call Close to cancel them. After Shutdown, Serve
// returns ErrServerClosed and the server cannot be used again.
func (s *Server) Shutdown(ctx context.Context) error {
	s.draining.Store(true)
	s.closeListeners()
	for s.inflight.Load() > 0 {
		select {
		case <-s.idle:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return s.Close()
}

// Close stops the server at once: it closes the listeners and every
// connection (after telling each client the server is going away), cancels
// the context of every running handler, and waits for the handlers to
// return. Callers with calls in flight get an error matching
// ErrServerClosed or ErrConnLost; their handlers may have run. A handler
// that ignores its context delays Close until it returns. Close is
// idempotent; after it, Serve returns ErrServerClosed.
func (s *Server) Close() error {
	s.draining.Store(true)
	s.closeListeners() // also sets s.closed: no conn joins after this
	s.mu.Lock()
	conns := make([]*serverConn, 0, len(s.conns))
	for sc := range s.conns {
		conns = append(conns, sc)
	}
	s.mu.Unlock()
	s.closeOnce.Do(func() {
		s.cancel()
		for _, sc := range conns {
			sc.goAway("", "")
		}
	})
	for _, sc := range conns {
		<-sc.done
	}
	s.serving.Wait()
	// Every conn is done, so no call can start any more.
	s.stopWorkers.Do(s.workers.close)
	return nil
}

func (s *Server) closeListeners() {
	s.mu.Lock()
	s.closed = true
	ls := make([]transport.Listener, 0, len(s.listeners))
	for l := range s.listeners {
		ls = append(ls, *l)
		delete(s.listeners, l) // ours to close now, not Serve's
	}
	s.mu.Unlock()
	for _, l := range ls {
		_ = l.Close()
	}
}

// Stats returns the server's counters.
func (s *Server) Stats() Stats { return s.stats.snapshot() }

// endCall marks a handler finished, waking Shutdown if it waits for the
// last one.
func (s *Server) endCall() {
	if s.inflight.Add(-1) == 0 && s.draining.Load() {
		select {
		case s.idle <- struct{}{}:
		default:
		}
	}
}
