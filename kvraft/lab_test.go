package kvraft_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/kvraft"
	lin "github.com/distsys-kit/distsys/linearizability"
	"github.com/distsys-kit/distsys/transport"
)

// MIT 6.5840 lab 4's key-value scenarios, in virtual time. In each, some
// clients append to keys and read them back for a while (a round), while
// the network loses messages (unreliable), the servers' raft traffic is
// cut in random groups (partitions), and at the end of each round every
// server crashes and restarts (crash). Afterwards the whole history must
// be linearizable, and each client's appends must all be in its key, once
// and in order; with a MaxRaftState, every server's log must stay small.
type scenario struct {
	clients      int
	unreliable   bool
	partitions   bool
	crash        bool // crash and restart every server after each round (on a wal)
	oneKey       bool // every client appends to the same key
	maxRaftState int
}

// lossy is the unreliable network: a tenth of the messages lost, and
// the rest delayed by up to 30ms, so they overtake each other.
var lossy = transport.Faults{Drop: 0.1, Delay: 2 * time.Millisecond, Jitter: 30 * time.Millisecond}

// lan is the reliable network: every message takes 2 to 4ms, so that an
// operation takes virtual time and a round holds a bounded number.
var lan = transport.Faults{Delay: 2 * time.Millisecond, Jitter: 2 * time.Millisecond}

const (
	rounds    = 3
	roundTime = time.Second
)

func seeds() []int64 {
	if *soak {
		s := make([]int64, 30)
		for i := range s {
			s[i] = int64(i + 1)
		}
		return s
	}
	return []int64{1}
}

func TestBasic(t *testing.T)      { runScenario(t, scenario{clients: 1}) }
func TestConcurrent(t *testing.T) { runScenario(t, scenario{clients: 5}) }
func TestUnreliable(t *testing.T) { runScenario(t, scenario{clients: 5, unreliable: true}) }
func TestUnreliableOneKey(t *testing.T) {
	runScenario(t, scenario{clients: 5, unreliable: true, oneKey: true})
}
func TestManyPartitionsOneClient(t *testing.T) {
	runScenario(t, scenario{clients: 1, partitions: true})
}
func TestManyPartitionsManyClients(t *testing.T) {
	runScenario(t, scenario{clients: 5, partitions: true})
}
func TestPersistOneClient(t *testing.T)  { runScenario(t, scenario{clients: 1, crash: true}) }
func TestPersistConcurrent(t *testing.T) { runScenario(t, scenario{clients: 5, crash: true}) }
func TestPersistPartitionUnreliable(t *testing.T) {
	runScenario(t, scenario{clients: 5, crash: true, partitions: true, unreliable: true})
}
func TestSnapshotSize(t *testing.T) { runScenario(t, scenario{clients: 1, maxRaftState: 1000}) }
func TestSnapshotRecoverManyClients(t *testing.T) {
	runScenario(t, scenario{clients: 5, crash: true, maxRaftState: 1000})
}
func TestSnapshotUnreliableRecoverConcurrentPartition(t *testing.T) {
	runScenario(t, scenario{clients: 5, crash: true, partitions: true, unreliable: true, maxRaftState: 1000})
}

func runScenario(t *testing.T, sc scenario) {
	for _, seed := range seeds() {
		t.Run(fmt.Sprintf("seed%d", seed), func(t *testing.T) {
			var w *world
			synctest.Test(t, func(t *testing.T) {
				w = newWorld(t, seed, 5, sc.crash, kvraft.Config{MaxRaftState: sc.maxRaftState})
				faults := lan
				if sc.unreliable {
					faults = lossy
				}
				require.NoError(t, w.net.SetDefaultFaults(faults))
				play(t, w, sc)
			})
			t.Logf("%d operations", len(w.rec.History()))
			w.rec.Check(t, seed, 0)
		})
	}
}

// play runs the rounds of a scenario.
func play(t *testing.T, w *world, sc scenario) {
	clerks := make([]*lin.Client, sc.clients)
	appended := make([][]string, sc.clients) // what each client's appends were told succeeded or may have
	for i := range clerks {
		clerks[i] = w.clerk()
	}
	key := func(i int) string {
		if sc.oneKey {
			return "k"
		}
		return fmt.Sprintf("k%d", i)
	}
	for round := range rounds {
		ctx, cancel := context.WithTimeout(context.Background(), roundTime)
		var wg sync.WaitGroup
		for i, ck := range clerks {
			wg.Go(func() {
				for j := 0; ctx.Err() == nil; j++ {
					v := fmt.Sprintf("x %d %d %d y", i, round, j)
					if _, err := ck.Append(ctx, key(i), v); err == nil {
						appended[i] = append(appended[i], v)
					}
					_, _, _ = ck.Get(ctx, key(i))
				}
			})
		}
		if sc.partitions {
			wg.Go(func() {
				for ctx.Err() == nil {
					w.partition()
					time.Sleep(time.Duration(w.rng.IntN(1000)) * time.Millisecond)
				}
			})
		}
		wg.Wait()
		cancel()
		w.net.Heal()
		if sc.crash {
			for id := range w.raftAddrs {
				w.crash(id)
			}
			for id := range w.raftAddrs {
				w.restart(id)
			}
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for i, ck := range clerks {
		v, _, err := ck.Get(ctx, key(i))
		require.NoError(t, err)
		checkAppends(t, i, v, appended[i])
	}
	if sc.maxRaftState > 0 {
		synctest.Wait()
		for id := range w.servers {
			size := w.logBytes(id)
			assert.LessOrEqual(t, size, 2*sc.maxRaftState, "server %d's log", id)
			// A server that never compacted must never have needed to:
			// with partitions and loss, some seeds commit too little.
			if w.servers[id].RSM().Node().Status().FirstIndex == 1 {
				assert.LessOrEqual(t, size, sc.maxRaftState, "server %d's log was never compacted", id)
			}
		}
	}
}

// checkAppends checks that every append client i was told succeeded is
// in value once, in order (MIT's checkClntAppends).
func checkAppends(t *testing.T, client int, value string, appended []string) {
	t.Helper()
	last := -1
	for _, v := range appended {
		require.Equal(t, 1, strings.Count(value, v), "client %d's append %q is in the value %d times", client, v, strings.Count(value, v))
		at := strings.Index(value, v)
		require.Greater(t, at, last, "client %d's append %q is out of order", client, v)
		last = at
	}
}
