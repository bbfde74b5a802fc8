package linearizability

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/anishathalye/porcupine"

	"github.com/distsys-kit/distsys/kv"
	"github.com/distsys-kit/distsys/trace"
)

// KV is the client API the recorder wraps: a kvraft.Clerk, a kv.Client,
// or anything with the same methods and errors (kv.ErrNoKey, a
// *kv.ConflictError).
type KV interface {
	Get(ctx context.Context, key string) (string, uint64, error)
	Put(ctx context.Context, key, value string) (uint64, error)
	Append(ctx context.Context, key, value string) (uint64, error)
	PutIf(ctx context.Context, key, value string, version uint64) (uint64, error)
}

// Recorder keeps the history of the operations of its clients. It is
// safe for concurrent use.
//
// Call and return times come from one counter that every event takes the
// next value of, in the order the events happen: so an operation that
// returned before another was called has the smaller times, which is all
// linearizability asks of real time, with no clock to trust.
type Recorder struct {
	mu      sync.Mutex // protects clock, ops, clients
	clock   int64
	ops     []porcupine.Operation
	clients int
}

// NewRecorder returns an empty recorder.
func NewRecorder() *Recorder { return &Recorder{} }

func (r *Recorder) now() int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.clock++
	return r.clock
}

// Add records one operation: its client (numbered from 0, for the
// visualisation), what it asked, when (from Now), what it was told and
// when. An unknown output gets the return time "never".
func (r *Recorder) Add(client int, in KVInput, call int64, out KVOutput, ret int64) {
	if out.Unknown {
		ret = math.MaxInt64
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ops = append(r.ops, porcupine.Operation{ClientId: client, Input: in, Call: call, Output: out, Return: ret})
}

// Now returns the next time of the recorder's counter, for Add.
func (r *Recorder) Now() int64 { return r.now() }

// History returns the operations recorded so far.
func (r *Recorder) History() []porcupine.Operation {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]porcupine.Operation(nil), r.ops...)
}

// Client returns a KV that calls kv and records every call as a new
// client of the history. Use one per goroutine, as a history's client
// makes one call at a time.
func (r *Recorder) Client(c KV) *Client {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.clients++
	return &Client{rec: r, kv: c, id: r.clients - 1}
}

// Check checks the history with KVModel, within timeout (0: no limit; a
// check that runs out of time is reported as porcupine.Unknown, not a
// failure). If the history is not linearizable it writes porcupine's
// visualisation to linearizability.html in Dir(tb, seed), beside the
// trace that trace.Recorder.WriteOnFailure writes there, and fails tb.
func (r *Recorder) Check(tb testing, seed int64, timeout time.Duration) porcupine.CheckResult {
	tb.Helper()
	return check(tb, seed, KVModel, r.History(), timeout)
}

// check checks ops with model, and on failure writes the visualisation
// and fails tb.
func check(tb testing, seed int64, model porcupine.Model, ops []porcupine.Operation, timeout time.Duration) porcupine.CheckResult {
	tb.Helper()
	res, info := porcupine.CheckOperationsVerbose(model, ops, timeout)
	if res != porcupine.Illegal {
		return res
	}
	dir := Dir(tb, seed)
	path := filepath.Join(dir, HTMLFile)
	err := os.MkdirAll(dir, 0o755)
	if err == nil {
		err = porcupine.VisualizePath(model, info, path)
	}
	if err != nil {
		tb.Errorf("history of %d operations is not linearizable (and its visualisation could not be written: %v)", len(ops), err)
		return res
	}
	tb.Errorf("history of %d operations is not linearizable: see %s", len(ops), path)
	return res
}

// HTMLFile is the name of the file Check writes.
const HTMLFile = "linearizability.html"

// testing is the part of testing.TB that Check uses.
type testing interface {
	trace.TB
	Errorf(format string, args ...any)
}

// Dir is the directory where trace.Recorder.WriteOnFailure writes the
// trace of tb's test run with seed: $DISTSYS_TRACE_DIR (default
// os.TempDir()/distsys-trace), then the test's name and seed.
func Dir(tb trace.TB, seed int64) string {
	base := os.Getenv(trace.TraceDirEnv)
	if base == "" {
		base = filepath.Join(os.TempDir(), "distsys-trace")
	}
	name := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			return r
		}
		return '_'
	}, tb.Name())
	return filepath.Join(base, fmt.Sprintf("%s-seed%d", name, seed))
}

// Client records the calls of one client.
type Client struct {
	rec *Recorder
	kv  KV
	id  int
}

var _ KV = (*Client)(nil)

// Get calls Get and records it, unless it failed with no answer.
func (c *Client) Get(ctx context.Context, key string) (string, uint64, error) {
	call := c.rec.now()
	v, ver, err := c.kv.Get(ctx, key)
	switch {
	case err == nil:
		c.rec.Add(c.id, KVInput{Op: Get, Key: key}, call, KVOutput{Value: v, Version: ver, Found: true}, c.rec.now())
	case errors.Is(err, kv.ErrNoKey):
		c.rec.Add(c.id, KVInput{Op: Get, Key: key}, call, KVOutput{}, c.rec.now())
	}
	return v, ver, err
}

// Put calls Put and records it.
func (c *Client) Put(ctx context.Context, key, value string) (uint64, error) {
	call := c.rec.now()
	ver, err := c.kv.Put(ctx, key, value)
	c.write(KVInput{Op: Put, Key: key, Value: value}, call, ver, err)
	return ver, err
}

// Append calls Append and records it.
func (c *Client) Append(ctx context.Context, key, value string) (uint64, error) {
	call := c.rec.now()
	ver, err := c.kv.Append(ctx, key, value)
	c.write(KVInput{Op: Append, Key: key, Value: value}, call, ver, err)
	return ver, err
}

// PutIf calls PutIf and records it.
func (c *Client) PutIf(ctx context.Context, key, value string, version uint64) (uint64, error) {
	call := c.rec.now()
	ver, err := c.kv.PutIf(ctx, key, value, version)
	c.write(KVInput{Op: PutIf, Key: key, Value: value, Version: version}, call, ver, err)
	return ver, err
}

// write records a write's answer: applied, a conflict, or unknown.
func (c *Client) write(in KVInput, call int64, ver uint64, err error) {
	out := KVOutput{Version: ver, Found: err == nil}
	var ce *kv.ConflictError
	switch {
	case errors.As(err, &ce):
		out.Version = ce.Have
	case err != nil:
		out = KVOutput{Unknown: true}
	}
	c.rec.Add(c.id, in, call, out, c.rec.now())
}
