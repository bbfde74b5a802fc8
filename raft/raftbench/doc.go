// Package raftbench measures a replicated log as its clients see it:
// commands committed per second, and how long each took, from proposal
// until a server applies it (the leader, as a rule: it learns of the
// commit first), for a number of concurrent proposers. It is a
// test helper, for benchmarks:
//
//	func BenchmarkCommit(b *testing.B) {
//		c, err := raftbench.StartTCPCluster(3, nil)
//		if err != nil {
//			b.Fatal(err)
//		}
//		defer c.Close()
//		raftbench.Run(b, c, 64, 100) // 64 proposers, 100-byte commands
//	}
//
// Anything that can commit a command implements System, so the same
// workload runs against this package's Node (StartTCPCluster), against a
// baseline that only pays for the network (StartRPCBaseline: one round
// trip to a majority over the standard library's net/rpc), and against
// other Raft libraries, for comparison.
package raftbench
