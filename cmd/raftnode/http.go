package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/distsys-kit/distsys/cmd/internal/cli"
	"github.com/distsys-kit/distsys/raft"
)

// Bounds of a proposal made over HTTP.
const (
	maxLine     = 64 << 10        // bytes of one line
	commitWait  = 5 * time.Second // how long a proposal waits for its line to commit
	maxProposed = 16              // proposals waiting at once; more are refused
)

// proposeAnswer is the JSON answer of POST /propose.
type proposeAnswer struct {
	Index  uint64 `json:"index,omitempty"`
	Term   uint64 `json:"term,omitempty"`
	Error  string `json:"error,omitempty"`
	Leader uint64 `json:"leader,omitempty"` // a follower's answer: the leader it knows, if any
}

// serveProposal is POST /propose: the body is one line, which the leader
// appends to the log. It answers once the line has committed (200 and its
// index and term), or why not: 503 on a follower, naming the leader; 409
// if the line was replaced; 504 if its fate is not known after 5 s.
func (r *replica) serveProposal(w http.ResponseWriter, req *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, req.Body, maxLine))
	if err != nil {
		answer(w, http.StatusRequestEntityTooLarge, proposeAnswer{Error: fmt.Sprintf("a line is at most %d bytes", maxLine)})
		return
	}
	line := bytes.TrimSuffix(body, []byte("\n"))
	if len(line) == 0 {
		answer(w, http.StatusBadRequest, proposeAnswer{Error: "empty line: POST the line as the body (curl -d LINE)"})
		return
	}
	select {
	case r.proposing <- struct{}{}:
		defer func() { <-r.proposing }()
	default:
		answer(w, http.StatusServiceUnavailable, proposeAnswer{Error: "too many proposals waiting: try again"})
		return
	}
	ctx, cancel := context.WithTimeout(req.Context(), commitWait)
	defer cancel()
	index, term, err := r.propose(ctx, line)
	var nle *raft.NotLeaderError
	switch {
	case err == nil:
		answer(w, http.StatusOK, proposeAnswer{Index: index, Term: term})
	case errors.As(err, &nle):
		answer(w, http.StatusServiceUnavailable, proposeAnswer{Error: "not the leader: propose at the leader", Leader: nle.Leader})
	case errors.Is(err, errReplaced):
		answer(w, http.StatusConflict, proposeAnswer{Error: err.Error()})
	case errors.Is(err, errNoOutcome):
		answer(w, http.StatusGatewayTimeout, proposeAnswer{Error: err.Error()})
	default: // refused (too many uncommitted entries), or shutting down
		answer(w, http.StatusServiceUnavailable, proposeAnswer{Error: err.Error()})
	}
}

func answer(w http.ResponseWriter, code int, a proposeAnswer) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(a) // a failed write means the client left
}

// status is the JSON of GET /status.
type status struct {
	cli.Status
	ID         uint64 `json:"id"`
	Role       string `json:"role"` // follower, precandidate, candidate, leader
	Term       uint64 `json:"term"`
	Leader     uint64 `json:"leader"` // 0: none known
	VotedFor   uint64 `json:"voted_for"`
	Commit     uint64 `json:"commit_index"`
	Applied    uint64 `json:"applied_index"`
	FirstIndex uint64 `json:"first_index"`
	LastIndex  uint64 `json:"last_index"`
	Lines      uint64 `json:"lines_applied"`
	LastLine   string `json:"last_line"`
	// RaftPeers is, per other server, the messages sent to it and what
	// went wrong; on a leader, also how far its log matches.
	RaftPeers   map[string]peerStatus `json:"raft_peers"`
	BadMessages uint64                `json:"bad_messages"`
}

type peerStatus struct {
	Sent       uint64 `json:"sent"`
	Dropped    uint64 `json:"dropped"`
	DialErrors uint64 `json:"dial_errors"`
	SendErrors uint64 `json:"send_errors"`
	Match      uint64 `json:"match_index,omitempty"` // leader only
	Next       uint64 `json:"next_index,omitempty"`  // leader only
}

func (r *replica) status(base cli.Status) status {
	ns := r.node.Status()
	s := status{
		Status: base, ID: ns.ID, Role: role(ns.State), Term: ns.Term, Leader: ns.Leader, VotedFor: ns.VotedFor,
		Commit: ns.Commit, Applied: ns.Applied, FirstIndex: ns.FirstIndex, LastIndex: ns.LastIndex,
		RaftPeers: map[string]peerStatus{}, BadMessages: ns.BadMessages,
	}
	r.mu.Lock()
	s.Lines, s.LastLine = r.lines, r.last
	r.mu.Unlock()
	for id, p := range ns.Peers {
		ps := peerStatus{Sent: p.Sent, Dropped: p.Dropped, DialErrors: p.DialErrors, SendErrors: p.SendErrors}
		if pr, ok := ns.Progress[id]; ok {
			ps.Match, ps.Next = pr.Match, pr.Next
		}
		s.RaftPeers[fmt.Sprintf("raft%d", id)] = ps
	}
	return s
}
