package raft

import (
	"context"
	"errors"
	"fmt"
	"slices"
)

// ID returns the server's ID.
func (n *Node) ID() uint64 { return n.id }

// Apply returns the channel on which the node delivers, in log order, the
// committed commands to apply and the snapshots to install. It is closed
// by Close. The application must keep reading it: while ApplyBacklog
// entries wait, the node takes no more from its log.
func (n *Node) Apply() <-chan ApplyMsg { return n.applier.out }

// Propose hands a command to the leader, which appends it to its log, and
// returns the index and term it got there, without waiting for it to
// commit: the command is committed if and when it comes out of Apply at
// that index with that term (a new leader may replace it with another
// entry, and then it never does). The node keeps its own copy of cmd.
//
// On a server that is not the leader, Propose returns a *NotLeaderError
// (matching ErrNotLeader) naming the leader if it knows one. It returns
// ErrProposalDropped if the leader is handing over leadership or holds too
// many uncommitted entries, ctx.Err() if ctx ends first, and ErrClosed
// after Close.
func (n *Node) Propose(ctx context.Context, cmd []byte) (index, term uint64, err error) {
	p := proposal{data: slices.Clone(cmd), done: make(chan proposeResult, 1)}
	select {
	case n.propc <- p:
	case <-ctx.Done():
		return 0, 0, ctx.Err()
	case <-n.stopped:
		return 0, 0, n.stoppedErr()
	}
	select {
	case res := <-p.done:
		return res.index, res.term, res.err
	case <-ctx.Done():
		return 0, 0, ctx.Err()
	case <-n.stopped:
		return 0, 0, n.stoppedErr()
	}
}

// propose runs in the loop.
func (n *Node) propose(p proposal) {
	i, t, err := n.raft.Propose(p.data)
	if errors.Is(err, ErrNotLeader) {
		err = n.notLeader()
	}
	p.done <- proposeResult{i, t, err}
}

func (n *Node) notLeader() *NotLeaderError {
	l := n.raft.Leader()
	return &NotLeaderError{Leader: l, LeaderAddr: n.addrs[l]}
}

// ReadIndex returns an index such that, once the application has applied
// the log up to it, reading its state machine is linearizable: the state
// reflects every write that completed before ReadIndex was called (thesis
// §6.4). It costs a heartbeat round, not a log entry. On a follower, it
// asks the leader.
//
// The index is often that of a no-op (the entry a new leader commits at
// the start of its term), which Apply does not deliver. So "applied up to
// index" means: every command at or below index has been applied. An
// application that counts the ApplyMsg indexes it has seen, and finds
// them short of index, looks up the entries between in Storage once they
// are there: if none is a command, it has caught up (package rsm's
// caughtUp does this).
//
// It returns a *NotLeaderError if no leader is known or leadership changes
// before the read is confirmed (try again, perhaps at the leader), ErrProposalDropped
// if too many reads wait, ctx.Err() if ctx ends first (a lost request
// waits until it does), and ErrClosed after Close.
func (n *Node) ReadIndex(ctx context.Context) (uint64, error) {
	p := &pendingReadIndex{ctx: ctx, done: make(chan readResult, 1)}
	id := n.nextReadID.Add(1)
	err := n.do(ctx, func() {
		switch err := n.raft.ReadIndex(id); {
		case err == nil:
			p.term, p.leader = n.raft.Term(), n.raft.State() == Leader
			n.reads[id] = p
		case errors.Is(err, ErrNotLeader):
			p.done <- readResult{err: n.notLeader()}
		default:
			p.done <- readResult{err: err}
		}
	})
	if err != nil {
		return 0, err
	}
	select {
	case res := <-p.done:
		return res.index, res.err
	case <-ctx.Done():
		return 0, ctx.Err() // the loop forgets p at its next tick
	case <-n.stopped:
		return 0, n.stoppedErr()
	}
}

// Snapshot tells the node that the application's state as of index (which
// it has applied) is data, so the log up to index can be discarded. The
// node saves the snapshot in Storage, sends it to followers that need the
// discarded entries, and keeps data; the caller must not change it
// afterwards. It may be called from the goroutine that reads Apply.
//
// It returns ErrSnapshotIndex if index has not been delivered by Apply,
// ErrSnapshotOutOfDate if a snapshot already covers index, the Storage's
// error if saving fails, and ErrClosed after Close.
func (n *Node) Snapshot(index uint64, data []byte) error {
	var err error
	if derr := n.do(context.Background(), func() {
		if index > n.applier.delivered.Load() {
			err = ErrSnapshotIndex
			return
		}
		var snap Snapshot
		if snap, err = n.raft.NewSnapshot(index, data); err == nil {
			err = n.storage.SaveSnapshot(snap)
		}
	}); derr != nil {
		return derr
	}
	return err
}

// TransferLeadership asks the leader to hand leadership to server `to`
// (thesis §3.10) and waits until `to` leads. Transferring to the leader
// itself does nothing.
//
// It returns a *NotLeaderError on a server that is not the leader,
// ErrUnknownPeer if `to` is not a server of the cluster, ErrTransferFailed
// if the transfer was abandoned or another server won, ctx.Err() if ctx
// ends first, and ErrClosed after Close.
func (n *Node) TransferLeadership(ctx context.Context, to uint64) error {
	t := &pendingTransfer{to: to, done: make(chan error, 1)}
	err := n.do(ctx, func() {
		switch err := n.raft.TransferLeadership(to); {
		case errors.Is(err, ErrNotLeader):
			t.done <- n.notLeader()
		case err != nil:
			t.done <- err
		case to == n.id:
			t.done <- nil
		default:
			n.transfers = append(n.transfers, t)
		}
	})
	if err != nil {
		return err
	}
	select {
	case err := <-t.done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	case <-n.stopped:
		return n.stoppedErr()
	}
}

// NodeStatus is a Node's Status, with its transport's counters.
type NodeStatus struct {
	Status
	// Peers counts, per peer, the messages sent and what went wrong.
	Peers map[uint64]PeerStats
	// BadMessages counts incoming messages that did not decode or were
	// not from a peer, addressed to this server.
	BadMessages uint64
}

// Status returns the server's current state, or after Close its state
// when it stopped.
func (n *Node) Status() NodeStatus {
	var s Status
	if err := n.do(context.Background(), func() { s = n.raft.Status() }); err != nil {
		s = n.final
	}
	ns := NodeStatus{Status: s, Peers: make(map[uint64]PeerStats, len(n.peers)), BadMessages: n.inbound.bad.Load()}
	for id, p := range n.peers {
		ns.Peers[id] = p.stats()
	}
	return ns
}

// do runs f in the loop goroutine, and waits for it.
func (n *Node) do(ctx context.Context, f func()) error {
	ran := make(chan struct{})
	select {
	case n.ctlc <- func() { f(); close(ran) }:
	case <-ctx.Done():
		return ctx.Err()
	case <-n.stopped:
		return n.stoppedErr()
	}
	<-ran // the loop runs f as soon as it takes it
	return nil
}

// stoppedErr is the error of a call on a stopped node.
func (n *Node) stoppedErr() error {
	if n.err != nil {
		return fmt.Errorf("%w: stopped by %w", ErrClosed, n.err)
	}
	return ErrClosed
}

// Done returns a channel that is closed when the node has stopped: after
// Close, or when its storage failed (then Err says why). A program that
// serves through the node watches it, so as not to run on as a server
// that can no longer do anything.
func (n *Node) Done() <-chan struct{} { return n.stopped }

// Err returns the storage error that stopped the node, once Done is
// closed; before that, and after a plain Close, nil.
func (n *Node) Err() error {
	select {
	case <-n.stopped:
		return n.err
	default:
		return nil
	}
}

// Close stops the node: its goroutines, its connections and its listener.
// Calls waiting in other methods return ErrClosed, and later ones too.
// Close waits for every goroutine to exit. It returns the storage error
// that stopped the node, if one did; later calls return nil.
func (n *Node) Close() error {
	var err error
	n.closeOnce.Do(func() {
		n.cancel()
		close(n.done)
		_ = n.listener.Close()
		n.inbound.closeAll()
		n.wg.Wait()
		err = n.err
	})
	return err
}
