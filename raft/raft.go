package raft

import (
	"fmt"
	"math/rand/v2"
	"slices"
)

// State is a server's role (§5.1).
type State uint8

const (
	// Follower is passive: it answers leaders and candidates.
	Follower State = iota
	// PreCandidate asks for pre-votes before becoming a candidate
	// (Config.PreVote).
	PreCandidate
	// Candidate asks for votes to become leader (§5.2).
	Candidate
	// Leader takes clients' commands and replicates them (§5.3).
	Leader
)

var stateNames = [...]string{"Follower", "PreCandidate", "Candidate", "Leader"}

// String returns the state's name.
func (s State) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return fmt.Sprintf("State(%d)", uint8(s))
}

// Raft is one server's half of the Raft protocol, as a state machine with
// no goroutines, no clock and no I/O: the caller drives it. Tick advances
// its clock, Step hands it a message from a peer, Propose a client's
// command; what it wants done in return (save this, send that, apply
// those) piles up until the caller takes it with Ready, does it, and calls
// Advance. See the package documentation for the loop.
//
// A Raft is not safe for concurrent use: one goroutine drives it (Node is
// such a driver).
type Raft struct {
	id    uint64
	peers []uint64 // every server, this one included, in increasing order

	// Persistent state on all servers (Figure 2), saved from Ready.HardState.
	term     uint64 // currentTerm
	votedFor uint64
	log      *raftLog // log[], and the volatile commitIndex and lastApplied

	state  State
	leader uint64 // the leader of this term, as far as this server knows

	// Timers, in ticks.
	electionTimeout   int // Config.ElectionTick
	heartbeatTimeout  int // Config.HeartbeatTick
	randomizedTimeout int // this term's timeout, in [electionTimeout, 2*electionTimeout)
	electionElapsed   int // ticks since the timer was last reset
	heartbeatElapsed  int // leader: ticks since the last heartbeat
	rand              *rand.Rand

	preVote, checkQuorum bool
	maxInflight          int
	maxMsgBytes          uint64
	maxUncommitted       uint64
	maxApplyBytes        uint64

	votes    map[uint64]bool      // candidates: the answers so far
	progress map[uint64]*progress // leader: each server's, its own included

	// Leader: work batched until the next Ready (see flush).
	appendPending bool // new entries to send
	commitPending bool // the commit index moved: tell the followers
	transferee    uint64
	round         uint64        // the last heartbeat round (ReadIndex)
	reads         []pendingRead // ReadIndex requests waiting for a round to confirm them

	msgs       []Message
	readStates []ReadState
	prevHard   HardState // the hard state last handed out in a Ready
	matchBuf   []uint64  // scratch space for maybeCommit
	counters   Counters
}

// NewRaft returns a server as its Storage left it: a new one, or one
// restarting with the term, vote and log it saved. It starts as a
// follower. It returns an error wrapping ErrInvalidConfig for a bad
// Config, or the error of reading Storage.
func NewRaft(cfg Config) (*Raft, error) {
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	hs, err := cfg.Storage.InitialState()
	if err != nil {
		return nil, fmt.Errorf("raft: storage: %w", err)
	}
	if hs.VotedFor != None && !slices.Contains(cfg.Peers, hs.VotedFor) {
		return nil, fmt.Errorf("%w: storage says this server voted for %d, not a peer", ErrInvalidConfig, hs.VotedFor)
	}
	log, err := newLog(cfg.Storage, hs, cfg.Applied)
	if err != nil {
		return nil, err
	}
	r := &Raft{
		id:               cfg.ID,
		peers:            cfg.Peers,
		term:             hs.Term,
		votedFor:         hs.VotedFor,
		log:              log,
		electionTimeout:  cfg.ElectionTick,
		heartbeatTimeout: cfg.HeartbeatTick,
		rand:             rand.New(rand.NewPCG(uint64(cfg.Seed), cfg.ID)),
		preVote:          cfg.PreVote,
		checkQuorum:      cfg.CheckQuorum,
		maxInflight:      cfg.MaxInflight,
		maxMsgBytes:      cfg.MaxMsgBytes,
		maxUncommitted:   uint64(cfg.MaxUncommittedEntries),
		maxApplyBytes:    cfg.MaxCommittedBytesPerReady,
		prevHard:         hs,
	}
	r.becomeFollower(r.term, None)
	return r, nil
}

// ID returns this server's ID.
func (r *Raft) ID() uint64 { return r.id }

// Term returns the current term.
func (r *Raft) Term() uint64 { return r.term }

// Leader returns the leader of the current term as far as this server
// knows, or None.
func (r *Raft) Leader() uint64 { return r.leader }

// State returns the server's role.
func (r *Raft) State() State { return r.state }

// quorum is the size of a majority.
func (r *Raft) quorum() int { return len(r.peers)/2 + 1 }

func (r *Raft) isPeer(id uint64) bool {
	_, found := slices.BinarySearch(r.peers, id)
	return found
}

// send queues m. Every message carries the sender's current term, except
// those that name a term of their own (a PreVote and its granting reply).
func (r *Raft) send(m Message) {
	m.From = r.id
	if m.Term == 0 {
		m.Term = r.term
	}
	if m.Type == AppendEntries {
		m.Round = r.round // any later message confirms the rounds before it
	}
	r.msgs = append(r.msgs, m)
}

// Tick advances the server's clock by one tick: followers and candidates
// count towards an election timeout, leaders towards the next heartbeat.
func (r *Raft) Tick() {
	if r.state == Leader {
		r.tickLeader()
		return
	}
	r.electionElapsed++
	if r.electionElapsed >= r.randomizedTimeout {
		r.electionElapsed = 0
		r.hup(false) // Figure 2, followers: "if election timeout elapses ... convert to candidate"
	}
}

func (r *Raft) tickLeader() {
	r.heartbeatElapsed++
	r.electionElapsed++
	if r.electionElapsed >= r.electionTimeout {
		r.electionElapsed = 0
		if r.checkQuorum && !r.quorumActive() {
			r.becomeFollower(r.term, None) // cut off from a majority: stop acting as leader
			return
		}
		r.transferee = None // a transfer not done within an election timeout is abandoned
	}
	for _, pr := range r.progress {
		if pr.state == snapshotting {
			if pr.snapElapsed++; pr.snapElapsed >= r.electionTimeout {
				pr.becomeProbe() // the snapshot or its reply was lost: try again
			}
		}
	}
	if r.heartbeatElapsed >= r.heartbeatTimeout {
		r.broadcastHeartbeat()
	}
}

// quorumActive reports whether a majority (this server included) was
// heard from since the last check, and starts the next period.
func (r *Raft) quorumActive() bool {
	n := 0
	for id, pr := range r.progress {
		if id == r.id || pr.recentActive {
			n++
		}
		pr.recentActive = false
	}
	return n >= r.quorum()
}

// Propose appends a client's command to the leader's log and returns its
// index and term. It does not wait: the command is committed when a
// majority has it, and comes back in Ready.CommittedEntries. Raft keeps
// data; the caller must not change it afterwards. Propose returns
// ErrNotLeader on a server that is not the leader (Leader says who is),
// and ErrProposalDropped if the leader is transferring leadership or holds
// too many uncommitted entries.
func (r *Raft) Propose(data []byte) (index, term uint64, err error) {
	if r.state != Leader {
		return 0, 0, ErrNotLeader
	}
	if r.transferee != None || r.log.lastIndex()-r.log.committed >= r.maxUncommitted {
		r.counters.ProposalsDropped++
		return 0, 0, ErrProposalDropped
	}
	e := r.appendEntry(Entry{Type: EntryCommand, Data: data})
	return e.Index, e.Term, nil
}

// appendEntry appends e to the leader's log, in its term, and returns it.
func (r *Raft) appendEntry(e Entry) Entry {
	e.Index, e.Term = r.log.lastIndex()+1, r.term
	r.log.append(e)
	r.progress[r.id].maybeUpdate(e.Index)
	r.appendPending = true
	r.maybeCommit() // a cluster of one commits at once
	return e
}

// maybeCommit is the leader's commit rule (Figure 2): if there is an N >
// commitIndex that a majority has (matchIndex ≥ N) and log[N] is of the
// current term, N is committed. It reports whether the commit index moved.
func (r *Raft) maybeCommit() bool {
	matches := r.matchBuf[:0]
	for _, pr := range r.progress {
		matches = append(matches, pr.match)
	}
	slices.Sort(matches)
	r.matchBuf = matches
	n := matches[len(matches)-r.quorum()] // the highest index a majority has
	if !r.log.maybeCommit(n, r.term) {
		return false
	}
	r.commitPending = true
	return true
}
