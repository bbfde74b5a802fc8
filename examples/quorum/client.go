package main

import (
	"context"
	"math/rand/v2"
	"time"

	"github.com/distsys-kit/distsys/rpc"
)

// quorum is the client of N replicas: a write is done once W replicas
// have acknowledged it, a read once R have answered, and the read returns
// the highest version among its answers.
//
// A real client sends to all N at once and takes the first W (or R)
// answers; the others come later. To make a run replay, this one asks the
// replicas one at a time, in an order drawn from the seed (the order the
// answers would have come back in), and stops at W (or R). The write's
// copies to the replicas it did not wait for are still on their way: the
// demo delivers them after the next read (deliverLate), which is the
// window in which a read can miss the write.
type quorum struct {
	n, r, w  int
	names    []string      // "r1", "r2", ...
	replicas []*rpc.Client // by index, as names
	rng      *rand.Rand
	timeout  time.Duration // how long to wait for one replica's answer, retries included
}

// answer is one replica's answer to a read.
type answer struct {
	replica int
	got     Versioned
}

// write stores v under key: it asks replicas in a random order until W
// have acknowledged it. It returns the replicas that did, and those it did
// not wait for (late), to which the write is still on its way. Replicas
// that did not answer in time are in neither: the write may or may not
// have reached them. ok is false if fewer than W acknowledged.
func (q *quorum) write(ctx context.Context, key string, v Versioned) (acked, late, silent []int, ok bool) {
	for _, i := range q.rng.Perm(q.n) {
		if len(acked) == q.w {
			late = append(late, i)
			continue
		}
		var reply Versioned
		if err := q.call(ctx, i, "Replica.Put", &PutArgs{Key: key, Versioned: v}, &reply); err != nil {
			silent = append(silent, i)
			continue
		}
		acked = append(acked, i)
	}
	return acked, late, silent, len(acked) == q.w
}

// deliverLate delivers the write's copies that write did not wait for.
// It returns the replicas that did not answer.
func (q *quorum) deliverLate(ctx context.Context, key string, v Versioned, late []int) (silent []int) {
	for _, i := range late {
		var reply Versioned
		if err := q.call(ctx, i, "Replica.Put", &PutArgs{Key: key, Versioned: v}, &reply); err != nil {
			silent = append(silent, i)
		}
	}
	return silent
}

// read asks replicas in a random order until R have answered, and returns
// their answers and the newest value among them. ok is false if fewer
// than R answered.
func (q *quorum) read(ctx context.Context, key string) (answers []answer, newest Versioned, ok bool) {
	for _, i := range q.rng.Perm(q.n) {
		if len(answers) == q.r {
			break
		}
		var reply Versioned
		if err := q.call(ctx, i, "Replica.Get", &key, &reply); err != nil {
			continue
		}
		answers = append(answers, answer{replica: i, got: reply})
		if reply.Version > newest.Version {
			newest = reply
		}
	}
	return answers, newest, len(answers) == q.r
}

// call calls replica i, waiting at most q.timeout; its rpc client resends
// a request that gets no reply for a while, at most once executed.
func (q *quorum) call(ctx context.Context, i int, method string, args, reply any) error {
	ctx, cancel := context.WithTimeout(ctx, q.timeout)
	defer cancel()
	return q.replicas[i].Call(ctx, method, args, reply)
}
