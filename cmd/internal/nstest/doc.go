// Package nstest is the test suite that runs the programs of cmd/ across
// Linux network namespaces (package internal/netns): each program in a
// namespace of its own, talking over veth pairs and a bridge through the
// kernel's TCP/IP, while the tests cut links, add loss and delay, and kill
// processes, then check the outcomes:
//
//   - mapreduce: a coordinator and workers in separate namespaces; a
//     worker's link cut or the worker killed mid-job, or loss on every
//     link; the output must equal the sequential run's.
//   - lock service: the server and clients in separate namespaces; a
//     holder cut off, loss on the clients' links, the server killed and
//     restarted; tokens must grow, no client may work under a token older
//     than one already used (a fenced resource would refuse nothing), and
//     the lock must pass on.
//   - raft: a raftnode on each of three namespaces; the leader's link
//     cut: the others elect a leader in a later term and commit without
//     it, the old leader steps down and commits nothing; healed, it
//     follows the new leader and applies what it missed.
//   - replicated lock service: a lockraftserver on each of three
//     namespaces and lockclient -raft clients on others, taking turns at
//     one lock while the leader's link is cut and healed: the turns go
//     on after an election, tokens grow across the failover, no client
//     works under a token older than one already used, and the old
//     leader catches up; a holder keeps its lease through the cut.
//   - replicated key-value service: a kvraftserver on each of three
//     namespaces and kvclient -raft on a fourth, appending before, during
//     and after the leader's cut: every append succeeds, the value shows
//     each applied once and in order, and the old leader catches up; the
//     leader killed and restarted; 10% loss on every link.
//
// The tests need root and iproute2 (and nftables where the kernel has no
// netem), so they are behind a build tag:
//
//	sudo go test -tags netns ./cmd/internal/nstest/ ./internal/netns/
//
// Without root or ip they skip, saying why. With -measure, they also time
// what a student would ask about across a 20 ms network (a lock failover, a
// worker lost mid-job, a raft leader lost) and log the figures:
//
//	sudo go test -tags netns -run Measure -v ./cmd/internal/nstest/ -measure
package nstest
