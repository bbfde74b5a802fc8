// Package rafttest is a test harness for Raft clusters: what the config.go
// of MIT's 6.5840 labs gives students, on the library's simulated network
// (transport/netsim) and in virtual time (testing/synctest), with Raft's
// safety properties checked all along.
//
// # The cluster
//
// New starts n servers, numbered 0 to n-1 as in MIT's tests, on a network
// seeded with one seed. The test then breaks things and checks what the
// servers agree on:
//
//	Start(i), Crash(i)              restart from storage / power cut (MIT's start1, crash1)
//	Disconnect(i), Connect(i)       cut a server off / join it again
//	Partition(groups...), Heal()    split the cluster / join it
//	CutLink(from, to), HealLink     one direction of one link
//	SetReliable, SetLongReordering, SetLongDelays   the network's mode
//	CheckOneLeader, CheckTerms, CheckNoLeader       who leads
//	One(cmd, servers, retry), NCommitted, Wait      what is committed
//
// A crashed server keeps only its storage: a raft.MemoryStorage, or with
// WithWAL a raft/wal write-ahead log on an in-memory file system, which
// WithWAL(true) also crashes, losing what was not synced. A crashed
// server stays disconnected until Connect, as in MIT's tests.
//
// The network loses nothing by default. Unreliable, it loses one message
// in ten and delays the others up to 27ms, so some overtake others;
// long reordering holds two in three back LongReorderDelay; long delays
// add up to LongDelay to each. A disconnected or partitioned server's
// messages are lost, silently, as on a real network.
//
// # What is checked, all the time
//
// The harness is each server's application: it reads what the server
// applies, and (WithSnapshots) snapshots its state every few commands and
// installs the snapshots the server hands back. On every applied entry
// and snapshot it checks, across all servers and all their restarts:
//
//   - that a server applies indexes in order, none skipped;
//   - State Machine Safety: no two servers apply different commands at
//     one index (nor install snapshots that disagree);
//   - Log Matching, as far as applied entries show it: an index applied
//     from one term everywhere.
//
// And every DefaultCheckEvery of virtual time (WithCheckEvery), and at
// each check the test makes, it asks every server for its state:
//
//   - Election Safety: at most one leader per term;
//   - Leader Completeness: a new leader holds every entry committed in
//     an earlier term (for servers that let the harness read their log,
//     LogReader; the library's do).
//
// The leader checks sample: a leader that comes and goes between two
// looks is not seen.
//
// # When a test fails
//
// Every failure says the seed and what hit the cluster: how many
// messages the network lost, and to what (faults, partitions, crashes),
// how many it duplicated, and the crashes, restarts, disconnections and
// partitions. The same seed replays the same network faults and the same
// random choices of the test. The run's space-time diagram (package
// trace, with package tracesim drawing the network's drops, crashes and
// partitions) is written to a directory named after the test and the
// seed, under $DISTSYS_TRACE_DIR or the system's temporary directory:
// open its trace.html in a browser. Its arrows are named after the raft
// message types.
//
// # Your own Raft
//
// The harness drives the library's raft.Node by default (StartNode), and
// any Raft through Server, an interface shaped like MIT's (Start,
// GetState, Snapshot, Kill, and a channel of ApplyMsg): give New
// WithServer(yourStartFunc). The StartFunc gets the server's ID, its
// peers' addresses, a listener and a dialer on the simulated network,
// its Persister (MIT's shape) and its apply channel. A course can so
// grade its students' Raft with the same tests as the library's.
//
// # Walkthrough
//
//	func TestFailAgree(t *testing.T) {
//		synctest.Test(t, func(t *testing.T) {
//			c := rafttest.New(t, 3, 1)          // 3 servers, seed 1
//			c.One([]byte("a"), 3, false)        // committed on all three
//			leader := c.CheckOneLeader()
//			c.Disconnect((leader + 1) % 3)
//			c.One([]byte("b"), 2, false)        // the other two agree
//			time.Sleep(rafttest.ElectionTimeout) // a virtual second
//			c.Connect((leader + 1) % 3)
//			c.One([]byte("c"), 3, true)         // and the third catches up
//		})
//	}
//
// The library's leaders begin each term with a no-op entry (raft's §8),
// which MIT's Rafts do not have, so the library's first command is at
// index 2, not 1; NodeServer hands each no-op index to the application
// as a command with no data, so that every index is applied in order.
// The MIT tests here check indexes relative to the first command, and
// TestCount3B allows the commit notice the library's leader sends each
// follower at once; the other thresholds are MIT's.
//
// The MIT test list (3A to 3D, with MIT's server counts and thresholds)
// is in this package's tests; go test -soak N runs each with seeds 1 to N.
package rafttest
