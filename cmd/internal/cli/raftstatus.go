package cli

import (
	"context"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/distsys-kit/distsys/raft"
)

// RaftStatus is what a status endpoint shows of a raft server.
type RaftStatus struct {
	ID         uint64 `json:"id"`
	Role       string `json:"role"` // follower, precandidate, candidate, leader
	Term       uint64 `json:"term"`
	Leader     uint64 `json:"leader"` // 0: none known
	VotedFor   uint64 `json:"voted_for"`
	Commit     uint64 `json:"commit_index"`
	Applied    uint64 `json:"applied_index"`
	FirstIndex uint64 `json:"first_index"`
	LastIndex  uint64 `json:"last_index"`
	// RaftPeers is, per other server ("raft2"), the messages sent to it
	// and what went wrong; on a leader, also how far its log matches.
	RaftPeers   map[string]RaftPeerStatus `json:"raft_peers"`
	BadMessages uint64                    `json:"bad_messages"`
}

// RaftPeerStatus is what a raft server knows of one of its peers.
type RaftPeerStatus struct {
	Sent       uint64 `json:"sent"`
	Dropped    uint64 `json:"dropped"`
	DialErrors uint64 `json:"dial_errors"`
	SendErrors uint64 `json:"send_errors"`
	Match      uint64 `json:"match_index,omitempty"` // leader only
	Next       uint64 `json:"next_index,omitempty"`  // leader only
}

// RaftStatusOf returns node's status as a status endpoint shows it.
func RaftStatusOf(node *raft.Node) RaftStatus {
	ns := node.Status()
	s := RaftStatus{
		ID: ns.ID, Role: Role(ns.State), Term: ns.Term, Leader: ns.Leader, VotedFor: ns.VotedFor,
		Commit: ns.Commit, Applied: ns.Applied, FirstIndex: ns.FirstIndex, LastIndex: ns.LastIndex,
		RaftPeers: map[string]RaftPeerStatus{}, BadMessages: ns.BadMessages,
	}
	for id, p := range ns.Peers {
		ps := RaftPeerStatus{Sent: p.Sent, Dropped: p.Dropped, DialErrors: p.DialErrors, SendErrors: p.SendErrors}
		if pr, ok := ns.Progress[id]; ok {
			ps.Match, ps.Next = pr.Match, pr.Next
		}
		s.RaftPeers[fmt.Sprintf("raft%d", id)] = ps
	}
	return s
}

// Role is the name of a raft server's state as programs print it.
func Role(s raft.State) string {
	switch s {
	case raft.Follower:
		return "follower"
	case raft.PreCandidate:
		return "precandidate"
	case raft.Candidate:
		return "candidate"
	case raft.Leader:
		return "leader"
	}
	return s.String()
}

// HandOver makes node, if it leads, hand leadership to the follower whose
// log is the longest (thesis §3.10), and waits for it to take over or ctx
// to end. A server about to stop calls it so that the others need not
// wait out an election timeout. It returns the follower chosen, or
// raft.None if node does not lead (or has no peer), and the transfer's
// error.
func HandOver(ctx context.Context, node *raft.Node) (uint64, error) {
	s := node.Status()
	if s.State != raft.Leader {
		return raft.None, nil
	}
	best, match := raft.None, uint64(0)
	for id, p := range s.Progress {
		if id != s.ID && (best == raft.None || p.Match > match || p.Match == match && id < best) {
			best, match = id, p.Match
		}
	}
	if best == raft.None {
		return raft.None, nil
	}
	return best, node.TransferLeadership(ctx, best)
}

// watchInterval is how often WatchRaft looks at a node's state.
const watchInterval = 50 * time.Millisecond

// WatchRaft prints "NAME: term=T role=R leader=L" on out whenever node's
// term, role or leader changes (looking every 50 ms), so that whoever runs
// the program sees elections happen. It returns a function that stops
// the watching and waits for it to end.
func WatchRaft(name string, node *raft.Node, out io.Writer) (stop func()) {
	done, exited := make(chan struct{}), make(chan struct{})
	go func() { // exits when stop closes done
		defer close(exited)
		t := time.NewTicker(watchInterval)
		defer t.Stop()
		var last raft.Status
		for {
			select {
			case <-t.C:
			case <-done:
				return
			}
			s := node.Status().Status
			if s.Term != last.Term || s.State != last.State || s.Leader != last.Leader {
				fmt.Fprintf(out, "%s: term=%d role=%s leader=%d\n", name, s.Term, Role(s.State), s.Leader)
				last = s
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() { close(done) })
		<-exited
	}
}

// WaitRaft waits until ctx ends, and returns nil, or until node stops on
// its own, which only a storage error does: a server that cannot save is
// no use, so then it shuts hs down (if not nil) and returns the error
// for the program to exit with.
func WaitRaft(ctx context.Context, program string, node *raft.Node, hs *HTTPServer) error {
	select {
	case <-ctx.Done():
		return nil
	case <-node.Done():
		if hs != nil {
			_ = hs.Shutdown(context.Background())
		}
		return fmt.Errorf("%s: raft stopped: %w", program, node.Err())
	}
}
