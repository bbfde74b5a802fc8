package raft

// This file is ReadIndex (thesis §6.4): linearizable reads without
// writing to the log. The leader notes its commit index as the read
// index, then makes sure it is still the leader by hearing from a
// majority in a heartbeat round sent after the request arrived (a newer
// leader would have stopped them answering). The application then waits
// until it has applied up to the read index, and reads its state.

// ReadState answers a ReadIndex request: once the application has applied
// the log up to Index, reading its state is linearizable.
type ReadState struct {
	ID    uint64 // the request's ID, as given to ReadIndex
	Index uint64 // the read index
}

// pendingRead is a ReadIndex request waiting at the leader.
type pendingRead struct {
	from  uint64 // who asked: this server, or a follower
	id    uint64
	index uint64 // the read index, set when its round starts
	round uint64 // the heartbeat round that confirms it; 0 until it starts
}

// ReadIndex asks for a read index, answered by a ReadState with the same
// id in a later Ready. On a follower, the request goes to the leader. It
// returns ErrNotLeader if no leader is known, and ErrProposalDropped if too
// many reads are waiting already. A request can be lost (with its message,
// or if leadership changes): callers retry after a timeout.
func (r *Raft) ReadIndex(id uint64) error {
	switch {
	case r.state == Leader:
		return r.addRead(r.id, id)
	case r.leader == None:
		return ErrNotLeader
	}
	r.send(Message{To: r.leader, Type: ReadIndex, ReadID: id})
	return nil
}

// handleReadIndex takes a follower's request.
func (r *Raft) handleReadIndex(m Message) {
	_ = r.addRead(m.From, m.ReadID) // if refused, the follower's client times out
}

func (r *Raft) addRead(from, id uint64) error {
	if uint64(len(r.reads)) >= r.maxUncommitted {
		r.counters.ProposalsDropped++
		return ErrProposalDropped
	}
	r.reads = append(r.reads, pendingRead{from: from, id: id})
	return nil
}

// readRoundDue reports whether reads are waiting for a round, and one can
// start: the leader must first have committed an entry of its own term
// (its EntryNoop), or its commit index might be behind its predecessor's.
func (r *Raft) readRoundDue() bool {
	if r.state != Leader || len(r.reads) == 0 || r.reads[len(r.reads)-1].round != 0 {
		return false
	}
	t, err := r.log.term(r.log.committed)
	return err == nil && t == r.term
}

// startReadRound gives the reads that wait for one the current commit
// index and a new heartbeat round.
func (r *Raft) startReadRound() {
	for i := len(r.reads) - 1; i >= 0 && r.reads[i].round == 0; i-- {
		r.reads[i].index, r.reads[i].round = r.log.committed, r.round+1
	}
	r.broadcastHeartbeat() // round+1
	r.confirmReads()       // a cluster of one needs no answers
}

// confirmReads answers, in order, the reads whose round a majority has
// echoed.
func (r *Raft) confirmReads() {
	for len(r.reads) > 0 && r.reads[0].round != 0 && r.roundAcked(r.reads[0].round) {
		rd := r.reads[0]
		r.reads = r.reads[1:]
		if rd.from == r.id {
			r.readStates = append(r.readStates, ReadState{ID: rd.id, Index: rd.index})
		} else {
			r.send(Message{To: rd.from, Type: ReadIndexReply, ReadID: rd.id, Index: rd.index})
		}
	}
	if len(r.reads) == 0 {
		r.reads = nil // let the old array go
	}
}

// roundAcked reports whether a majority (the leader included) has echoed
// round or a later one.
func (r *Raft) roundAcked(round uint64) bool {
	n := 0
	for id, pr := range r.progress {
		if id == r.id || pr.ackedRound >= round {
			n++
		}
	}
	return n >= r.quorum()
}
