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
type flakyCaller struct {
	next lock.Caller
	p    float64         // probability of each fault
	wg   *sync.WaitGroup // duplicates in flight

	mu                  sync.Mutex // protects r and the counts
	r                   *rand.Rand
	lost, replies, dups int
}

func (c *flakyCaller) Call(ctx context.Context, method string, args, reply any) error {
	c.mu.Lock()
	dropRequest, dropReply, dup := c.r.Float64() < c.p, c.r.Float64() < c.p, c.r.Float64() < c.p
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
	var lost, replies, dupCount int
	for _, c := range callers {
		c.mu.Lock()
		lost, replies, dupCount = lost+c.lost, replies+c.replies, dupCount+c.dups
		c.mu.Unlock()
	}
	t.Logf("faults: %d requests lost, %d replies lost, %d duplicates", lost, replies, dupCount)
	assert.Positive(t, lost)
	assert.Positive(t, replies)
	assert.Positive(t, dupCount)
}
