package rpc_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/rpc"
	"github.com/distsys-kit/distsys/transport/netsim"
)

// TestSuite runs the same contract over every network: TCP, reliable UDP,
// the simulated network, and the simulated network losing, duplicating,
// delaying and reordering messages (where clients retry, with at-most-once
// execution).
func TestSuite(t *testing.T) {
	cases := []struct {
		name string
		run  func(t *testing.T, nw network)
	}{
		{"CallReturnsReply", testCallReturnsReply},
		{"HandlerErrorKeepsMessageAndSentinel", testHandlerError},
		{"UnknownServiceAndMethod", testUnknown},
		{"ConcurrentCallsShareOneConnection", testConcurrentCalls},
		{"AbandonedCallDoesNotBreakConnection", testAbandonedCall},
		{"DeadlineTravelsToServer", testDeadlineTravels},
		{"InterceptorsCarryMetadata", testInterceptors},
		{"GoDeliversOnDone", testGo},
		{"ClientCloseUnblocksPendingCalls", testClientClose},
		{"ServerCloseEndsPendingCalls", testServerClose},
		{"ShutdownDrainsCallsInFlight", testShutdownDrains},
		{"StatsCountCallsAndBytes", testStats},
		{"JSONCodec", testJSON},
	}
	for _, nw := range networks() {
		t.Run(nw.name, func(t *testing.T) {
			t.Parallel()
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					t.Parallel()
					runOn(t, nw, func(t *testing.T) { tc.run(t, nw) })
				})
			}
		})
	}
}

func testCallReturnsReply(t *testing.T, nw network) {
	c := startEnv(t, nw).dial()
	ctx := testContext(t)
	var r Reply
	require.NoError(t, c.Call(ctx, "Arith.Add", &Args{A: 2, B: 3}, &r))
	assert.Equal(t, 5, r.C, "net/rpc shape")
	require.NoError(t, c.Call(ctx, "Arith.Mul", &Args{A: 2, B: 3}, &r))
	assert.Equal(t, 6, r.C, "context shape")
}

func testHandlerError(t *testing.T, nw network) {
	e := startEnv(t, nw, rpc.WithErrors(errDivByZero))
	ctx := testContext(t)

	err := e.dial(rpc.WithErrors(errDivByZero)).Call(ctx, "Arith.Div", &Args{A: 7}, new(Reply))
	var re *rpc.RemoteError
	require.ErrorAs(t, err, &re)
	assert.Equal(t, "Arith.Div", re.Method)
	assert.Equal(t, "dividing 7: arith: divide by zero", re.Msg)
	assert.ErrorIs(t, err, errDivByZero, "a sentinel both sides declare survives the wire")

	err = e.dial().Call(ctx, "Arith.Div", &Args{A: 7}, new(Reply))
	require.ErrorAs(t, err, &re)
	assert.NotErrorIs(t, err, errDivByZero, "a client that did not declare it cannot restore it")
	assert.Equal(t, "rpc: Arith.Div: dividing 7: arith: divide by zero", err.Error())
}

func testUnknown(t *testing.T, nw network) {
	c := startEnv(t, nw).dial()
	ctx := testContext(t)
	tests := []struct {
		method string
		want   error
	}{
		{"Nope.Add", rpc.ErrUnknownService},
		{"Arith.Nope", rpc.ErrUnknownMethod},
		{"Arith", rpc.ErrUnknownService},
		{"", rpc.ErrUnknownService},
	}
	for _, tt := range tests {
		err := c.Call(ctx, tt.method, &Args{}, new(Reply))
		var re *rpc.RemoteError
		require.ErrorAs(t, err, &re, tt.method)
		assert.ErrorIs(t, err, tt.want, tt.method)
	}
}

func testConcurrentCalls(t *testing.T, nw network) {
	c := startEnv(t, nw).dial()
	ctx := testContext(t)
	const goroutines, calls = 16, 10
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range calls {
				var r Reply
				if err := c.Call(ctx, "Arith.Add", &Args{A: g, B: i * 1000}, &r); err != nil {
					t.Error(err)
					return
				}
				assert.Equal(t, g+i*1000, r.C)
			}
		})
	}
	wg.Wait()
	assert.EqualValues(t, goroutines*calls, c.Stats().Calls)
}

func testAbandonedCall(t *testing.T, nw network) {
	e := startEnv(t, nw)
	c := e.dial()
	ctx := testContext(t)

	short, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	defer cancel()
	err := c.Call(short, "Arith.Wait", &Args{}, new(Reply))
	require.ErrorIs(t, err, context.DeadlineExceeded)

	cctx, cancel := context.WithCancel(ctx)
	done := c.Go(cctx, "Arith.Wait", &Args{}, new(Reply), nil).Done
	e.entered(1)
	cancel()
	require.ErrorIs(t, (<-done).Error, context.Canceled)

	var r Reply
	require.NoError(t, c.Call(ctx, "Arith.Add", &Args{A: 1, B: 1}, &r), "the connection still works")
	assert.Equal(t, 2, r.C)
}

func testDeadlineTravels(t *testing.T, nw network) {
	c := startEnv(t, nw).dial()
	ctx, cancel := context.WithTimeout(testContext(t), 5*time.Second)
	defer cancel()
	var r DeadlineReply
	require.NoError(t, c.Call(ctx, "Arith.Deadline", &Args{}, &r))
	assert.True(t, r.Has, "the handler's context has a deadline")
	assert.LessOrEqual(t, r.Left, 5*time.Second)
	assert.Positive(t, r.Left)

	require.NoError(t, c.Call(testContext(t), "Arith.Deadline", &Args{}, &r))
	assert.True(t, r.Has, "testContext has a deadline too")
	require.NoError(t, c.Call(context.Background(), "Arith.Deadline", &Args{}, &r))
	assert.False(t, r.Has, "no deadline, none on the server")
}

func testInterceptors(t *testing.T, nw network) {
	var mu sync.Mutex
	var order []string
	record := func(s string) {
		mu.Lock()
		order = append(order, s)
		mu.Unlock()
	}
	serverIC := func(name string) rpc.ServerInterceptor {
		return func(ctx context.Context, call *rpc.ServerCall, next rpc.Handler) error {
			record("server " + name)
			if call.ReplyMetadata == nil {
				call.ReplyMetadata = rpc.Metadata{}
			}
			call.ReplyMetadata["seen-"+name] = call.Metadata["trace"]
			return next(ctx, call)
		}
	}
	e := startEnv(t, nw, rpc.WithServerInterceptor(serverIC("outer"), serverIC("inner")))
	c := e.dial(rpc.WithClientInterceptor(func(ctx context.Context, call *rpc.Call, invoke rpc.Invoker) error {
		record("client")
		call.Metadata = rpc.Metadata{"trace": "t-" + call.Method}
		err := invoke(ctx, call)
		record("client got " + call.ReplyMetadata["seen-outer"] + " " + call.ReplyMetadata["seen-inner"])
		return err
	}))
	var r Reply
	require.NoError(t, c.Call(testContext(t), "Arith.Add", &Args{A: 1, B: 2}, &r))
	assert.Equal(t, 3, r.C)
	mu.Lock()
	defer mu.Unlock()
	// On a lossy network the request may arrive twice, but the reply cache
	// runs the handler, and so the server interceptors, once.
	assert.Equal(t, []string{"client", "server outer", "server inner", "client got t-Arith.Add t-Arith.Add"}, order)
}

func testGo(t *testing.T, nw network) {
	c := startEnv(t, nw).dial()
	ctx := testContext(t)
	const n = 10
	done := make(chan *rpc.Call, n)
	for i := range n {
		c.Go(ctx, "Arith.Add", &Args{A: i, B: i}, new(Reply), done)
	}
	seen := map[int]bool{}
	for range n {
		call := <-done
		require.NoError(t, call.Error)
		assert.Equal(t, "Arith.Add", call.Method)
		seen[call.Reply.(*Reply).C] = true
	}
	assert.Len(t, seen, n)
}

func testClientClose(t *testing.T, nw network) {
	e := startEnv(t, nw)
	c := e.dial()
	ctx := testContext(t)
	call := c.Go(ctx, "Arith.Wait", &Args{}, new(Reply), nil)
	e.entered(1)
	require.NoError(t, c.Close())
	require.ErrorIs(t, (<-call.Done).Error, rpc.ErrClosed)
	require.ErrorIs(t, c.Call(ctx, "Arith.Add", &Args{}, new(Reply)), rpc.ErrClosed)
	require.ErrorIs(t, (<-c.Go(ctx, "Arith.Add", &Args{}, new(Reply), nil).Done).Error, rpc.ErrClosed)
	require.NoError(t, c.Close(), "Close is idempotent")
}

func testServerClose(t *testing.T, nw network) {
	e := startEnv(t, nw)
	c := e.dial()
	ctx, cancel := context.WithTimeout(testContext(t), 2*time.Second)
	defer cancel()
	call := c.Go(ctx, "Arith.Wait", &Args{}, new(Reply), nil)
	e.entered(1)
	require.NoError(t, e.srv.Close())
	err := (<-call.Done).Error
	require.Error(t, err)
	if nw.lossy {
		// The goodbye may be lost, and the client keeps retrying, so it
		// may also run out of time.
		assert.True(t, errors.Is(err, rpc.ErrServerClosed) || errors.Is(err, rpc.ErrConnLost) ||
			errors.Is(err, context.DeadlineExceeded), "got %v", err)
		return
	}
	assert.ErrorIs(t, err, rpc.ErrServerClosed)
}

func testShutdownDrains(t *testing.T, nw network) {
	e := startEnv(t, nw)
	c := e.dial()
	ctx := testContext(t)
	inFlight := c.Go(ctx, "Arith.Wait", &Args{A: 42}, new(Reply), nil)
	e.entered(1)

	shut := make(chan error, 1)
	go func() { shut <- e.srv.Shutdown(ctx) }()
	// Calls that arrive once the server is draining are refused, and
	// did not run.
	var err error
	for err == nil {
		err = c.Call(ctx, "Arith.Incr", &Args{A: 1}, new(Reply))
	}
	var re *rpc.RemoteError
	require.ErrorAs(t, err, &re)
	require.ErrorIs(t, err, rpc.ErrServerClosed)
	ran := e.svc.n.Load()

	select {
	case err := <-shut:
		t.Fatalf("Shutdown returned %v with a call in flight", err)
	default:
	}
	close(e.svc.release)
	require.NoError(t, <-shut)
	assert.EqualValues(t, 1, e.svc.waited.Load(), "Shutdown returned after the call in flight finished")
	require.ErrorIs(t, <-e.served, rpc.ErrServerClosed)
	e.served <- rpc.ErrServerClosed // for the cleanup
	assert.Equal(t, ran, e.svc.n.Load(), "no refused call ran")

	call := <-inFlight.Done
	if nw.lossy {
		return // the reply may have been lost, and the server is gone
	}
	require.NoError(t, call.Error, "the reply of the call in flight was sent")
	assert.Equal(t, 42, call.Reply.(*Reply).C)
}

func testStats(t *testing.T, nw network) {
	e := startEnv(t, nw)
	c := e.dial()
	for i := range 5 {
		require.NoError(t, c.Call(testContext(t), "Arith.Add", &Args{A: i}, new(Reply)))
	}
	cs, ss := c.Stats(), e.srv.Stats()
	assert.EqualValues(t, 5, cs.Calls)
	assert.Zero(t, cs.Errors)
	assert.Positive(t, cs.BytesSent)
	assert.Positive(t, cs.BytesReceived)
	assert.GreaterOrEqual(t, ss.Calls, int64(5))
	assert.Positive(t, ss.BytesReceived)
	assert.Positive(t, ss.BytesSent)
	if !nw.lossy {
		assert.Equal(t, cs.BytesSent, ss.BytesReceived)
		assert.Equal(t, ss.BytesSent, cs.BytesReceived)
		assert.EqualValues(t, 5, ss.Calls)
	}
}

func testJSON(t *testing.T, nw network) {
	e := startEnv(t, nw, rpc.WithCodec(rpc.NewJSONCodec()))
	ctx := testContext(t)
	var r Reply
	require.NoError(t, e.dial(rpc.WithCodec(rpc.NewJSONCodec())).Call(ctx, "Arith.Add", &Args{A: 4, B: 5}, &r))
	assert.Equal(t, 9, r.C)

	err := e.dial().Call(ctx, "Arith.Add", &Args{A: 4, B: 5}, &r)
	require.ErrorIs(t, err, rpc.ErrBadRequest, "a gob client and a JSON server")
	assert.Contains(t, err.Error(), `"gob"`)
}

// TestRedialAfterGoodbyeKeepsTheReason checks that a client made by Dial,
// whose server shut down, reports ErrServerClosed when it cannot redial.
func TestRedialAfterGoodbyeKeepsTheReason(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		_, l, d := simNet(t, 0)
		_, srv := startServerWith(t, l)
		c, err := rpc.Dial(t.Context(), "server", rpc.WithDialer(d))
		require.NoError(t, err)
		defer c.Close()
		require.NoError(t, c.Call(t.Context(), "Arith.Add", &Args{}, new(Reply)))
		require.NoError(t, srv.Shutdown(t.Context()))
		synctest.Wait() // the goodbye has arrived
		err = c.Call(t.Context(), "Arith.Add", &Args{}, new(Reply))
		require.ErrorIs(t, err, rpc.ErrServerClosed)
		assert.ErrorIs(t, err, netsim.ErrConnRefused, "and why the redial failed: no one listens")
	})
}
