// Package rsm is a replicated state machine on package raft: the layer
// between a consensus log and a service (MIT 6.5840's lab 4 asks
// students to build it; the Raft paper's §8 says what it must do).
//
// Raft agrees on a log; a service wants its state to change once per
// client request, whatever the network does. Between the two sit three
// problems, which this package solves:
//
//   - A command proposed is not a command committed: a leader may lose
//     its office before a majority has the entry, and a new leader
//     replaces it. Submit waits until the command comes out of the log at
//     the index it was given, and says plainly when it cannot tell
//     (ErrMaybeApplied) or knows it was lost (ErrNotApplied).
//   - A client whose reply was lost resends, perhaps to another replica
//     that has since become the leader; the command may then be in the
//     log twice. Each client has a session: its commands carry (Client,
//     Seq), and the replicated state remembers each client's latest Seq
//     and result, so a repeat is answered, not applied again. Sessions
//     live in the state machine's snapshot too, so a replica restarted
//     from a snapshot, or a follower sent one, still knows them.
//   - The log grows forever. WithMaxRaftState makes each replica
//     snapshot its state (the StateMachine's bytes and the sessions) once
//     the log entries applied since the last snapshot pass a size, and
//     raft discards the log before it.
//
// # What is promised
//
// With a majority of replicas up and connected: every command is applied
// to every replica's StateMachine in the same order (raft's State Machine
// Safety); a command with a session is applied at most once however often
// it is submitted, and exactly once if the client keeps resubmitting it
// until Submit returns its result; Read is linearizable (it reflects every
// command whose Submit returned before the Read began). Without a
// majority, Submit and Read wait, then fail by their ctx; nothing wrong
// is returned.
//
// What is not promised: a client must submit its commands one at a time
// (wait for Seq n before sending n+1; resend n as often as needed), and
// sessions are never forgotten, so a service with an unbounded number of
// clients grows (thesis §6.3 expires them; this package does not).
//
// # How a command travels
//
//	client ──Submit(Client, Seq, cmd)──► leader's RSM ──Propose──► raft log
//	                                                                  │ committed
//	every replica's apply loop ◄───────────────── Apply channel ◄────┘
//	  session says Seq is new?  yes: sm.Apply(cmd), remember the result
//	                            no:  the remembered result
//	  the leader's waiting Submit gets the result
//
// Reads need no log entry: Read asks raft for a ReadIndex (the leader
// confirms with one round of heartbeats that it still leads), waits until
// the replica has applied that far, and calls Query. WithReadsThroughLog
// puts each read in the log instead.
//
// # Walkthrough
//
//	sm := newCounter()                                 // a StateMachine
//	r, err := rsm.New(raft.NodeConfig{...}, sm, rsm.WithMaxRaftState(1<<20))
//	defer r.Close()
//	res, err := r.Submit(ctx, rsm.Request{Client: id, Seq: 1, Cmd: []byte("incr")})
//	var nle *raft.NotLeaderError
//	if errors.As(err, &nle) { /* try nle.LeaderAddr */ }
//	if errors.Is(err, rsm.ErrMaybeApplied) { /* resend the same Seq, anywhere */ }
//	v, err := r.Read(ctx, []byte("get"))
//
// Package kvraft builds a key-value service on it, with a clerk that
// finds the leader and retries.
package rsm
