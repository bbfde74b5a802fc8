package peer

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"

	"github.com/distsys-kit/distsys/rpc"
	"github.com/distsys-kit/distsys/trace"
	"github.com/distsys-kit/distsys/transport"
)

// Config describes one peer of a group.
type Config struct {
	// ID is this peer's name. It must be unique in the group: equal
	// timestamps are ordered by it.
	ID string
	// Peers are the other members of the group: name → address. Every
	// member must list all the others.
	Peers map[string]string
	// Dialer reaches the other peers' addresses; nil means TCP.
	Dialer transport.Dialer
	// RPCServerOptions are passed to the peer's rpc server, and
	// RPCClientOptions to its rpc clients.
	RPCServerOptions []rpc.ServerOption
	RPCClientOptions []rpc.DialOption
}

// Stats counts what a peer did.
type Stats struct {
	Entries  uint64 // critical sections entered
	Requests uint64 // requests sent, N-1 per entry
	Replies  uint64 // replies sent: permissions given, at once or deferred
	Deferred uint64 // requests answered only after this peer's own critical section
}

// Messages returns the number of messages the peer sent. Summed over the
// group, it is 2(N-1) per entry.
func (s Stats) Messages() uint64 { return s.Requests + s.Replies }

// Peer is one member of a group running Ricart–Agrawala mutual exclusion:
// at most one member at a time is between Lock and Unlock. Lock calls on
// one Peer take turns, like those on a sync.Mutex.
//
// A Peer is safe for concurrent use by multiple goroutines.
type Peer struct {
	cfg       Config
	srv       *rpc.Server
	serveDone chan struct{}
	once      sync.Once

	// life is the peer's lifetime: it ends when Close is called. Go's rule
	// is to pass a Context to each call rather than keep one in a struct;
	// that rule is about a call's deadline and values. A lifetime belongs
	// to the object instead: it ends once, at Close, carries nothing, and
	// is only used to cut waits short (a Lock waiting for replies, a
	// request deferred until this peer leaves its critical section). lock,
	// lock/peer and mapreduce keep every object's lifetime this way, as a
	// context in the struct, rather than as a channel closed by Close.
	life context.Context
	stop context.CancelFunc

	turn chan struct{} // size 1: full from Lock to Unlock

	clock trace.LamportClock

	mu       sync.Mutex // protects the fields below
	wanting  bool
	holding  bool
	reqTS    uint64        // the timestamp of this peer's current request
	released chan struct{} // closed when the current request ends; deferred requests wait on it
	clients  map[string]*rpc.Client
	stats    Stats
}

// New starts a peer: it serves the other peers' requests on l until
// Close. It connects to them when it first needs to.
func New(cfg Config, l transport.Listener) (*Peer, error) {
	if cfg.ID == "" {
		return nil, errors.New("peer: Config.ID is required")
	}
	if _, ok := cfg.Peers[cfg.ID]; ok {
		return nil, fmt.Errorf("peer: %s lists itself among its peers", cfg.ID)
	}
	p := &Peer{
		cfg:       cfg,
		srv:       rpc.NewServer(cfg.RPCServerOptions...),
		serveDone: make(chan struct{}),
		turn:      make(chan struct{}, 1),
		clients:   make(map[string]*rpc.Client),
	}
	p.life, p.stop = context.WithCancel(context.Background())
	if err := p.srv.RegisterName(serviceName, &service{p}); err != nil {
		return nil, err // a bug in this package
	}
	go func() { // exits when p.srv is closed
		defer close(p.serveDone)
		_ = p.srv.Serve(l)
	}()
	return p, nil
}

// ID returns the peer's name.
func (p *Peer) ID() string { return p.cfg.ID }

// Stats returns the peer's counters.
func (p *Peer) Stats() Stats {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.stats
}

// Clock returns the peer's Lamport time.
func (p *Peer) Clock() uint64 { return p.clock.Now() }

// Lock enters the critical section: it asks every other peer, and returns
// once all have agreed. It blocks until then, ctx ends (ctx.Err()) or the
// peer is closed (ErrClosed). If any peer has crashed or cannot be reached,
// no Lock in the group can succeed: Lock waits for it until ctx ends.
func (p *Peer) Lock(ctx context.Context) error {
	select {
	case p.turn <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	case <-p.life.Done():
		return ErrClosed
	}
	if err := p.enter(ctx); err != nil {
		<-p.turn
		return err
	}
	return nil
}

// enter runs the protocol's entry: timestamp a request, send it to every
// other peer, and wait for all their replies.
func (p *Peer) enter(ctx context.Context) error {
	clients, err := p.connect(ctx)
	if err != nil {
		if p.life.Err() != nil {
			return ErrClosed
		}
		return err
	}
	p.mu.Lock()
	p.wanting = true
	p.reqTS = p.clock.Tick() // the request is a send event
	p.released = make(chan struct{})
	args := &requestArgs{From: p.cfg.ID, TS: p.reqTS}
	p.stats.Requests += uint64(len(clients))
	p.mu.Unlock()

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stop := context.AfterFunc(p.life, cancel) // Close interrupts the wait
	defer stop()
	done := make(chan *rpc.Call, len(clients)) // room for every call, as rpc.Client.Go requires
	for _, c := range clients {
		c.Go(ctx, methodRequest, args, new(replyArgs), done)
	}
	var first error
	for range clients {
		call := <-done
		switch {
		case call.Error == nil:
			p.clock.Witness(call.Reply.(*replyArgs).TS)
		case first == nil:
			first = call.Error
			cancel() // give up on the others
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.wanting = false
	if first != nil {
		close(p.released) // let the requests we deferred through
		if p.life.Err() != nil {
			return ErrClosed
		}
		return fmt.Errorf("peer: %s: %w", p.cfg.ID, first)
	}
	p.holding = true
	p.stats.Entries++
	return nil
}

// Unlock leaves the critical section, and answers the requests deferred
// meanwhile. It returns ErrNotHeld if the peer is not in its critical
// section. It does not block.
func (p *Peer) Unlock(ctx context.Context) error {
	p.mu.Lock()
	if !p.holding {
		p.mu.Unlock()
		return ErrNotHeld
	}
	p.holding = false
	close(p.released)
	p.mu.Unlock()
	<-p.turn
	return nil
}

// connect returns an rpc client for every other peer, dialing those it has
// none for yet.
func (p *Peer) connect(ctx context.Context) ([]*rpc.Client, error) {
	var clients []*rpc.Client
	for _, name := range slices.Sorted(maps.Keys(p.cfg.Peers)) {
		p.mu.Lock()
		c := p.clients[name]
		p.mu.Unlock()
		if c == nil {
			opts := p.cfg.RPCClientOptions
			if p.cfg.Dialer != nil {
				opts = append(slices.Clip(opts), rpc.WithDialer(p.cfg.Dialer))
			}
			var err error
			if c, err = rpc.Dial(ctx, p.cfg.Peers[name], opts...); err != nil {
				return nil, fmt.Errorf("peer: %s: %w", p.cfg.ID, err)
			}
			p.mu.Lock()
			switch {
			case p.clients == nil: // closed meanwhile
				p.mu.Unlock()
				_ = c.Close()
				return nil, ErrClosed
			case p.clients[name] == nil:
				p.clients[name] = c
			default: // someone else dialed it meanwhile
				_ = c.Close()
				c = p.clients[name]
			}
			p.mu.Unlock()
		}
		clients = append(clients, c)
	}
	return clients, nil
}

// Close stops the peer: it stops serving, closes its connections and
// interrupts a Lock in progress. The other peers can no longer enter their
// critical sections (see the package documentation). Close is idempotent.
func (p *Peer) Close() error {
	p.once.Do(func() {
		p.stop()
		_ = p.srv.Close()
		<-p.serveDone
		p.mu.Lock()
		clients := p.clients
		p.clients = nil
		p.mu.Unlock()
		for _, c := range clients {
			_ = c.Close()
		}
	})
	return nil
}
