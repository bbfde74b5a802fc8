package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/distsys-kit/distsys/cmd/internal/cli"
	"github.com/distsys-kit/distsys/raft"
)

// recheck is how often a proposer looks whether its entry was replaced.
const recheck = 50 * time.Millisecond

// replica is the application on top of a raft node: its state machine
// is the log of lines itself, which it prints as they commit. It also
// tells a proposer when its line has committed.
//
// Its methods are safe for concurrent use by multiple goroutines.
type replica struct {
	node    *raft.Node
	storage raft.Storage // read only, to check what is at a proposal's index
	out     io.Writer    // where applied lines and changes are printed

	mu       sync.Mutex    // protects the fields below
	applied  uint64        // index of the last line applied
	lines    uint64        // how many lines were applied
	last     string        // the last line applied
	advanced chan struct{} // closed when applied grows, then replaced

	proposing chan struct{} // one token per HTTP proposal waiting (maxProposed)

	stopWatch func() // stops the printing of changes of term, role, leader
	wg        sync.WaitGroup
	closeOnce sync.Once
	closeErr  error
}

func newReplica(node *raft.Node, storage raft.Storage, out io.Writer) *replica {
	r := &replica{node: node, storage: storage, out: out, advanced: make(chan struct{}),
		proposing: make(chan struct{}, maxProposed)}
	r.wg.Go(r.applyLoop) // exits when close closes the node, which closes Apply
	r.stopWatch = cli.WatchRaft("raftnode", node, out)
	return r
}

// applyLoop prints every committed line, in log order. A restarted server
// replays its whole log: it keeps no snapshot, so its state is rebuilt
// from the log, and it prints the old lines again.
func (r *replica) applyLoop() {
	for m := range r.node.Apply() {
		if m.Snapshot.IsEmpty() {
			fmt.Fprintf(r.out, "applied index=%d term=%d %q\n", m.Index, m.Term, m.Command)
		}
		r.mu.Lock()
		r.applied = m.Index
		if m.Snapshot.IsEmpty() {
			r.lines++
			r.last = string(m.Command)
		}
		close(r.advanced) // wakes the proposers waiting for this index
		r.advanced = make(chan struct{})
		r.mu.Unlock()
	}
}

// errNoOutcome is the answer to a proposal whose fate is not known when
// the request ends.
var errNoOutcome = errors.New("the line was appended, but whether it committed is not known yet: read the log before proposing it again")

// errReplaced is the answer to a proposal whose entry was replaced in this
// server's log by a newer leader's.
var errReplaced = errors.New("a new leader replaced the line in this server's log: it is most likely lost; read the log before proposing it again")

// propose appends line to the log, at the leader, and waits for it to
// commit: until this server has applied its index, and the entry there is
// still the one the leader appended (same term). It returns the index and
// term, a *raft.NotLeaderError on a follower, errReplaced, or, when ctx
// ends first, errNoOutcome.
func (r *replica) propose(ctx context.Context, line []byte) (index, term uint64, err error) {
	index, term, err = r.node.Propose(ctx, line)
	if err != nil {
		return 0, 0, err
	}
	// A lost entry is replaced without being applied (raft delivers no
	// no-ops), so nothing would wake us: look again now and then.
	t := time.NewTicker(recheck)
	defer t.Stop()
	for {
		r.mu.Lock()
		applied, advanced := r.applied, r.advanced
		r.mu.Unlock()
		at, terr := r.storage.Term(index)
		switch {
		case terr == nil && at != term:
			return 0, 0, errReplaced
		case applied >= index && terr == nil:
			return index, term, nil
		}
		select {
		case <-advanced:
		case <-t.C:
		case <-ctx.Done():
			return 0, 0, errNoOutcome
		}
	}
}

// close stops the watcher and the node, and waits for them. It returns
// the node's error, if a storage failure stopped it; later calls return
// the same.
func (r *replica) close() error {
	r.closeOnce.Do(func() {
		r.stopWatch()
		r.closeErr = r.node.Close()
		r.wg.Wait()
	})
	return r.closeErr
}
