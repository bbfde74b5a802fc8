package locktest

import (
	"context"
	"math/rand/v2"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/distsys-kit/distsys/lock"
)

// flakyCaller loses requests, loses replies and sends late duplicates of
// requests, at random from a seed: the client sees timeouts and retries,
// and the service sees every kind of repeated request.
//
// It loses at most two renewals of a session in a row. A lease is meant
// to expire when its renewals keep failing (the cut-off tests check
// that); here, with more than a quarter of calls failing, seven failed
// renewals in a row would let it expire now and then, depending on how
// the clients' calls interleave, and the test would fail for the lease
// doing its job.
type flakyCaller struct {
	next lock.Caller
	p    float64         // probability of each fault
	wg   *sync.WaitGroup // duplicates in flight

	mu                  sync.Mutex // protects the fields below
	r                   *rand.Rand
	lost, replies, dups int
	renewals            int // renewal calls
	renewalsLost        int // in a row
}

// keepAlive is the lock service's renewal method, as lock/wire.go names it.
const keepAlive = "Lock.KeepAlive"

func (c *flakyCaller) Call(ctx context.Context, method string, args, reply any) error {
	c.mu.Lock()
	dropRequest, dropReply, dup := c.r.Float64() < c.p, c.r.Float64() < c.p, c.r.Float64() < c.p
	if method == keepAlive {
		c.renewals++
		if c.renewalsLost == 2 {
			dropRequest, dropReply = false, false
		}
		if dropRequest || dropReply {
			c.renewalsLost++
		} else {
			c.renewalsLost = 0
		}
	}
	delay := time.Duration(c.r.Int64N(int64(2 * time.Second)))
	c.lost += b2i(dropRequest)
	c.replies += b2i(dropReply && !dropRequest)
	c.dups += b2i(dup)
	c.mu.Unlock()

	if dup {
		c.wg.Go(func() { // exits after one call, bounded by its timeout
			time.Sleep(delay)
			dctx, cancel := context.WithTimeout(context.Background(), time.Second)
			defer cancel()
			_ = c.next.Call(dctx, method, args, reflect.New(reflect.TypeOf(reply).Elem()).Interface())
		})
	}
	if dropRequest {
		<-ctx.Done()
		return ctx.Err()
	}
	err := c.next.Call(ctx, method, args, reply)
	if dropReply {
		<-ctx.Done()
		return ctx.Err()
	}
	return err
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func testRetriedAndDuplicatedRequests(t *testing.T, e *env) {
	ctx := t.Context()
	var dups sync.WaitGroup
	t.Cleanup(dups.Wait) // after the clients' Close, whose requests may be duplicated too
	var store lock.FencedStore

	const clients, rounds = 4, 25
	var inside atomic.Int32 // holders inside the critical section
	var wg sync.WaitGroup
	callers := make([]*flakyCaller, clients)
	tokens := make(chan uint64, clients*rounds)
	for i := range clients {
		callers[i] = &flakyCaller{next: e.svc.Caller(t), p: 0.15, wg: &dups, r: rand.New(rand.NewPCG(uint64(i), 1))}
		c := lock.NewClient(callers[i], lock.WithCallTimeout(300*time.Millisecond))
		t.Cleanup(func() { _ = c.Close() })
		wg.Go(func() {
			m := c.Mutex("x")
			for j := range rounds {
				l, err := m.Lock(ctx)
				if err != nil {
					t.Errorf("client %d round %d: Lock: %v", i, j, err)
					return
				}
				if n := inside.Add(1); n != 1 {
					t.Errorf("%d holders at once", n)
				}
				tokens <- l.Token()
				if err := store.Put(l.Token(), "k", "v"); err != nil {
					t.Errorf("holder refused: %v", err)
				}
				time.Sleep(50 * time.Millisecond)
				inside.Add(-1)
				if err := m.Unlock(ctx); err != nil {
					t.Errorf("client %d round %d: Unlock: %v", i, j, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(tokens)
	seen := map[uint64]bool{}
	for tok := range tokens {
		assert.False(t, seen[tok], "token %d issued twice", tok)
		seen[tok] = true
	}
	assert.Len(t, seen, clients*rounds)
	var lost, replies, dupCount, renewals int
	for _, c := range callers {
		c.mu.Lock()
		lost, replies, dupCount = lost+c.lost, replies+c.replies, dupCount+c.dups
		renewals += c.renewals
		c.mu.Unlock()
	}
	t.Logf("faults: %d requests lost, %d replies lost, %d duplicates; %d renewals", lost, replies, dupCount, renewals)
	assert.Positive(t, renewals, "no call was a renewal: is keepAlive the method's name?")
	assert.Positive(t, lost)
	assert.Positive(t, replies)
	assert.Positive(t, dupCount)
}
