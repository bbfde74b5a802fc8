package peer

import (
	"context"
	"errors"
	"slices"
	"sync"
	"time"

	"github.com/distsys-kit/distsys/internal/retry"
	"github.com/distsys-kit/distsys/rpc"
	"github.com/distsys-kit/distsys/transport"
)

// DefaultIdle is how long an unwanted token rests at a ring member before
// moving on, unless RingConfig.Idle says otherwise.
const DefaultIdle = time.Millisecond

// RingConfig describes one member of a token ring.
type RingConfig struct {
	// ID is this member's name.
	ID string
	// Next is the address of the member after this one in the ring.
	Next string
	// First makes this member hold the token at the start. Exactly one
	// member of the ring must be First.
	First bool
	// Idle is how long the token rests here when nobody here wants it;
	// zero means DefaultIdle.
	Idle time.Duration
	// Dialer reaches Next; nil means TCP.
	Dialer transport.Dialer
	// RPCServerOptions are passed to the member's rpc server, and
	// RPCClientOptions to its rpc client.
	RPCServerOptions []rpc.ServerOption
	RPCClientOptions []rpc.DialOption
}

// RingStats counts what a ring member did.
type RingStats struct {
	Entries uint64 // critical sections entered
	Passes  uint64 // times the token was passed on: the only message
}

// Ring is one member of a token ring: a single token travels around the
// ring, and only the member holding it may be in its critical section.
// Under heavy contention an entry costs about one message: each member
// uses the token for one entry and passes it on, so none can starve the
// others by asking again at once. With nobody interested the token still
// circulates, one message per Idle, and a Lock waits for it to come round,
// up to N-1 passes. A crashed member breaks the ring: the token is lost
// with it, or cannot get past it, and nobody enters again.
//
// A Ring is safe for concurrent use by multiple goroutines.
type Ring struct {
	cfg     RingConfig
	srv     *rpc.Server
	done    sync.WaitGroup // Serve and loop
	once    sync.Once
	turn    chan struct{} // size 1: full from Lock to Unlock
	arrived chan struct{} // size 1: the token arrived
	kick    chan struct{} // size 1: wanting or holding changed

	// life is the member's lifetime, kept in the struct like Peer.life: it
	// ends when Close is called, bounds the loop's passes and cuts a Lock
	// short.
	life context.Context
	stop context.CancelFunc

	mu      sync.Mutex // protects the fields below
	wanting bool
	holding bool
	grant   chan struct{} // closed when the waiting Lock gets the token
	hops    uint64        // the token's hop count when it last arrived: older copies are duplicates
	next    *rpc.Client
	stats   RingStats
}

// NewRing starts a ring member serving on l. It connects to the next
// member when it first passes the token.
func NewRing(cfg RingConfig, l transport.Listener) (*Ring, error) {
	if cfg.ID == "" || cfg.Next == "" {
		return nil, errors.New("peer: RingConfig.ID and Next are required")
	}
	if cfg.Idle <= 0 {
		cfg.Idle = DefaultIdle
	}
	r := &Ring{
		cfg:     cfg,
		srv:     rpc.NewServer(cfg.RPCServerOptions...),
		turn:    make(chan struct{}, 1),
		arrived: make(chan struct{}, 1),
		kick:    make(chan struct{}, 1),
	}
	r.life, r.stop = context.WithCancel(context.Background())
	if err := r.srv.RegisterName(ringServiceName, &ringService{r}); err != nil {
		return nil, err
	}
	if cfg.First {
		r.arrived <- struct{}{}
	}
	r.done.Add(2)
	go func() { // exits when r.srv is closed
		defer r.done.Done()
		_ = r.srv.Serve(l)
	}()
	go r.loop() // exits when r.life ends
	return r, nil
}

// Stats returns the member's counters.
func (r *Ring) Stats() RingStats {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stats
}

// Lock waits for the token and enters the critical section. It returns
// ctx.Err() if ctx ends first, and ErrClosed if the member is closed.
func (r *Ring) Lock(ctx context.Context) error {
	select {
	case r.turn <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	case <-r.life.Done():
		return ErrClosed
	}
	r.mu.Lock()
	r.wanting = true
	grant := make(chan struct{})
	r.grant = grant
	r.mu.Unlock()
	signal(r.kick)
	select {
	case <-grant:
		return nil
	case <-ctx.Done():
	case <-r.life.Done():
	}
	r.mu.Lock()
	r.wanting, r.holding = false, false // if the token came meanwhile, let it go
	r.mu.Unlock()
	signal(r.kick)
	<-r.turn
	if r.life.Err() != nil {
		return ErrClosed
	}
	return ctx.Err()
}

// Unlock leaves the critical section and lets the token move on. It
// returns ErrNotHeld if the member is not in its critical section.
func (r *Ring) Unlock(ctx context.Context) error {
	r.mu.Lock()
	if !r.holding {
		r.mu.Unlock()
		return ErrNotHeld
	}
	r.holding = false
	r.mu.Unlock()
	signal(r.kick)
	<-r.turn
	return nil
}

// Close stops the member; the token, if here, is lost with it, and the
// ring stops working. Close is idempotent.
func (r *Ring) Close() error {
	r.once.Do(func() {
		r.stop()
		_ = r.srv.Close()
		r.done.Wait()
		r.mu.Lock()
		if r.next != nil {
			_ = r.next.Close()
		}
		r.mu.Unlock()
	})
	return nil
}

// loop waits for the token, keeps it while it is wanted here, and passes
// it on.
func (r *Ring) loop() {
	defer r.done.Done()
	for {
		select {
		case <-r.arrived:
		case <-r.life.Done():
			return
		}
		if !r.use() || !r.pass() {
			return
		}
	}
}

// use grants the token to one Lock here, if one wants it (or comes while
// the token rests), and keeps it until that Unlock; then the token moves
// on at once, so a member that wants in again waits for the next round
// and cannot starve the others. With nobody here interested, the token
// rests for Idle. use returns false if the member closed meanwhile.
func (r *Ring) use() bool {
	idle := time.NewTimer(r.cfg.Idle)
	defer idle.Stop()
	used := false // one entry has been granted on this visit
	for {
		r.mu.Lock()
		if r.wanting && !used {
			r.wanting, r.holding, used = false, true, true
			r.stats.Entries++
			close(r.grant)
		}
		busy := r.holding
		r.mu.Unlock()
		if used && !busy {
			return true // the entry is over: pass the token on
		}
		var rest <-chan time.Time
		if !busy {
			rest = idle.C
		}
		select {
		case <-r.kick:
		case <-rest:
			return true
		case <-r.life.Done():
			return false
		}
	}
}

// pass sends the token to the next member, until it gets there or the
// member closes. The hop count lets the next member drop a duplicate.
func (r *Ring) pass() bool {
	r.mu.Lock()
	r.hops++
	args := &passArgs{Hops: r.hops}
	r.stats.Passes++
	r.mu.Unlock()
	wait := retry.Backoff{Initial: 10 * time.Millisecond} // the next member may be restarting
	for r.life.Err() == nil {
		if c, err := r.nextClient(); err == nil {
			ctx, cancel := context.WithTimeout(r.life, time.Second)
			err = c.Call(ctx, ringMethodPass, args, &passReply{})
			cancel()
			if err == nil {
				return true
			}
		}
		_ = wait.Wait(r.life) // an error is r.life's end: the loop stops
	}
	return false
}

func (r *Ring) nextClient() (*rpc.Client, error) {
	r.mu.Lock()
	c := r.next
	r.mu.Unlock()
	if c != nil {
		return c, nil
	}
	opts := r.cfg.RPCClientOptions
	if r.cfg.Dialer != nil {
		opts = append(slices.Clip(opts), rpc.WithDialer(r.cfg.Dialer))
	}
	ctx, cancel := context.WithTimeout(r.life, time.Second)
	defer cancel()
	c, err := rpc.Dial(ctx, r.cfg.Next, opts...)
	if err != nil {
		return nil, err
	}
	r.mu.Lock()
	r.next = c // only loop dials, so nobody else set it meanwhile
	r.mu.Unlock()
	return c, nil
}

const (
	ringServiceName = "Ring"
	ringMethodPass  = ringServiceName + ".Pass"
)

type passArgs struct {
	Hops uint64 // how many times the token has been passed
}

type passReply struct{}

type ringService struct{ r *Ring }

// Pass receives the token. A copy with a hop count already seen is a
// duplicate (a retried pass whose reply was lost), and is dropped: there
// must never be two tokens.
func (v *ringService) Pass(args *passArgs, _ *passReply) error {
	r := v.r
	r.mu.Lock()
	dup := args.Hops <= r.hops
	if !dup {
		r.hops = args.Hops
	}
	r.mu.Unlock()
	if !dup {
		signal(r.arrived)
	}
	return nil
}

// signal wakes the receiver of ch, a channel of size 1, without blocking.
func signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}
