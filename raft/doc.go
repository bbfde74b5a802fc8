// Package raft is the Raft consensus algorithm (Ongaro and Ousterhout, "In
// Search of an Understandable Consensus Algorithm", 2014; the rules beyond
// the paper come from Ongaro's thesis, "Consensus: Bridging Theory and
// Practice", 2014), written to be read beside the paper.
//
// Raft keeps a log replicated on a cluster of servers, so that a state
// machine fed from it survives the failure of any minority of them. A
// client's command goes to the leader, which appends it to its log and
// sends it to the others; once a majority has it, it is committed, and
// every server applies it, in log order, to its copy of the state machine.
//
// # What is promised, and what may go wrong
//
// Servers may crash and restart (keeping what they saved to Storage), and
// the network may lose, delay, reorder and duplicate messages, and cut
// the cluster in parts. Servers are not malicious, and the network does
// not forge messages (use a TLS transport between machines). Whatever
// happens, Raft keeps the five properties of the paper's Figure 3:
//
//   - Election Safety: at most one leader is elected in a term.
//   - Leader Append-Only: a leader never overwrites or deletes entries in
//     its log; it only appends.
//   - Log Matching: if two logs have an entry with the same index and
//     term, they are identical up to that index.
//   - Leader Completeness: a committed entry is in the log of every leader
//     of every later term.
//   - State Machine Safety: no two servers apply different commands at
//     the same index.
//
// Progress needs more: a majority of servers up and able to talk, within
// the election timeout, to one another. Without it, nothing is committed,
// and nothing wrong is either.
//
// A proposal is not a commitment. Propose returns the index and term the
// leader gave a command; if that leader loses its office before a majority
// has the entry, a new leader may replace it, and the command never
// commits. A client learns the outcome by watching what is applied at
// that index (the same term: committed; another: lost, propose again).
// Retrying can apply a command twice; a service that must not (a counter,
// a transfer) numbers its clients' requests and skips repeats.
//
// # The protocol as a state machine
//
// Raft, the protocol core, has no goroutines, no clock and no I/O: it is
// a value that the caller drives (the style of etcd's raft package). Tick
// advances its clock, Step hands it a message from a peer, Propose a
// client's command, ReadIndex a read; what it wants done in return piles
// up in a Ready, which the caller takes, does, and acknowledges with
// Advance:
//
//	        Tick ──┐        ┌────────────────────────────────────────────┐
//	 Step(message) ├──► Raft│ Ready():                                   │
//	Propose(cmd)   ┘     ▲  │  1. save HardState, Entries, Snapshot      │──► Storage
//	                     │  │     (durable before anything is sent)      │
//	                     │  │  2. send Messages                          │──► peers
//	                     │  │  3. apply Snapshot, CommittedEntries;      │──► state machine
//	                     │  │     answer ReadStates                      │
//	                     └──┤  4. Advance(rd)                            │
//	                        └────────────────────────────────────────────┘
//
// Because it is a plain value, a test can run a whole cluster in one
// goroutine, deliver, drop or reorder each message by hand, and check the
// state after every step; the same seed, ticks and messages always give
// the same run. ExampleRaft does exactly that.
//
// # Figure 2, in the code
//
// Each rule of the paper's summary lives in one function:
//
//	State
//	  currentTerm, votedFor           Raft.term, Raft.votedFor (saved from Ready.HardState)
//	  log[]                           raftLog: Storage, then the unstable entries (log.go, unstable.go)
//	  commitIndex, lastApplied        raftLog.committed, raftLog.applied
//	  nextIndex[], matchIndex[]       progress.next, progress.match (progress.go)
//
//	RequestVote RPC, receiver
//	  1. reply false if term < currentTerm          Step → answerStale (step.go)
//	  2. grant if votedFor is null or candidateId   handleVoteRequest (election.go)
//	     and the candidate's log is up-to-date      raftLog.isUpToDate (log.go)
//
//	AppendEntries RPC, receiver
//	  1. reply false if term < currentTerm          Step → answerStale
//	  2. reply false if no match at prevLogIndex    raftLog.maybeAppend (log.go), via handleAppendEntries
//	  3. delete a conflicting entry and the rest    raftLog.findConflict, unstable.truncateAndAppend
//	  4. append new entries                         raftLog.append
//	  5. commitIndex = min(leaderCommit, last new)  raftLog.commitTo
//
//	All servers
//	  apply entries up to commitIndex               Ready.CommittedEntries, Advance (ready.go)
//	  a higher term: adopt it, become follower      Step (step.go), becomeFollower (election.go)
//
//	Followers
//	  answer candidates and leaders                 stepFollower (step.go)
//	  election timeout: become candidate            Tick → hup (raft.go, election.go)
//
//	Candidates
//	  new term, vote for self, reset timer, ask all campaign, becomeCandidate (election.go)
//	  votes from a majority: become leader          poll → becomeLeader
//	  AppendEntries from a new leader: follow       stepCandidate (step.go)
//	  election timeout: start a new election        Tick → hup
//
//	Leaders
//	  on election, heartbeats; repeat when idle     becomeLeader, broadcastHeartbeat (replication.go)
//	  a command: append, reply after it is applied  Propose, appendEntry (raft.go); Node's Apply
//	  send entries from nextIndex                   sendAppend (replication.go)
//	  success: update nextIndex, matchIndex         handleAppendEntriesReply, progress.maybeUpdate
//	  failure: decrement nextIndex, retry           progress.maybeBackOff, nextAfterConflict
//	  commit N if a majority has it and             maybeCommit (raft.go),
//	    log[N].term == currentTerm (Figure 8)         raftLog.maybeCommit
//
//	InstallSnapshot RPC (Figure 13)
//	  leader: send it when entries are compacted    sendSnapshot (snapshot.go)
//	  receiver: rules 6 (keep the rest), 7 (reset)  handleInstallSnapshot
//
// The tests are named after the paper's sentences they check
// (TestLeaderCommitsOnlyCurrentTermEntries, TestVoterRejectsCandidateWithStaleLog,
// …), and TestSafetyUnderRandomFaults checks Figure 3 after every step of
// random runs with lost messages, partitions, crashes and compaction.
//
// # Beyond Figure 2
//
// The same rules, made fast and robust, plus what a real service needs:
//
//   - The no-op: a new leader appends an EntryNoop, so that its term has an
//     entry to commit, which commits everything before it (§8).
//   - Fast back-up: a follower that refuses entries says where its log
//     diverges (the term there and its first index, or its length), so the
//     leader skips a whole term per round trip, not one entry (§5.3).
//   - Batching and pipelining: the commands proposed between two Readys
//     go out together, up to Config.MaxMsgBytes per AppendEntries, and are
//     saved together (one Storage.Save: one fsync with raft/wal). A
//     Node's loop makes the batches big under load: before a Ready it
//     takes every proposal and message waiting, and a busy leader lets
//     the clients about to propose run once first (node_loop.go). Once a
//     follower's log matches, the leader streams to it without waiting
//     for replies, up to Config.MaxInflight messages ahead; while it does
//     not know where a follower's log ends, it probes, one message at a
//     time (progress.go). A heartbeat's reply that finds earlier
//     AppendEntries unanswered means they were lost: probe again.
//   - One fsync per commit on its path: a Node's leader sends
//     AppendEntries while it saves the same entries (the thesis, §10.2.1),
//     so its fsync and the followers' overlap, and it does not fsync a
//     new commit index by itself (commitIndex is volatile in Figure 2; it
//     is saved with the next entries). With three servers on one disk,
//     a commit went from three fsyncs in a row to one.
//   - Compaction (§7): the application snapshots its state at an applied
//     index (Raft.NewSnapshot, Node.Snapshot) and the log before it is
//     discarded; a follower that needs discarded entries gets the
//     snapshot (InstallSnapshot). It is sent whole, not in chunks.
//   - PreVote (thesis §9.6, Config.PreVote): a server that times out
//     first asks whether it could win, without raising its term, so a
//     server returning from a partition does not depose a working leader.
//   - CheckQuorum (thesis §6.2, Config.CheckQuorum): a leader that has not
//     heard from a majority for an election timeout steps down, and
//     followers that hear from a leader ignore vote requests meanwhile.
//   - ReadIndex (thesis §6.4): a linearizable read without a log entry.
//     The leader notes its commit index, confirms with a heartbeat round
//     that a majority still follows it, and the application answers once
//     it has applied that far (readindex.go).
//   - Leadership transfer (thesis §3.10): the leader brings the target up
//     to date and sends it TimeoutNow; the target campaigns at once.
//
// A peer's bad message (malformed, from a stranger, impossible) never
// panics: Step drops it, returns ErrInvalidMessage and counts it in
// Status. Membership changes are out of scope: the cluster is the fixed
// set Config.Peers.
//
// # Node: a server on a network
//
// Node drives a Raft over any transport (TCP, reliable UDP, the simulator
// netsim): one goroutine runs the Ready loop; each peer has a bounded
// outbox and a goroutine that sends from it, so a slow or dead peer never
// stalls the loop (its messages are dropped and counted, which Raft
// tolerates); committed commands reach the application on a channel, in
// order, from a goroutine of its own, so an application may call the
// node from the goroutine that reads it. Messages travel in a compact,
// versioned binary encoding (AppendMessage, DecodeMessage).
//
//	storage := raft.NewMemoryStorage()          // or raft/wal, to survive crashes
//	l, _ := transport.ListenTCP(":7001")
//	n, err := raft.NewNode(raft.NodeConfig{
//		Config:   raft.Config{ID: 1, Storage: storage, PreVote: true, CheckQuorum: true},
//		Addrs:    map[uint64]string{1: "a:7001", 2: "b:7001", 3: "c:7001"},
//		Listener: l,
//		Dialer:   transport.NewTCPDialer(),
//	})
//	defer n.Close()
//
//	go func() {
//		for m := range n.Apply() {          // committed, in log order
//			if !m.Snapshot.IsEmpty() {
//				sm.Restore(m.Snapshot.Data)
//				continue
//			}
//			sm.Apply(m.Index, m.Command)
//		}
//	}()
//
//	index, term, err := n.Propose(ctx, cmd) // a *NotLeaderError names the leader
//	readIndex, err := n.ReadIndex(ctx)      // then read once applied up to readIndex
//	err = n.Snapshot(appliedIndex, sm.Encode())
//
// # Storage
//
// Storage is what a server keeps across crashes: its term, vote and log
// (and the latest snapshot). Raft reads it; the driver writes it, from
// each Ready, before sending the Ready's messages (all but a leader's
// AppendEntries, which promise nothing of its disk). MemoryStorage keeps it
// in memory (for tests and simulations); package raft/wal keeps it on
// disk. Package raft/storagetest is the contract every implementation
// passes.
package raft
