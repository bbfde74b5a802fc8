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
	cli.RaftStatus
	Lines    uint64 `json:"lines_applied"`
	LastLine string `json:"last_line"`
}

func (r *replica) status(base cli.Status) status {
	s := status{Status: base, RaftStatus: cli.RaftStatusOf(r.node)}
	r.mu.Lock()
	s.Lines, s.LastLine = r.lines, r.last
	r.mu.Unlock()
	return s
}
