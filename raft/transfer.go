package raft

// TransferLeadership hands leadership to server `to` (thesis §3.10): the
// leader stops taking proposals, brings `to`'s log up to date, and then
// sends it TimeoutNow, which makes it start an election at once; with the
// most up-to-date log and a head start on everyone's timers, it wins. If
// that has not happened within an election timeout, the leader gives up
// and takes proposals again. Transferring to itself does nothing.
//
// It returns ErrNotLeader on a server that is not the leader and
// ErrUnknownPeer if `to` is not a server of the cluster.
func (r *Raft) TransferLeadership(to uint64) error {
	switch {
	case r.state != Leader:
		return ErrNotLeader
	case !r.isPeer(to):
		return ErrUnknownPeer
	case to == r.id:
		return nil
	}
	r.transferee = to
	r.electionElapsed = 0 // the transfer has one election timeout to finish
	if r.progress[to].match == r.log.lastIndex() {
		r.send(Message{To: to, Type: TimeoutNow})
		return nil
	}
	// Bring it up to date; TimeoutNow follows when it has caught up (see
	// handleAppendEntriesReply). Send something even if there is nothing
	// new, so that its answer says where its log ends.
	if r.sendAppend(to, true) {
		r.sendAppends(to)
	}
	return nil
}

// Transferee returns the server leadership is being handed to, or None.
func (r *Raft) Transferee() uint64 { return r.transferee }
