package rpc_test

import (
	"bytes"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/rpc"
)

// Tally is a service written as for net/rpc: its handlers fill in map and
// slice replies in place.
type Tally struct{}

// Count writes into its map reply, which net/rpc hands over empty, not nil.
func (Tally) Count(words *[]string, reply *map[string]int) error {
	for _, w := range *words {
		(*reply)[w]++
	}
	return nil
}

// Lengths reports whether its slice reply arrived nil.
func (Tally) Lengths(words *[]string, reply *[]int) error {
	if *reply == nil {
		return errors.New("reply slice is nil")
	}
	for _, w := range *words {
		*reply = append(*reply, len(w))
	}
	return nil
}

// TestMapAndSliceRepliesStartEmpty checks that a handler gets an empty map
// or slice to fill in, as net/rpc gives it: writing into a nil map would
// panic in the server.
func TestMapAndSliceRepliesStartEmpty(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := startEnv(t, simNetwork())
		require.NoError(t, e.srv.Register(Tally{}))
		c := e.dial()
		words := []string{"a", "bb", "a"}

		var counts map[string]int
		require.NoError(t, c.Call(t.Context(), "Tally.Count", &words, &counts))
		assert.Equal(t, map[string]int{"a": 2, "bb": 1}, counts)

		var lengths []int
		require.NoError(t, c.Call(t.Context(), "Tally.Lengths", &words, &lengths))
		assert.Equal(t, []int{1, 2, 1}, lengths)
	})
}

// Pointy has its methods on the pointer type only.
type Pointy struct{}

// Get is a method of *Pointy, not of Pointy.
func (*Pointy) Get(args *Args, reply *Reply) error { return nil }

// TestRegisterValueHintsAtPointer checks net/rpc's hint for a value whose
// methods are on its pointer type.
func TestRegisterValueHintsAtPointer(t *testing.T) {
	srv := rpc.NewServer()
	defer srv.Close()
	err := srv.Register(Pointy{})
	require.ErrorIs(t, err, rpc.ErrInvalidService)
	assert.Contains(t, err.Error(), "pass a pointer")
	require.NoError(t, srv.Register(&Pointy{}))
}

// Panicky panics on demand.
type Panicky struct{}

// Boom panics with its argument.
func (Panicky) Boom(args *string, reply *struct{}) error { panic(*args) }

// lockedBuffer is a log destination safe for concurrent use.
type lockedBuffer struct {
	mu sync.Mutex // protects b
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestPanickingHandlerIsAnErrorReply checks that a handler's panic reaches
// its caller as an error naming the panic, is logged with its stack, and
// leaves the server serving.
func TestPanickingHandlerIsAnErrorReply(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var log lockedBuffer
		e := startEnv(t, simNetwork(), rpc.WithLogger(slog.New(slog.NewTextHandler(&log, nil))))
		require.NoError(t, e.srv.Register(Panicky{}))
		c := e.dial()

		err := c.Call(t.Context(), "Panicky.Boom", ptr("the disk is on fire"), nil)
		var re *rpc.RemoteError
		require.ErrorAs(t, err, &re)
		require.ErrorIs(t, err, rpc.ErrHandlerPanicked)
		assert.Equal(t, "rpc: Panicky.Boom: handler panicked: the disk is on fire", err.Error())
		assert.Contains(t, log.String(), "the disk is on fire")
		assert.Contains(t, log.String(), "compat_test.go", "the log has the stack")

		var r Reply
		require.NoError(t, c.Call(t.Context(), "Arith.Add", &Args{A: 1, B: 2}, &r), "the server still serves")
		assert.Equal(t, 3, r.C)
	})
}

// Raft is a service written for labrpc: its handlers return nothing.
type Raft struct{ term int }

// RequestVoteArgs asks for a vote.
type RequestVoteArgs struct{ Term, CandidateID int }

// RequestVoteReply answers it.
type RequestVoteReply struct {
	Term        int
	VoteGranted bool
}

// RequestVote is shaped as in labrpc.
func (rf *Raft) RequestVote(args *RequestVoteArgs, reply *RequestVoteReply) {
	reply.Term = max(rf.term, args.Term)
	reply.VoteGranted = args.Term > rf.term
}

// TestLabRPCCodePorts checks the labrpc shapes: a handler that returns
// nothing is served, and ClientEnd.Call reports with a bool whether a
// reply came, false when none can come by the timeout.
func TestLabRPCCodePorts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := startEnv(t, simNetwork())
		require.NoError(t, e.srv.Register(&Raft{term: 3}))
		end := rpc.NewClientEnd(e.dial(), 0)

		var reply RequestVoteReply
		require.True(t, end.Call("Raft.RequestVote", &RequestVoteArgs{Term: 5, CandidateID: 1}, &reply))
		assert.Equal(t, RequestVoteReply{Term: 5, VoteGranted: true}, reply)
		assert.False(t, end.Call("Raft.AppendEntries", &RequestVoteArgs{}, &reply), "no such method")

		c, err := rpc.Dial(t.Context(), "server", rpc.WithDialer(partitioned(t)))
		require.NoError(t, err)
		defer c.Close()
		lost := rpc.NewClientEnd(c, 2*time.Second)
		start := time.Now()
		assert.False(t, lost.Call("Raft.RequestVote", &RequestVoteArgs{Term: 5}, &reply), "a partitioned server")
		assert.Equal(t, 2*time.Second, time.Since(start), "Call waited for its timeout")
	})
}
