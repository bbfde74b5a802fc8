package linearizability

import (
	"fmt"
	"math"
	"sync"
	"time"

	"github.com/anishathalye/porcupine"
)

// LockOp is an operation of the lock model.
type LockOp uint8

// The operations of the lock model.
const (
	// Grant is a Lock that returned a lease with a fencing token.
	Grant LockOp = iota
	// Write is a write to a FencedStore with a token: accepted, or
	// refused as stale.
	Write
)

// LockInput is what a client did: Grant (the token is in the output) or
// Write with Token.
type LockInput struct {
	Op     LockOp
	Client string
	Token  uint64 // Write: the token written with
}

// LockOutput is what it was told: the token granted, or whether the
// write was accepted.
type LockOutput struct {
	Token    uint64 // Grant
	Accepted bool   // Write
}

// lockState is the model's state: the newest token granted, and the
// newest the store has accepted.
type lockState struct {
	Granted, Newest uint64
}

// LockModel is the sequential specification of a lock service and the
// fenced store its holders write to, for the properties that survive
// leases running out: every grant carries a token greater than every
// earlier grant's (so no token is issued twice, across any failover); a
// write carries a token already granted; and the store accepts a write
// exactly when its token is at least the newest it has accepted. Mutual
// exclusion itself is not in it: a lease may run out, and then the lock
// is rightly granted to another while the old holder still writes; the
// store's refusal is what keeps that safe, and that is what is checked.
//
// A Lock that failed is left out of the history: its token, if one was
// issued, was never used.
var LockModel = porcupine.Model{
	Init: func() any { return lockState{} },
	Step: func(state, input, output any) (bool, any) {
		return lockStep(state.(lockState), input.(LockInput), output.(LockOutput))
	},
	DescribeOperation: func(input, output any) string {
		in, out := input.(LockInput), output.(LockOutput)
		if in.Op == Grant {
			return fmt.Sprintf("%s: lock -> token %d", in.Client, out.Token)
		}
		verdict := "accepted"
		if !out.Accepted {
			verdict = "refused"
		}
		return fmt.Sprintf("%s: write(token %d) -> %s", in.Client, in.Token, verdict)
	},
	DescribeState: func(state any) string {
		s := state.(lockState)
		return fmt.Sprintf("granted up to %d, store at %d", s.Granted, s.Newest)
	},
}

func lockStep(s lockState, in LockInput, out LockOutput) (bool, lockState) {
	switch in.Op {
	case Grant:
		return out.Token > s.Granted, lockState{Granted: out.Token, Newest: s.Newest}
	case Write:
		switch {
		case in.Token == 0 || in.Token > s.Granted:
			return false, s // a token nobody was granted yet
		case in.Token >= s.Newest:
			return out.Accepted, lockState{Granted: s.Granted, Newest: in.Token}
		}
		return !out.Accepted, s
	}
	return false, s
}

// LockRecorder keeps a history of grants and fenced writes, for
// LockModel. Its call and return times come from one counter, as
// Recorder's do. It is safe for concurrent use.
type LockRecorder struct {
	mu      sync.Mutex // protects clock, ops, clients
	clock   int64
	ops     []porcupine.Operation
	clients map[string]int
}

// NewLockRecorder returns an empty recorder.
func NewLockRecorder() *LockRecorder { return &LockRecorder{clients: map[string]int{}} }

// Now returns the next time of the recorder's counter: take it just
// before calling Lock or writing, and again when the answer comes.
func (r *LockRecorder) Now() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.clock++
	return r.clock
}

// Grant records that client's Lock, called at call, returned token at
// ret.
func (r *LockRecorder) Grant(client string, call int64, token uint64, ret int64) {
	r.add(client, LockInput{Op: Grant, Client: client}, call, LockOutput{Token: token}, ret)
}

// Write records that client's write with token, called at call, was
// accepted or refused at ret.
func (r *LockRecorder) Write(client string, token uint64, call int64, accepted bool, ret int64) {
	r.add(client, LockInput{Op: Write, Client: client, Token: token}, call, LockOutput{Accepted: accepted}, ret)
}

func (r *LockRecorder) add(client string, in LockInput, call int64, out LockOutput, ret int64) {
	if ret <= call {
		ret = math.MaxInt64 // a caller's mistake; "never" keeps the check sound
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	id, ok := r.clients[client]
	if !ok {
		id = len(r.clients)
		r.clients[client] = id
	}
	r.ops = append(r.ops, porcupine.Operation{ClientId: id, Input: in, Call: call, Output: out, Return: ret})
}

// History returns the operations recorded so far.
func (r *LockRecorder) History() []porcupine.Operation {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]porcupine.Operation(nil), r.ops...)
}

// Check checks the history with LockModel, as Recorder.Check does with
// KVModel: on failure it writes porcupine's visualisation to Dir(tb,
// seed) and fails tb.
func (r *LockRecorder) Check(tb testing, seed int64, timeout time.Duration) porcupine.CheckResult {
	tb.Helper()
	return check(tb, seed, LockModel, r.History(), timeout)
}
