package main

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"sync"
	"time"

	"github.com/distsys-kit/distsys/rpc"
)

// errNotReplicated is what the primary answers, with -sync, to a write it
// could not copy to the backup in time: the write did not happen. Both sides
// declare it with rpc.WithErrors, so errors.Is works on the client.
var errNotReplicated = errors.New("partition: the backup did not confirm the write in time: write refused")

// Table is a replica's copy of the store. Seq numbers the tables the
// primary sends: it only grows, and the backup keeps the highest it has
// seen, so a late or duplicated copy of an older table changes nothing.
// (A real system sends a log of changes rather than the whole table; with
// a handful of keys, the whole table is simpler and just as correct.)
type Table struct {
	Seq    int64
	Values map[string]string
}

// clone returns a copy of t that shares nothing with it.
func (t Table) clone() Table {
	return Table{Seq: t.Seq, Values: maps.Clone(t.Values)}
}

// PutArgs asks the primary to set Key to Value.
type PutArgs struct {
	Key, Value string
}

// GetReply is a replica's answer to a read: the value, whether the key
// exists, and the Seq of the table it was read from.
type GetReply struct {
	Value string
	Found bool
	Seq   int64
}

// get reads key from t.
func (t Table) get(key string) GetReply {
	v, ok := t.Values[key]
	return GetReply{Value: v, Found: ok, Seq: t.Seq}
}

// Backup is the backup replica's service ("Backup"): it keeps the newest
// table the primary sent, and serves reads from it. It is safe for
// concurrent use, as rpc handlers must be.
type Backup struct {
	mu    sync.Mutex // protects table
	table Table
}

// Apply installs t if it is newer than the backup's table, and replies with
// the Seq of the table the backup now has.
func (b *Backup) Apply(t *Table, seq *int64) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if t.Seq > b.table.Seq {
		b.table = t.clone()
	}
	*seq = b.table.Seq
	return nil
}

// Get reads key from the backup's table, however old it is.
func (b *Backup) Get(key *string, reply *GetReply) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	*reply = b.table.get(*key)
	return nil
}

// Primary is the primary replica's service ("Primary"). Clients write to it
// and may read from it; it copies its table to the backup.
//
// Without -sync it answers a write at once and a goroutine of its own, the
// replicator, copies the table to the backup in the background
// (asynchronous replication): the write is acknowledged even if the backup
// never gets it. With -sync, a write is acknowledged only after the backup
// has confirmed it, and refused (errNotReplicated) if the backup does not
// confirm it in time. The replicator makes the writes of -sync one at a
// time, so that a refused write can be taken back. A Primary is safe for
// concurrent use.
type Primary struct {
	backup  *rpc.Client   // calls Backup.Apply
	sync    bool          // -sync: acknowledge a write only once the backup has it
	timeout time.Duration // how long one copy to the backup may take
	writes  chan write    // -sync writes, for the replicator; unbuffered
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

// write is a -sync write waiting for the replicator. It carries the
// caller's ctx, as an http.Request does, so that the copy to the backup
// ends when the caller stops waiting. err has room for the answer, so the
// replicator never waits for a caller that has gone.
type write struct {
	ctx  context.Context
	args PutArgs
	err  chan error
}

// newPrimary returns a primary that copies its table to the backup through
// c, each copy taking at most timeout, and starts its replicator; Close
// stops it.
func newPrimary(c *rpc.Client, sync bool, timeout time.Duration) *Primary {
	ctx, stop := context.WithCancel(context.Background())
	p := &Primary{
		backup: c, sync: sync, timeout: timeout,
		writes: make(chan write), kick: make(chan struct{}, 1),
		stop: stop, done: make(chan struct{}),
		table:   Table{Values: map[string]string{}},
		changed: make(chan struct{}),
	}
	go p.replicate(ctx) // exits when Close cancels ctx
	return p
}

// Close stops the replicator and waits for it.
func (p *Primary) Close() error {
	p.stop()
	<-p.done
	return nil
}

// Put sets a key. Without -sync the write is the primary's alone until the
// replicator has copied it; with -sync it returns only once the backup has
// confirmed it, or errNotReplicated.
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

// replicate is the replicator. It makes the -sync writes; it sends the
// table to the backup when there is a newer one; and it sends it every
// 2*p.timeout whatever happens, as a heartbeat: that is how the primary
// finds out that the backup has restarted with nothing, or has missed a
// table. Between two copies it is free for a write, so a -sync write never
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

// writeSync makes a -sync write: it sends the backup the table with the
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
		return fmt.Errorf("%w (%v)", errNotReplicated, err)
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

// confirmations returns how many copies the backup has answered so far.
func (p *Primary) confirmations() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.confirmed
}

// waitSynced waits until the backup has confirmed the primary's table in
// an answer to a copy made after the first after copies, or ctx ends. The
// demo uses it to know when a heal has taken effect: a copy has got
// through since, and the backup has the primary's table.
func (p *Primary) waitSynced(ctx context.Context, after int64) error {
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

// value returns what the primary holds for key: the truth the demo
// compares the backup's answers with.
func (p *Primary) value(key string) GetReply {
	var r GetReply
	p.Get(&key, &r)
	return r
}
