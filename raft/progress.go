package raft

// progressState is how a leader is sending entries to one follower.
type progressState uint8

const (
	// probing: the leader does not know where the follower's log ends
	// (just elected, or after a rejection). It sends one AppendEntries
	// and waits for the reply, or the next heartbeat, before sending
	// another, moving nextIndex back on each rejection (§5.3).
	probing progressState = iota
	// replicating: the follower's log matched. The leader streams
	// entries, advancing nextIndex as it sends rather than as replies
	// come, with up to MaxInflight messages unanswered (pipelining).
	replicating
	// snapshotting: the follower needs entries the leader has compacted;
	// an InstallSnapshot is on its way and nothing else is sent.
	snapshotting
)

var progressStateNames = [...]string{probing: "probe", replicating: "replicate", snapshotting: "snapshot"}

func (s progressState) String() string { return progressStateNames[s] }

// progress is what a leader knows of one follower (Figure 2, "volatile
// state on leaders": nextIndex[] and matchIndex[]), and how it is sending
// to it.
type progress struct {
	match uint64 // matchIndex: the follower's log matches ours up to here
	next  uint64 // nextIndex: the next entry to send it
	state progressState

	paused       bool     // probing: a probe is unanswered
	inflight     []uint64 // replicating: the last index of each unanswered AppendEntries, oldest first
	maxInflight  int
	pendingSnap  uint64 // snapshotting: the index of the snapshot sent
	snapElapsed  int    // snapshotting: ticks since it was sent
	recentActive bool   // heard from since the last CheckQuorum check
	ackedRound   uint64 // the highest heartbeat round it echoed (ReadIndex)
	sentCommit   uint64 // the highest commit index sent to it

	// The last heartbeat sent to it: its round, and nextIndex when it
	// went, to tell whether the entries sent before it were lost.
	heartbeatRound uint64
	heartbeatNext  uint64
}

func newProgress(next uint64, maxInflight int) *progress {
	return &progress{next: next, maxInflight: maxInflight}
}

// isPaused reports whether the leader must not send this follower more
// entries now.
func (pr *progress) isPaused() bool {
	switch pr.state {
	case probing:
		return pr.paused
	case replicating:
		return len(pr.inflight) >= pr.maxInflight
	}
	return true // snapshotting
}

// becomeProbe starts probing from just after the match index (or, out of
// snapshotting, just after the snapshot).
func (pr *progress) becomeProbe() {
	next := pr.match + 1
	if pr.state == snapshotting {
		next = max(next, pr.pendingSnap+1)
	}
	pr.reset(probing, next)
}

// becomeReplicate starts streaming after the match index.
func (pr *progress) becomeReplicate() { pr.reset(replicating, pr.match+1) }

// becomeSnapshot records that a snapshot of index i is on its way.
func (pr *progress) becomeSnapshot(i uint64) {
	pr.reset(snapshotting, pr.next)
	pr.pendingSnap = i
}

func (pr *progress) reset(s progressState, next uint64) {
	pr.state, pr.next = s, next
	pr.paused = false
	pr.inflight = pr.inflight[:0]
	pr.pendingSnap, pr.snapElapsed = 0, 0
}

// sentEntries records an AppendEntries whose last entry is last.
func (pr *progress) sentEntries(last uint64) {
	switch pr.state {
	case probing:
		pr.paused = true
	case replicating:
		pr.next = last + 1
		pr.inflight = append(pr.inflight, last)
	}
}

// maybeUpdate records that the follower's log matches up to index i, and
// reports whether that is news.
func (pr *progress) maybeUpdate(i uint64) bool {
	pr.paused = false
	if i <= pr.match {
		return false
	}
	pr.match = i
	pr.next = max(pr.next, i+1)
	// Free the inflight slots of the messages this reply covers.
	k := 0
	for k < len(pr.inflight) && pr.inflight[k] <= i {
		k++
	}
	pr.inflight = append(pr.inflight[:0], pr.inflight[k:]...)
	return true
}

// lostBeforeHeartbeat reports whether a reply to the last heartbeat
// (one echoing its round) shows the AppendEntries sent before it lost: on
// a network that keeps messages in order, their replies would have come
// first, and the match index would have reached them. (On one that
// reorders, they may yet arrive; probing again costs only a resend.)
func (pr *progress) lostBeforeHeartbeat(round uint64) bool {
	return pr.state == replicating && round == pr.heartbeatRound && pr.match+1 < pr.heartbeatNext
}

// maybeBackOff handles a rejection of the AppendEntries sent after index
// rejected: the follower's log does not match there. The leader moves
// nextIndex back to hint (computed from the follower's conflict hint), but
// never to or below the match index, nor past the rejected index. It
// reports false, and changes nothing, for a stale rejection: one of an
// index already known to match, or, when probing, not of the last probe,
// or one that arrives while a snapshot is on its way.
func (pr *progress) maybeBackOff(rejected, hint uint64) bool {
	if pr.state == snapshotting || rejected <= pr.match || (pr.state == probing && rejected != pr.next-1) {
		return false
	}
	pr.becomeProbe()
	pr.next = max(min(hint, rejected), pr.match+1)
	return true
}
