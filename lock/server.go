package lock

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/distsys-kit/distsys/internal/vfs"
	"github.com/distsys-kit/distsys/rpc"
	"github.com/distsys-kit/distsys/transport"
)

// Defaults for the fields of Config.
const (
	// DefaultTTL is how long a session, and so every lease it holds, lasts
	// without a renewal. Clients renew three times per TTL.
	DefaultTTL = 10 * time.Second
	// DefaultLockDelay is how long a lock whose holder's session expired
	// stays ungranted, so that a holder that is merely slow has time to
	// notice and stop.
	DefaultLockDelay = 5 * time.Second
	// DefaultTokenBlock is how many fencing tokens the server reserves
	// with one write of its state file.
	DefaultTokenBlock = 4096
	// maxPoll bounds how long one Acquire call may wait on the server.
	maxPoll = time.Minute
)

// Config configures a Server. Dir is required; a zero value in any other
// field means its default.
//
// The server's settings are a plain struct, not options, because they are
// data the server records: TTL and LockDelay go into the state file, and a
// restarted server reads them back.
type Config struct {
	// Dir is the directory holding the server's state file; it is created
	// if missing. One server at a time may use it: NewServer locks it
	// until Close, and a second server on it fails with ErrDirLocked. The
	// lock is flock(2), advisory (it keeps out other lock servers, not
	// other programs) and released by the kernel if the process dies; on
	// platforms without flock there is none, and one server per directory
	// is the operator's rule to keep.
	Dir string
	// TTL is the session lease; zero means DefaultTTL.
	TTL time.Duration
	// LockDelay is how long a lock stays ungranted after its holder's
	// session expired; zero means DefaultLockDelay, negative means none.
	LockDelay time.Duration
	// TokenBlock is how many fencing tokens one write of the state file
	// reserves; zero means DefaultTokenBlock. A restart skips what is left
	// of the block, so tokens jump but never repeat.
	TokenBlock uint64
	// RPCOptions are passed to the rpc server: authentication, codec, and
	// so on.
	RPCOptions []rpc.ServerOption
}

// Server is a lock service: many named locks, leases that clients renew,
// fencing tokens, and a durable token high-water mark (see the package
// documentation for the guarantees). Serve it on any transport.Listener; a
// Client reaches it through an rpc client.
//
// A Server is safe for concurrent use by multiple goroutines.
type Server struct {
	rpc      *rpc.Server
	dirLock  io.Closer     // the lock on Config.Dir, released by Close
	kick     chan struct{} // size 1: the table's deadline may have moved earlier
	loopDone chan struct{} // closed when loop returns
	once     sync.Once

	// life is the server's lifetime, kept in the struct like Client.life:
	// it ends when Close is called, and cuts short the loop and the
	// Acquire calls waiting for a grant.
	life context.Context
	stop context.CancelFunc

	mu      sync.Mutex // protects t, waiters
	t       *table
	waiters map[acqKey]chan struct{} // closed when the acquisition is granted or ends
}

// NewServer starts a lock server on the state in cfg.Dir, which it locks
// until Close. It fails with an error matching ErrDirLocked if another
// server holds the directory, with one matching ErrCorruptState if the
// state file exists but cannot be trusted, and with other errors if the
// directory cannot be read or written. A server restarted on the
// directory of a crashed one grants nothing until every lease the old one
// issued could have expired (the old TTL plus lock-delay); it queues
// waiters meanwhile.
func NewServer(cfg Config) (*Server, error) { return newServer(cfg, vfs.OS{}) }

// newServer is NewServer on the file system fsys: tests give it one that
// records the order of writes and can crash.
func newServer(cfg Config, fsys vfs.FS) (*Server, error) {
	if cfg.Dir == "" {
		return nil, errors.New("lock: Config.Dir is required")
	}
	if cfg.TTL < 0 {
		return nil, fmt.Errorf("lock: Config.TTL is %v, want a positive duration", cfg.TTL)
	}
	tcfg := tableConfig{TTL: cfg.TTL, LockDelay: cfg.LockDelay, TokenBlock: cfg.TokenBlock}
	if tcfg.TTL == 0 {
		tcfg.TTL = DefaultTTL
	}
	switch {
	case tcfg.LockDelay == 0:
		tcfg.LockDelay = DefaultLockDelay
	case tcfg.LockDelay < 0:
		tcfg.LockDelay = 0
	}
	if tcfg.TokenBlock == 0 {
		tcfg.TokenBlock = DefaultTokenBlock
	}
	dir := cfg.Dir
	tcfg.Save = func(st durableState) error { return saveState(fsys, dir, st) }

	unlock, err := lockDir(fsys, dir)
	if err != nil {
		return nil, err
	}
	prev, err := loadState(fsys, dir)
	if err != nil {
		unlock.Close()
		return nil, err
	}
	t, err := newTable(tcfg, prev, time.Now())
	if err != nil {
		unlock.Close()
		return nil, err
	}
	s := &Server{
		dirLock:  unlock,
		rpc:      rpc.NewServer(cfg.RPCOptions...),
		kick:     make(chan struct{}, 1),
		loopDone: make(chan struct{}),
		t:        t,
		waiters:  make(map[acqKey]chan struct{}),
	}
	s.life, s.stop = context.WithCancel(context.Background())
	if err := s.rpc.RegisterName(serviceName, &service{s}); err != nil {
		s.stop()
		unlock.Close()
		return nil, err // a bug in this package
	}
	go s.loop() // exits when s.life ends
	return s, nil
}

// Serve accepts connections on l and serves lock clients on them. It
// blocks until Close, then returns an error matching ErrClosed (and
// rpc.ErrServerClosed), or until l fails.
func (s *Server) Serve(l transport.Listener) error {
	err := s.rpc.Serve(l)
	if errors.Is(err, rpc.ErrServerClosed) {
		return fmt.Errorf("%w (%w)", ErrClosed, err)
	}
	return err
}

// ServeConn serves one client connection, blocking until it ends.
func (s *Server) ServeConn(c transport.Conn) { s.rpc.ServeConn(c) }

// Locks returns who holds and who waits for each lock, sorted by name: a
// read-only view for demos and debugging.
func (s *Server) Locks() []LockInfo {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.t.view(time.Now())
}

// Close stops the server: it closes the listeners and connections, and
// waits for its goroutines. Calls in progress fail; clients see their
// sessions expire. Close writes nothing: the state on disk is always
// current, so a Close and a crash leave the same directory behind, and a
// new server may be started on it: Close releases the directory's lock.
// Close is idempotent.
func (s *Server) Close() error {
	s.once.Do(func() {
		s.stop()
		_ = s.rpc.Close()
		<-s.loopDone
		_ = s.dirLock.Close() // after the last write of the state file
	})
	return nil
}

// update runs f on the table at the current time, wakes the handlers of
// the acquisitions f changed, and tells the loop if the next deadline
// moved earlier. Once per TokenBlock grants, f writes the state file while
// s.mu is held: deliberately, since no token may be issued before the
// limit above it is on disk, every other call has to wait for the write.
func (s *Server) update(f func(now time.Time) []acqKey) {
	s.mu.Lock()
	before := s.t.deadline()
	changed := f(time.Now())
	after := s.t.deadline()
	for _, k := range changed {
		if ch := s.waiters[k]; ch != nil {
			close(ch)
			delete(s.waiters, k)
		}
	}
	s.mu.Unlock()
	if !after.IsZero() && (before.IsZero() || after.Before(before)) {
		select {
		case s.kick <- struct{}{}:
		default:
		}
	}
}

// loop runs the table's timers: session expiry, lock-delay, and the grace
// period after a restart. It sleeps until the table's next deadline.
func (s *Server) loop() {
	defer close(s.loopDone)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		s.mu.Lock()
		next := s.t.deadline()
		s.mu.Unlock()
		var fire <-chan time.Time
		if !next.IsZero() {
			timer.Reset(time.Until(next))
			fire = timer.C
		}
		select {
		case <-fire:
			s.update(s.t.tick)
		case <-s.kick:
		case <-s.life.Done():
			return
		}
	}
}

// waiter returns the channel closed when acquisition k changes. The
// caller holds s.mu.
func (s *Server) waiter(k acqKey) <-chan struct{} {
	ch := s.waiters[k]
	if ch == nil {
		ch = make(chan struct{})
		s.waiters[k] = ch
	}
	return ch
}
