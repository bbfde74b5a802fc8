package lock_test

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	lin "github.com/distsys-kit/distsys/linearizability"
	"github.com/distsys-kit/distsys/lock"
	"github.com/distsys-kit/distsys/rpc"
	"github.com/distsys-kit/distsys/transport"
	"github.com/distsys-kit/distsys/transport/netsim"
)

var (
	soak     = flag.Bool("soak", false, "run the history check for longer, over many seeds")
	seedFlag = flag.Int64("seed", 0, "replay the history check with this seed")
)

// The history check runs many clients against one server over a simulated
// network, while a chaos schedule drops, delays, duplicates and reorders
// messages, partitions clients away, crashes and restarts the server from
// its directory, and clients pause holding the lock (a garbage collection:
// no renewals, then a write without looking) on clocks that run fast or
// slow. Each client writes to a FencedStore with its token while it holds
// the lock. Then the faults heal, and every client must finish. Checked:
//
//  1. the store never accepts a token older than one it accepted before;
//  2. no token is granted twice, across restarts;
//  3. every Lock is eventually granted once the faults heal;
//  4. a holder whose clock does not run slow, and whose lease is live
//     when it writes, is never refused: with sane clocks, leases alone
//     keep holders apart, across server restarts too.
func TestHistoryUnderChaos(t *testing.T) {
	seeds := []int64{1}
	clients, perClient := 10, 1000 // 10,000 acquisitions
	switch {
	case *seedFlag != 0:
		seeds = []int64{*seedFlag}
	case *soak:
		seeds = []int64{1, 2, 3, 4, 5, 6, 7, 8}
		clients, perClient = 20, 2500
	}
	for _, seed := range seeds {
		t.Run(fmt.Sprint("seed=", seed), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) { runHistory(t, seed, clients, perClient) })
		})
	}
}

const (
	chaosTTL         = 2 * time.Second
	chaosLockDelay   = 500 * time.Millisecond
	chaosCallTimeout = 200 * time.Millisecond
	maxWaitAfterHeal = 3 * time.Minute
)

// history records what the clients saw, in the order it happened.
type history struct {
	mu       sync.Mutex // protects the fields below; held across store.Put, so accepted is in store order
	store    lock.FencedStore
	grants   map[uint64]string    // token → the client it was granted to
	count    int                  // grants
	last     map[string]time.Time // when each client was last granted the lock
	finished map[string]bool      // clients done with their work
	dupes    []string
	accepted []uint64 // tokens of accepted writes, in order
	refused  int
	broken   []string // writes refused although the writer's lease was live
	expired  int      // Locks that ended with the client's session
}

func (h *history) grant(client string, token uint64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if prev, ok := h.grants[token]; ok {
		h.dupes = append(h.dupes, fmt.Sprintf("token %d granted to %s and %s", token, prev, client))
	}
	h.grants[token] = client
	h.count++
	h.last[client] = time.Now()
}

// starved returns the unfinished client that has waited longest for a
// grant, counting from since at the earliest, and how long.
func (h *history) starved(since time.Time) (who string, waited time.Duration) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for c, last := range h.last {
		if d := time.Since(latest(last, since)); !h.finished[c] && d > waited {
			who, waited = c, d
		}
	}
	return who, waited
}

func latest(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// write writes to the store. live says that the writer's lease is live by
// a clock that does not run slow: such a write must be accepted.
// It reports whether the store accepted the write.
func (h *history) write(client string, token uint64, live bool) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if err := h.store.Put(token, "owner", client); err != nil {
		h.refused++
		if live {
			h.broken = append(h.broken, fmt.Sprintf("%s's write with token %d: %v", client, token, err))
		}
		return false
	}
	h.accepted = append(h.accepted, token)
	return true
}

func runHistory(t *testing.T, seed int64, clients, perClient int) {
	n := netsim.NewNetwork(seed)
	defer n.Close()
	n.LogSeedOnFailure(t)
	cfg := lock.Config{Dir: t.TempDir(), TTL: chaosTTL, LockDelay: chaosLockDelay}
	srv := startSimServer(t, n, cfg)

	h := &history{grants: make(map[uint64]string), last: make(map[string]time.Time), finished: make(map[string]bool)}
	ctx, stopClients := context.WithCancel(t.Context())
	defer stopClients()
	var wg sync.WaitGroup
	finished := make(chan struct{})
	names := make([]string, clients)
	for i := range clients {
		names[i] = fmt.Sprint("c", i)
		wg.Add(1)
		go func() {
			defer wg.Done()
			rc := dialServer(ctx, n, names[i])
			defer rc.Close()
			runClient(ctx, t, rc, h, nil, names[i], rand.New(rand.NewPCG(uint64(seed), uint64(i))), perClient, 100)
		}()
	}
	go func() {
		wg.Wait()
		close(finished)
	}()

	// Chaos until most of the work is done, then heal and let it finish.
	chaos := rand.New(rand.NewPCG(uint64(seed), 1<<32))
	stats := chaosUntil(t, n, &srv, cfg, slices.Clone(names), chaos, finished, func() bool {
		h.mu.Lock()
		defer h.mu.Unlock()
		return h.count >= clients*perClient*3/4
	})
	// Once healed, every client must keep being granted the lock: FIFO
	// bounds a wait by the holds of those ahead (a pause, a long hold).
	healed := time.Now()
	check := time.NewTicker(10 * time.Second)
	defer check.Stop()
wait:
	for {
		select {
		case <-finished:
			break wait
		case <-check.C:
			if who, waited := h.starved(healed); waited > maxWaitAfterHeal {
				t.Errorf("(3) %s has waited %v for the lock since the faults healed; the server's view: %+v",
					who, waited, srv.srv.Locks())
				stopClients()
				<-finished
				break wait
			}
		}
	}
	srv.stop()

	h.mu.Lock()
	defer h.mu.Unlock()
	if len(h.dupes) > 0 {
		t.Errorf("(2) %d tokens granted twice; the first: %v", len(h.dupes), h.dupes[:min(len(h.dupes), 5)])
	}
	for i := 1; i < len(h.accepted); i++ {
		if h.accepted[i] < h.accepted[i-1] {
			t.Errorf("(1) the store accepted token %d after token %d", h.accepted[i], h.accepted[i-1])
			break
		}
	}
	assert.Equal(t, clients*perClient, h.count, "(3) every Lock was granted")
	if len(h.broken) > 0 {
		t.Errorf("(4) %d writes refused under a live lease; the first: %v", len(h.broken), h.broken[:min(len(h.broken), 5)])
	}
	t.Logf("seed %d: %d grants, %d writes accepted, %d refused (stale token), %d Locks lost with their session; "+
		"%s; finished %v after healing; server %+v",
		seed, h.count, len(h.accepted), h.refused, h.expired, stats, time.Since(healed), n.NodeStats("server"))
	// The faults must really have hit, or the test proves nothing.
	assert.Positive(t, h.refused, "a paused holder was stopped by its token")
	assert.Positive(t, stats.crashes)
	assert.Positive(t, stats.partitions)
	sum := n.NodeStats("server")
	assert.Positive(t, sum.Out.Dropped+sum.In.Dropped, "messages were lost")
	assert.Positive(t, sum.Out.Duplicated+sum.In.Duplicated, "messages were duplicated")
}

// simServer is a lock server on the netsim node "server".
type simServer struct {
	srv  *lock.Server
	done chan struct{}
}

func startSimServer(t *testing.T, n *netsim.Network, cfg lock.Config) *simServer {
	t.Helper()
	srv, err := lock.NewServer(cfg)
	require.NoError(t, err)
	l, err := n.Listen("server")
	require.NoError(t, err)
	s := &simServer{srv: srv, done: make(chan struct{})}
	go func() { // exits when srv is closed
		defer close(s.done)
		_ = srv.Serve(l)
	}()
	return s
}

func (s *simServer) stop() {
	_ = s.srv.Close()
	<-s.done
}

// pausable is a Caller that can be frozen, as a whole process is frozen by
// a long garbage collection: while paused, its requests go nowhere.
type pausable struct {
	next   lock.Caller
	mu     sync.Mutex
	paused chan struct{} // closed when the pause ends; nil if not paused
}

func (p *pausable) Call(ctx context.Context, method string, args, reply any) error {
	p.mu.Lock()
	paused := p.paused
	p.mu.Unlock()
	if paused != nil {
		<-ctx.Done()
		return ctx.Err()
	}
	return p.next.Call(ctx, method, args, reply)
}

func (p *pausable) pause(d time.Duration) {
	p.mu.Lock()
	p.paused = make(chan struct{})
	p.mu.Unlock()
	time.Sleep(d)
	p.mu.Lock()
	close(p.paused)
	p.paused = nil
	p.mu.Unlock()
}

// dialServer connects name to the lock server, waiting for it while it is
// down, as a client would.
func dialServer(ctx context.Context, n *netsim.Network, name string) *rpc.Client {
	for {
		rc, err := rpc.Dial(ctx, "server", rpc.WithDialer(n.Dialer(name)))
		if err == nil {
			return rc
		}
		time.Sleep(chaosCallTimeout)
	}
}

// runClient takes the lock perClient times through caller, writing to the
// store each time; once in pauseOdds grants it pauses for longer than a
// lease while holding the lock, then writes without looking. If rec is
// not nil, it records its grants and writes for the linearizability
// check.
func runClient(ctx context.Context, t *testing.T, caller lock.Caller, h *history, rec *lin.LockRecorder,
	name string, r *rand.Rand, perClient, pauseOdds int) {
	p := &pausable{next: caller}
	rate := 0.4 + 1.6*r.Float64() // a clock running at 0.4 to 2 times real speed
	if r.IntN(2) == 0 {
		rate = 1 + r.Float64() // half the clocks run no slower than real time
	}
	offset := time.Duration(r.Int64N(int64(2*time.Hour))) - time.Hour
	c := lock.NewClient(p, lock.WithName(name), lock.WithCallTimeout(chaosCallTimeout),
		lock.WithClock(newSkewedClock(offset, rate)))
	defer c.Close()
	m := c.Mutex("x")
	defer func() {
		h.mu.Lock()
		h.finished[name] = true
		h.mu.Unlock()
	}()
	h.mu.Lock()
	h.last[name] = time.Now()
	h.mu.Unlock()
	for done := 0; done < perClient; {
		var call int64
		if rec != nil {
			call = rec.Now()
		}
		l, err := m.Lock(ctx)
		switch {
		case errors.Is(err, lock.ErrSessionExpired), errors.Is(err, lock.ErrLeaseExpired):
			h.mu.Lock()
			h.expired++
			h.mu.Unlock()
			continue // the waiter's session died; try again on a new one
		case err != nil:
			if ctx.Err() == nil {
				t.Errorf("%s: Lock: %v", name, err)
			}
			return
		}
		if rec != nil {
			rec.Grant(name, call, l.Token(), rec.Now())
		}
		h.grant(name, l.Token())
		done++
		writes, hold := 1, time.Duration(r.Int64N(int64(2*time.Millisecond)))
		switch r.IntN(pauseOdds) {
		case 0: // a long pause while holding the lock, then a write without looking
			p.pause(chaosTTL + chaosLockDelay + time.Duration(r.Int64N(int64(chaosTTL))))
			hold = 0
		case 1: // a long hold, on renewed leases, with many writes
			writes, hold = 10, time.Duration(r.Int64N(int64(chaosTTL/5)))
		}
		for range writes {
			time.Sleep(hold)
			live := rate >= 1 && l.Err() == nil
			if rec == nil {
				h.write(name, l.Token(), live) // the store decides
				continue
			}
			call := rec.Now()
			accepted := h.write(name, l.Token(), live)
			rec.Write(name, l.Token(), call, accepted, rec.Now())
		}
		if err := m.Unlock(ctx); err != nil && !isLeaseLoss(err) {
			t.Errorf("%s: Unlock: %v", name, err)
			return
		}
	}
}

func isLeaseLoss(err error) bool {
	return errors.Is(err, lock.ErrSessionExpired) || errors.Is(err, lock.ErrLeaseExpired)
}

type chaosStats struct{ crashes, partitions, lossy int }

func (s chaosStats) String() string {
	return fmt.Sprintf("chaos: %d server crashes, %d partitions, %d lossy spells", s.crashes, s.partitions, s.lossy)
}

// chaosUntil runs a random schedule of faults, one at a time with healthy
// spells between them, until enough() holds; then it heals everything.
func chaosUntil(t *testing.T, n *netsim.Network, srv **simServer, cfg lock.Config, names []string,
	r *rand.Rand, finished <-chan struct{}, enough func() bool) chaosStats {
	var stats chaosStats
	lossy := transport.Faults{Drop: 0.05, Duplicate: 0.05, Reorder: 0.05,
		Delay: time.Millisecond, Jitter: 3 * time.Millisecond}
	calm := transport.Faults{Delay: 500 * time.Microsecond, Jitter: time.Millisecond}
	require.NoError(t, n.SetDefaultFaults(calm))
	for !enough() && !closed(finished) {
		spell := time.Duration(1+r.IntN(4)) * chaosTTL
		switch r.IntN(3) {
		case 0:
			stats.lossy++
			require.NoError(t, n.SetDefaultFaults(lossy))
			time.Sleep(spell)
			require.NoError(t, n.SetDefaultFaults(calm))
		case 1:
			stats.partitions++
			r.Shuffle(len(names), func(i, j int) { names[i], names[j] = names[j], names[i] })
			k := 1 + r.IntN(len(names)/2)
			cut, rest := names[:k], append([]string{"server"}, names[k:]...)
			n.Partition(cut, rest)
			time.Sleep(spell)
			if r.IntN(2) == 0 {
				// A quick restart while holders are cut off: they cannot
				// learn that their sessions are gone, so only the
				// restarted server's grace period keeps them safe.
				stats.crashes++
				restart(t, n, srv, cfg, time.Duration(r.Int64N(int64(chaosTTL/4))))
				time.Sleep(spell)
			}
			n.Heal()
		case 2:
			stats.crashes++
			restart(t, n, srv, cfg, time.Duration(r.Int64N(int64(chaosTTL))))
		}
		time.Sleep(time.Duration(1+r.IntN(4)) * chaosTTL)
	}
	require.NoError(t, n.SetDefaultFaults(calm))
	n.Heal()
	return stats
}

func closed(ch <-chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// restart crashes the server and restarts it on its directory after down.
func restart(t *testing.T, n *netsim.Network, srv **simServer, cfg lock.Config, down time.Duration) {
	(*srv).stop()
	n.Crash("server")
	time.Sleep(down)
	n.Restart("server")
	*srv = startSimServer(t, n, cfg)
}
