package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/distsys-kit/distsys/examples/demo"
	"github.com/distsys-kit/distsys/lock"
	"github.com/distsys-kit/distsys/raft"
	"github.com/distsys-kit/distsys/transport"
	"github.com/distsys-kit/distsys/transport/netsim"
)

// result is what a run did, for the narration and the tests.
type result struct {
	before, after int      // the ledger's total
	transfers     int      // transfers made
	retried       int      // transfers redone because a lease was lost or a token refused
	leasesLost    int      // leases that ended before their Unlock
	leaders       []uint64 // the leader before and after the kill
	tokenAtKill   uint64   // the newest token granted before the kill
	firstAfter    uint64   // the first token granted after it
	outage        time.Duration
}

// The ledger is one value in a lock.FencedStore: every balance, comma
// separated, so that a transfer reads and writes it whole, and a refused
// write leaves nothing half done.
const ledgerKey = "ledger"

// callTimeout is how long a teller waits for one lock request's reply.
const callTimeout = 300 * time.Millisecond

func show(ctx context.Context, c config, tr *demo.Tracer, out io.Writer) (result, error) {
	var res result
	net := netsim.NewNetwork(c.seed, tr.NetsimOptions()...)
	defer net.Close()
	if err := net.SetDefaultFaults(transport.Faults{Delay: time.Millisecond, Jitter: time.Millisecond}); err != nil {
		return res, err
	}
	cl, err := startCluster(net, c.seed, tr)
	if err != nil {
		return res, err
	}
	defer cl.close()

	var store lock.FencedStore
	balances := make([]int, c.accounts)
	for i := range balances {
		balances[i] = 100
	}
	_ = store.Put(1, ledgerKey, encode(balances)) // token 1: no holder has written yet
	res.before = sum(balances)

	leader, err := cl.leader(ctx, 0)
	if err != nil {
		return res, err
	}
	res.leaders = append(res.leaders, leader)
	fmt.Fprintf(out, "Three lock replicas; replica %d leads. %d tellers make %d transfers between %d accounts, each under the lock.\n",
		leader, c.tellers, c.transfers, c.accounts)

	var done, newest atomic.Uint64
	killAt := uint64(c.transfers / 2)
	killed := make(chan time.Time, 1) // size 1: the kill's time, sent once, taken by the first grant after it
	var wg sync.WaitGroup
	var mu sync.Mutex // protects res.retried, res.leasesLost, res.firstAfter, firstErr
	var firstErr error
	for i := range c.tellers {
		name := fmt.Sprintf("teller%d", i+1)
		// A call to a replica that has died goes unanswered until its
		// timeout; then the caller tries the next replica.
		client := lock.NewClient(cl.caller(name, tr), lock.WithName(name), lock.WithCallTimeout(callTimeout))
		defer client.Close()
		r := rand.New(rand.NewPCG(uint64(c.seed), uint64(i)))
		wg.Go(func() {
			m := client.Mutex("bank")
			for done.Load() < uint64(c.transfers) {
				l, err := m.Lock(ctx)
				if err != nil {
					mu.Lock()
					firstErr = cmpErr(firstErr, fmt.Errorf("%s: lock: %w", name, err))
					mu.Unlock()
					return
				}
				select {
				case at := <-killed: // the first grant after the kill
					mu.Lock()
					res.firstAfter, res.outage = l.Token(), time.Since(at)
					mu.Unlock()
				default:
				}
				moved := done.Load() < uint64(c.transfers) && transfer(&store, l.Token(), r, c.accounts)
				if moved {
					newest.Store(l.Token())
					if done.Add(1) == killAt {
						leader := cl.kill()
						fmt.Fprintf(out, "After %d transfers (newest token %d), the leader, replica %d, is killed.\n", killAt, l.Token(), leader)
						res.tokenAtKill = l.Token()
						killed <- time.Now()
					}
				}
				err = m.Unlock(ctx)
				mu.Lock()
				if !moved && done.Load() < uint64(c.transfers) {
					res.retried++
				}
				if errors.Is(err, lock.ErrLeaseExpired) || errors.Is(err, lock.ErrSessionExpired) {
					res.leasesLost++
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if firstErr != nil {
		return res, firstErr
	}
	if leader, err = cl.leader(ctx, leader); err != nil {
		return res, err
	}
	res.leaders = append(res.leaders, leader)
	res.transfers = int(done.Load())
	v, _ := store.Get(ledgerKey)
	res.after = sum(decode(v))
	fmt.Fprintf(out, "Replica %d was elected; the first grant after the kill came %v later (a call timeout of %v to notice, and an election), with token %d.\n",
		leader, res.outage.Round(time.Millisecond), callTimeout, res.firstAfter)
	fmt.Fprintf(out, "%d transfers made, %d redone, %d leases lost; the newest token is %d.\n",
		res.transfers, res.retried, res.leasesLost, newest.Load())
	return res, nil
}

// transfer moves a random amount between two random accounts, reading
// and writing the ledger with token. It reports whether it did: the store
// refuses a token older than one it has seen.
func transfer(store *lock.FencedStore, token uint64, r *rand.Rand, accounts int) bool {
	v, _, err := store.FencedGet(token, ledgerKey)
	if err != nil {
		return false
	}
	b := decode(v)
	from, to := r.IntN(accounts), r.IntN(accounts-1)
	if to >= from {
		to++
	}
	amount := r.IntN(b[from] + 1)
	b[from] -= amount
	b[to] += amount
	return store.Put(token, ledgerKey, encode(b)) == nil
}

func encode(b []int) string {
	s := make([]string, len(b))
	for i, v := range b {
		s[i] = strconv.Itoa(v)
	}
	return strings.Join(s, ",")
}

func decode(v string) []int {
	var b []int
	for _, f := range strings.Split(v, ",") {
		n, _ := strconv.Atoi(f) // written by encode
		b = append(b, n)
	}
	return b
}

func sum(b []int) int {
	t := 0
	for _, v := range b {
		t += v
	}
	return t
}

func cmpErr(first, err error) error {
	if first != nil {
		return first
	}
	return err
}

// cluster is three lock replicas on a simulated network: "lock1" serves
// clients, "raft1" speaks raft, for each.
type cluster struct {
	net     *netsim.Network
	servers map[uint64]*lock.RaftServer // the running replicas
	storage map[uint64]*raft.MemoryStorage
	raft    map[uint64]string
	lock    map[uint64]string
	callers []*lock.ClusterCaller
	killed  uint64
	seed    int64
	tr      *demo.Tracer

	// The live mode's pace and leases; zero means raft's and lock's
	// defaults.
	tick                        time.Duration
	electionTick, heartbeatTick int
	ttl, lockDelay              time.Duration
}

func newCluster(net *netsim.Network, seed int64, tr *demo.Tracer) *cluster {
	cl := &cluster{net: net, servers: map[uint64]*lock.RaftServer{}, storage: map[uint64]*raft.MemoryStorage{},
		raft: map[uint64]string{}, lock: map[uint64]string{}, seed: seed, tr: tr}
	for id := uint64(1); id <= 3; id++ {
		cl.raft[id], cl.lock[id] = fmt.Sprintf("raft%d", id), fmt.Sprintf("lock%d", id)
		cl.storage[id] = raft.NewMemoryStorage()
	}
	return cl
}

func startCluster(net *netsim.Network, seed int64, tr *demo.Tracer) (*cluster, error) {
	cl := newCluster(net, seed, tr)
	for id := uint64(1); id <= 3; id++ {
		if err := cl.start(id); err != nil {
			cl.close()
			return nil, err
		}
	}
	return cl, nil
}

// start starts replica id from its storage (empty the first time), as a
// machine reboots from its disk.
func (cl *cluster) start(id uint64) error {
	rl, err := cl.net.Listen(cl.raft[id])
	if err != nil {
		return err
	}
	ll, err := cl.net.Listen(cl.lock[id])
	if err != nil {
		_ = rl.Close()
		return err
	}
	s, err := lock.NewRaftServer(lock.RaftConfig{
		Raft: raft.NodeConfig{
			Config: raft.Config{ID: id, Storage: cl.storage[id], Seed: cl.seed, PreVote: true, CheckQuorum: true,
				ElectionTick: cl.electionTick, HeartbeatTick: cl.heartbeatTick},
			Addrs:        cl.raft,
			Listener:     rl,
			Dialer:       cl.net.Dialer(cl.raft[id]),
			TickInterval: cl.tick,
		},
		Listener: ll, ClientAddrs: cl.lock, RPCOptions: cl.tr.ServerOptions(cl.lock[id]),
		TTL: cl.ttl, LockDelay: cl.lockDelay,
	})
	if err != nil {
		return err // NewRaftServer closed both listeners
	}
	cl.servers[id] = s
	return nil
}

// caller returns a ClusterCaller for a client called name.
func (cl *cluster) caller(name string, tr *demo.Tracer) *lock.ClusterCaller {
	c := lock.NewClusterCaller(cl.net.Dialer(name), []string{"lock1", "lock2", "lock3"}, tr.ClientOptions(name, "lock")...)
	cl.callers = append(cl.callers, c)
	return c
}

// kill kills the leader: its process and its connections die.
func (cl *cluster) kill() uint64 {
	for id, s := range cl.servers {
		if s.RSM().Node().Status().State == raft.Leader {
			cl.net.Crash(cl.raft[id])
			cl.net.Crash(cl.lock[id])
			cl.killed = id
			return id
		}
	}
	return 0
}

// leader waits for a replica other than the killed one and not not to
// lead.
func (cl *cluster) leader(ctx context.Context, not uint64) (uint64, error) {
	for {
		for id, s := range cl.servers {
			if id != cl.killed && id != not && s.RSM().Node().Status().State == raft.Leader {
				return id, nil
			}
		}
		select {
		case <-time.After(20 * time.Millisecond):
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
}

func (cl *cluster) close() {
	for _, c := range cl.callers {
		_ = c.Close()
	}
	for _, s := range cl.servers {
		_ = s.Close()
	}
}
