// Package lock is a lock service: a server that many clients ask for named
// locks, with leases that expire, fencing tokens that the protected
// resource checks, first-come first-served waiting, and requests that are
// safe to retry over a lossy network.
//
// # "I hold the lock" is a belief, not a fact
//
// On one machine, a mutex is a fact: while a goroutine holds it, no other
// does. Across a network it cannot be. A client that holds a lock may
// crash, and then the lock must be taken back, or nobody ever gets it again;
// so every grant is a lease, valid for a time (the TTL) unless renewed. But
// the server cannot tell a crashed client from a slow one: a client can be
// paused (a long garbage collection, a swapped-out process, a laptop lid),
// or cut off by a partition, while it holds the lock. Its lease runs out,
// the server grants the lock to someone else, and then the first client
// wakes up, still believing it holds the lock, and writes. Checking the
// lease just before the write does not help: the pause can fall between the
// check and the write. Clocks make it worse: a client whose clock runs slow
// believes in its lease for longer than the server does.
//
// So a lock alone does not protect a resource. Leases make the lock live
// (a dead holder does not block everyone for ever), and fencing tokens make
// it safe:
//
//	client 1   Lock ── token 33 ──── (paused ................) ── write(33) ✗ refused
//	client 2                   Lock (waits) ── token 34 ── write(34) ✓
//	resource                                              newest=34; 33 < 34
//
// Every grant carries a fencing token, a number that grows with every grant
// the server makes, of any lock, across restarts. The holder sends it with
// every write, and the resource remembers the newest token it has seen and
// refuses older ones (FencedStore does exactly this). A paused ex-holder's
// token is older than its successor's, so its late writes are refused
// instead of silently undoing the new holder's work. This is the answer to
// Kleppmann's critique of Redlock, and what Chubby calls a sequencer.
//
// # What the service guarantees
//
//   - Tokens: every token the server issues is greater than every token it
//     issued before, in this run or any earlier run on the same directory.
//     No token is ever issued twice.
//   - Leases: while the server considers a client's session live, it gives
//     none of that client's locks to anyone else. A session lives for the
//     TTL after the server received its last renewal. The client's own
//     estimate (Lease.Expiry) counts from when it sent that renewal, so it
//     ends earlier, as long as the client's clock does not run slower than
//     the server's.
//   - Lock-delay: when a holder's session expires (it stopped renewing),
//     its locks stay ungranted for a further LockDelay, so that a holder that
//     was merely slow has time to notice and stop. A lock released by Unlock
//     or Client.Close passes on at once.
//   - Fairness: waiters are granted in the order their requests reached the
//     server. A release wakes only the next waiter.
//   - Retries: every request names its session and its acquisition, so a
//     retried or duplicated Lock that was already granted returns the same
//     lease, and a late or repeated Unlock never releases anyone else's
//     lock, nor a later acquisition by the same client.
//   - A waiter whose session ends (it could not renew, or the server
//     restarted) stops waiting and gets ErrSessionExpired or
//     ErrLeaseExpired; it does not go on to believe it was granted.
//
// # Crashes and restarts
//
// The server keeps one small file on disk, replaced whole by
// write-then-rename (temporary file, fsync, rename, fsync of the
// directory), so a crash leaves the old file or the new one, never a torn
// mixture. It holds the token high-water mark, the number of the server's
// run, and how long a lease (plus lock-delay) of that run can last. It does
// not hold the locks, the waiters or the sessions: writing them would cost
// a disk write per grant. Instead:
//
//   - Tokens are reserved in blocks (Config.TokenBlock): before issuing a
//     token the server has made durable a limit above it, and a restarted
//     server starts at that limit. So a restart skips what was left of the
//     block, and costs one write per block, not per grant.
//   - A restarted server grants nothing until every lease the old run could
//     have issued has run out: for the old run's TTL plus lock-delay, counted
//     from the restart (which is after the crash, so this is on the safe
//     side). It accepts new sessions and queues waiters meanwhile, as
//     Chubby's new master does during its grace period. Clients of the old
//     run find their sessions gone at their next renewal: their leases end
//     with ErrSessionExpired, so no live lease is broken silently, and no
//     one else holds the lock before it could have expired.
//   - A state file that exists but is damaged (truncated, wrong format, bad
//     checksum) makes NewServer fail with ErrCorruptState: a server that
//     guessed could reuse tokens.
//   - A server locks its directory (flock(2)) from NewServer to Close, so
//     a second server started on it by mistake fails with ErrDirLocked
//     instead of issuing the same tokens. The lock is advisory, and it
//     exists only where the platform has flock: elsewhere, one server per
//     directory is the operator's rule to keep.
//
// These guarantees assume that fsync does what it says, that nobody edits
// or restores the directory, and that one server at a time uses it. The
// clients' estimates of their leases also assume that their clocks do not
// run slower than the server's; a client whose clock does is protected by
// the fencing token alone.
//
// # Using it
//
//	srv, err := lock.NewServer(lock.Config{Dir: "/var/lib/locks"})
//	l, _ := transport.ListenTCP(":7070")
//	go srv.Serve(l)
//
//	rc, _ := rpc.Dial(ctx, "locks.example:7070") // reconnects after a restart
//	c := lock.NewClient(rc, lock.WithName("worker-3"))
//	defer c.Close()
//	m := c.Mutex("report.pdf")
//	lease, err := m.Lock(ctx)        // blocks; FIFO; returns by ctx's deadline
//	...
//	err = store.Put(lease.Token(), "report.pdf", data) // the resource checks the token
//	select {
//	case <-lease.Done():              // lost: expired, revoked, or renewals failed
//		log.Print(lease.Err())
//	default:
//	}
//	err = m.Unlock(ctx)
//
// The client renews its session in the background three times per TTL;
// one renewal covers every lock it holds. Close releases everything.
//
// # Replicated: no single server to lose
//
// A Server is one machine: while it is down, nobody gets a lock, and a
// restarted one waits out every old lease before granting. RaftServer
// runs the same lock table on a raft cluster (package rsm): every request
// is a command in the replicated log, every replica applies the commands
// in the same order, and a Client reaches the cluster through a
// ClusterCaller, which finds the leader and retries elsewhere when a
// replica cannot serve:
//
//	caller := lock.NewClusterCaller(dialer, []string{"lock1:7070", "lock2:7070", "lock3:7070"})
//	c := lock.NewClient(caller)         // the same Client, Mutex, Lease and tokens
//
// What changes, and why it is safe:
//
//   - Time enters the replicated table only in commands: the leader stamps
//     each command it proposes with its clock, and expiries happen through
//     tick commands the leader proposes when a lease or lock-delay falls
//     due. The table is deterministic, so every replica reaches the same
//     decisions from the same log. Only the leader in office moves the
//     table's clock: a deposed leader's late command changes nothing about
//     time.
//   - A new leader first takes office with a command of its own. It moves
//     the table's timeline onto its own clock (every deadline keeps what it
//     had left, whatever the two clocks say) and gives every session a full
//     TTL from then (Chubby's rule), since clients could not renew during
//     the election. So a leader's crash costs the clients an election, not
//     their leases, and there is no grace period: the new leader knows every
//     lease, because the leases are in the log.
//   - The token counter is part of the replicated state: a token is issued
//     by applying a committed entry, and a replica answers a client only
//     after applying it. A new leader continues from every committed entry,
//     so tokens only grow across failover and none is issued twice; nothing
//     needs saving beyond the raft log.
//   - A waiting Lock waits on the leader until the command that frees the
//     lock (an Unlock, a Close, an expiry) is applied there; the grant is
//     made by that same command, so a contended lock passes on with one log
//     entry.
//   - Every request of the protocol may be applied twice without harm, so a
//     replica that loses its office while a request waits simply tells the
//     client to send it again, elsewhere.
//
// Package lock/locktest is one conformance suite that Server and
// RaftServer both pass.
//
// Package lock/peer does without a server: Ricart–Agrawala mutual exclusion
// among peers, for contrast, and for the lesson of what it cannot survive.
package lock
