package primarybackup

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/distsys-kit/distsys/rpc"
)

// Primary is the primary replica, an rpc service ("Primary.Put",
// "Primary.Get"). Clients write to it and may read from it; it copies its
// whole table to the backup.
//
// In the default, asynchronous mode, it answers a write at once, and a
// goroutine of its own, the replicator, copies the table to the backup in
// the background: the write is acknowledged even if the backup never gets
// it, so writes stay available when the backup is cut off, and reads at
// the backup go stale. In synchronous mode (Config.Sync), a write is
// acknowledged only after the backup has confirmed it, and refused
// (ErrNotReplicated) if the backup does not confirm it in time: no read at
// the backup is ever stale, and nobody can write while the backup is cut
// off. That is the choice a partition forces (CAP). The replicator makes
// synchronous writes one at a time, so that a refused write can be taken
// back.
//
// The replicator also sends the table every two copy timeouts whatever
// happens, as a heartbeat: that is how the primary finds out that the
// backup has restarted with nothing, or has missed a table.
//
// A Primary is safe for concurrent use. Close stops its replicator.
type Primary struct {
	backup  Caller        // calls Backup.Apply
	sync    bool          // acknowledge a write only once the backup has it
	timeout time.Duration // how long one copy to the backup may take
	writes  chan write    // synchronous writes, for the replicator; unbuffered
	kick    chan struct{} // size 1: "there is a newer table to send"
	stop    context.CancelFunc
	done    chan struct{} // closed when the replicator exits

	mu        sync.Mutex // protects table, seq, acked, confirmed, changed
	table     Table
	seq       int64         // the highest Seq handed out, to a table kept or not
	acked     int64         // the Seq of the table the backup last said it has
	confirmed int64         // copies the backup has answered, in all
	changed   chan struct{} // closed, and replaced, whenever table or acked changes
}

// Caller is how a Primary calls its backup: an *rpc.Client connected to
// the backup's server, or anything with the same Call.
type Caller interface {
	Call(ctx context.Context, method string, args, reply any) error
}

// Config is a Primary's settings.
type Config struct {
	// Sync makes the primary acknowledge a write only once the backup has
	// confirmed it, and refuse it otherwise.
	Sync bool
	// CopyTimeout is how long one copy to the backup may take; the
	// heartbeat copy goes every two of them. Zero means DefaultCopyTimeout.
	CopyTimeout time.Duration
}

// DefaultCopyTimeout is a copy's timeout unless Config says otherwise.
const DefaultCopyTimeout = 100 * time.Millisecond

// write is a synchronous write waiting for the replicator. It carries the
// caller's ctx, as an http.Request does, so that the copy to the backup
// ends when the caller stops waiting. err has room for the answer, so the
// replicator never waits for a caller that has gone.
type write struct {
	ctx  context.Context
	args PutArgs
	err  chan error
}

// NewPrimary returns a primary with an empty table that copies it to the
// backup through c, and starts its replicator; Close stops it.
func NewPrimary(c Caller, cfg Config) *Primary {
	if cfg.CopyTimeout <= 0 {
		cfg.CopyTimeout = DefaultCopyTimeout
	}
	ctx, stop := context.WithCancel(context.Background())
	p := &Primary{
		backup: c, sync: cfg.Sync, timeout: cfg.CopyTimeout,
		writes: make(chan write), kick: make(chan struct{}, 1),
		stop: stop, done: make(chan struct{}),
		table:   Table{Values: map[string]string{}},
		changed: make(chan struct{}),
	}
	go p.replicate(ctx) // exits when Close cancels ctx
	return p
}

// Close stops the replicator and waits for it. It is idempotent. A Put
// made afterwards in synchronous mode fails with rpc.ErrServerClosed.
func (p *Primary) Close() error {
	p.stop()
	<-p.done
	return nil
}

// Put sets a key. In asynchronous mode the write is the primary's alone
// until the replicator has copied it; in synchronous mode Put returns only
// once the backup has confirmed it, or fails with an error matching
// ErrNotReplicated (the write did not happen), or ctx.Err().
func (p *Primary) Put(ctx context.Context, args *PutArgs, _ *struct{}) error {
	if p.sync {
		w := write{ctx: ctx, args: *args, err: make(chan error, 1)}
		select {
		case p.writes <- w:
		case <-ctx.Done():
			return ctx.Err()
		case <-p.done:
			return rpc.ErrServerClosed
		}
		return <-w.err // the replicator answers every write it takes
	}
	p.mu.Lock()
	p.seq++
	next := p.table.clone()
	next.Seq = p.seq
	next.Values[args.Key] = args.Value
	p.setLocked(next, p.acked)
	p.mu.Unlock()
	select {
	case p.kick <- struct{}{}:
	default: // the replicator already knows there is something to send
	}
	return nil
}

// Get reads key from the primary's table.
func (p *Primary) Get(key *string, reply *GetReply) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	*reply = p.table.get(*key)
	return nil
}

// replicate is the replicator. It makes the synchronous writes; it sends the
// table to the backup when there is a newer one; and it sends it every
// 2*p.timeout whatever happens, as a heartbeat: that is how the primary
// finds out that the backup has restarted with nothing, or has missed a
// table. Between two copies it is free for a write, so a synchronous write never
// waits for more than one copy besides its own.
func (p *Primary) replicate(ctx context.Context) {
	defer close(p.done)
	tick := time.NewTicker(2 * p.timeout)
	defer tick.Stop()
	for {
		heartbeat := false
		select {
		case <-ctx.Done():
			return
		case w := <-p.writes:
			w.err <- p.writeSync(w)
			continue // the write has been copied, or not; the next tick will tell
		case <-p.kick:
		case <-tick.C:
			heartbeat = true
		}
		p.mu.Lock()
		behind, t := p.acked != p.table.Seq, p.table.clone()
		p.mu.Unlock()
		if !behind && !heartbeat {
			continue
		}
		seq, err := p.push(ctx, t)
		if err != nil {
			continue // the next tick tries again
		}
		p.mu.Lock()
		// The backup says what it has: believe it, even if that is less
		// than it had before (it restarted).
		p.confirmed++
		p.setLocked(p.table, seq)
		p.mu.Unlock()
	}
}

// writeSync makes a synchronous write: it sends the backup the table with the
// write applied, and keeps that table only if the backup confirms it.
func (p *Primary) writeSync(w write) error {
	p.mu.Lock()
	p.seq++
	next := p.table.clone()
	next.Seq = p.seq
	next.Values[w.args.Key] = w.args.Value
	p.mu.Unlock()
	seq, err := p.push(w.ctx, next)
	p.mu.Lock()
	defer p.mu.Unlock()
	if err != nil {
		// The backup may have the refused table all the same (only its
		// confirmation was lost): number the primary's own table above it,
		// so that the replicator sends it and the backup takes it back.
		p.seq++
		kept := p.table.clone()
		kept.Seq = p.seq
		p.setLocked(kept, p.acked)
		return fmt.Errorf("%w (%v)", ErrNotReplicated, err)
	}
	p.confirmed++
	p.setLocked(next, seq)
	return nil
}

// push sends t to the backup, waiting at most p.timeout (less if ctx ends
// first), and returns the Seq of the table the backup says it has.
func (p *Primary) push(ctx context.Context, t Table) (int64, error) {
	ctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	var seq int64
	err := p.backup.Call(ctx, "Backup.Apply", &t, &seq)
	return seq, err
}

// setLocked replaces the primary's table and what it knows the backup has,
// and wakes waitSynced. The caller holds p.mu.
func (p *Primary) setLocked(t Table, acked int64) {
	p.table, p.acked = t, acked
	close(p.changed)
	p.changed = make(chan struct{})
}

// Confirmations returns how many copies the backup has answered so far.
func (p *Primary) Confirmations() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.confirmed
}

// WaitSynced waits until the backup has confirmed the primary's table in
// an answer to a copy beyond the first after copies (see Confirmations),
// or ctx ends (it returns ctx.Err()). Pass Confirmations() to learn when
// a heal or a restart has taken effect: a copy has got through since, and
// the backup has the primary's table.
func (p *Primary) WaitSynced(ctx context.Context, after int64) error {
	for {
		p.mu.Lock()
		synced, changed := p.acked == p.table.Seq && p.confirmed > after, p.changed
		p.mu.Unlock()
		if synced {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// Synced reports whether the backup has confirmed the primary's table.
func (p *Primary) Synced() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.acked == p.table.Seq
}

// Value returns what the primary holds for key, read on its side: the
// truth to compare the backup's answers with.
func (p *Primary) Value(key string) GetReply {
	var r GetReply
	p.Get(&key, &r)
	return r
}
