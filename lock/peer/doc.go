// Package peer is mutual exclusion without a server: Ricart and
// Agrawala's algorithm (1981), among a fixed group of N peers that talk
// over rpc and order their requests with Lamport clocks
// (trace.LamportClock). It is here for contrast with package lock, and for
// the lesson of what it cannot survive.
//
// # The algorithm
//
// A peer that wants the critical section stamps a request with its Lamport
// clock and sends it to every other peer, then waits until every one of
// them has replied. A peer that receives a request replies at once, unless
// it is in its critical section, or wants it with an earlier request
// (earlier by timestamp, ties broken by peer ID, an order every peer agrees
// on); then it defers its reply until it leaves its critical section.
//
//	p0 ──req(ts 4)──▶ p1    p1 wants it too, with ts 6: p0 is earlier, so
//	p0 ◀──reply───── p1    p1 replies at once
//	p1 ──req(ts 6)──▶ p0    p0 is earlier: it defers its reply...
//	p0 ◀──reply───── p2
//	        p0 enters, leaves, and only then:
//	p0 ──reply─────▶ p1    ...and p1 enters
//
// Two peers cannot both collect every reply: between them, the one with the
// later request needs the other's reply, which the other defers until it
// has left. Entries happen in timestamp order, so nobody starves. Here a
// reply is the return of the request's rpc call, so an entry costs exactly
// N-1 requests and N-1 replies, 2(N-1) messages (Stats counts them),
// against a lock service's two round trips, whatever the number of
// clients.
//
// # What it does not tolerate
//
// Every entry needs every other peer's permission. So one peer that has
// crashed, is partitioned away or simply hangs blocks the whole group: no
// Lock anywhere can succeed until it comes back, and Lock can only wait
// for its context to end. A peer that crashes inside its critical section
// never releases it. Where the lock service has one point of failure (and
// leases to recover from a failed client), this algorithm has N. It also
// assumes a fixed membership and reliable delivery: a lost request or
// reply is a lost permission (over a lossy network, give the peers
// rpc.WithRetry). These are the reasons real systems use a lock service,
// or consensus, rather than this algorithm; it is still the clearest
// demonstration of what logical clocks are for.
//
// # A token ring, for comparison
//
// Ring is the other classic: the members form a ring and pass a single
// token around it; only the member holding the token may enter. Under
// heavy contention an entry costs about one message; with nobody
// interested the token still circulates. It shares the weakness: a crashed
// member loses the token or breaks the ring, and nobody enters again.
//
// # Walkthrough
//
//	p, err := peer.New(peer.Config{
//		ID:    "p0",
//		Peers: map[string]string{"p1": "10.0.0.2:7000", "p2": "10.0.0.3:7000"},
//	}, listener)
//	defer p.Close()
//	if err := p.Lock(ctx); err != nil { ... } // all of p1 and p2 agreed
//	// critical section
//	p.Unlock(ctx)                             // deferred replies go out now
package peer
