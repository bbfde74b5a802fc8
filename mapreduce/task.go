package mapreduce

import (
	"fmt"
	"iter"
	"runtime"
	"strings"
	"sync/atomic"

	"github.com/distsys-kit/distsys/mapreduce/internal/extsort"
)

// TaskKind says whether a task is a map or a reduce task.
type TaskKind int

const (
	// MapTask is a task that runs Map over one input split.
	MapTask TaskKind = iota
	// ReduceTask is a task that runs Reduce over one partition of the
	// intermediate keys.
	ReduceTask
)

// String returns "map" or "reduce".
func (k TaskKind) String() string {
	switch k {
	case MapTask:
		return "map"
	case ReduceTask:
		return "reduce"
	}
	return fmt.Sprintf("TaskKind(%d)", int(k))
}

// A progressMeter is how a task attempt shows the coordinator that it is
// advancing, not stalled. Each heartbeat reads the meter and asks for a
// sign of life; the next step of the attempt (an Emit, a Count, a value
// merged, a chunk fetched) gives it. A step costs one atomic load, cheap
// enough for every Emit, so a Map that emits once in a long while is still
// seen to progress. A nil *progressMeter ignores steps.
type progressMeter struct {
	n      atomic.Int64 // signs of life given
	wanted atomic.Bool  // a heartbeat asked for one
}

var _ extsort.Progress = (*progressMeter)(nil)

// Step gives a sign of life if one was asked for.
func (m *progressMeter) Step() {
	if m != nil && m.wanted.Load() {
		m.wanted.Store(false)
		m.n.Add(1)
	}
}

// read returns the signs of life given so far, and asks for another.
func (m *progressMeter) read() int64 {
	m.wanted.Store(true)
	return m.n.Load()
}

// taskCounters counts what one task attempt did. The built-in counters are
// plain fields, since Emit, which bumps them, is the hottest path of a job.
type taskCounters struct {
	user             Counters
	mapInRecords     int64
	mapInBytes       int64
	mapOutRecords    int64
	mapOutBytes      int64
	combineIn        int64
	combineOut       int64
	spills           int64
	shuffleBytes     int64
	reduceGroups     int64
	reduceInRecords  int64
	reduceOutRecords int64
	reduceOutBytes   int64
}

// count adds delta to a user counter.
func (c *taskCounters) count(name string, delta int64) {
	if c.user == nil {
		c.user = Counters{}
	}
	c.user[name] += delta
}

// result returns the user counters and the non-zero built-in ones.
func (c *taskCounters) result() Counters {
	out := Counters{}
	out.add(c.user)
	for _, b := range []struct {
		name string
		v    int64
	}{
		{CounterMapInputRecords, c.mapInRecords},
		{CounterMapInputBytes, c.mapInBytes},
		{CounterMapOutputRecords, c.mapOutRecords},
		{CounterMapOutputBytes, c.mapOutBytes},
		{CounterCombineInputRecords, c.combineIn},
		{CounterCombineOutputValues, c.combineOut},
		{CounterSpills, c.spills},
		{CounterShuffleBytes, c.shuffleBytes},
		{CounterReduceInputGroups, c.reduceGroups},
		{CounterReduceInputRecords, c.reduceInRecords},
		{CounterReduceOutputRecords, c.reduceOutRecords},
		{CounterReduceOutputBytes, c.reduceOutBytes},
	} {
		if b.v != 0 {
			out[b.name] += b.v
		}
	}
	return out
}

// addSort adds what an external sort did (spills, Combine calls).
func (c *taskCounters) addSort(st extsort.Stats) {
	c.spills += st.Spills
	c.combineIn += st.CombineIn
	c.combineOut += st.CombineOut
}

// combiner returns the job's Combine as the external sort calls it: a
// panic comes back as an error. It returns nil for a nil fn.
func combiner(fn CombineFunc) extsort.Combiner {
	if fn == nil {
		return nil
	}
	return func(key string, values iter.Seq[string]) (v string, err error) {
		err = protect("Combine", func() { v = fn(key, values) })
		return v, err
	}
}

// abortPanic is what an Emitter panics with to stop a user function early:
// when the task is cancelled, or its output cannot be written. protect
// turns it back into its error.
type abortPanic struct{ err error }

// protect calls a user function, turning a panic into an error that
// carries the panic's value and where it happened.
func protect(what string, fn func()) (err error) {
	defer func() {
		r := recover()
		if r == nil {
			return
		}
		if a, ok := r.(abortPanic); ok {
			err = a.err
			return
		}
		err = fmt.Errorf("%s panicked: %v%s", what, r, panicSite())
	}()
	fn()
	return nil
}

// panicSite returns " at file:line" for the frame that panicked, found by
// skipping the runtime's frames and ours; "" if it cannot tell.
func panicSite() string {
	pcs := make([]uintptr, 32)
	n := runtime.Callers(3, pcs)
	frames := runtime.CallersFrames(pcs[:n])
	for {
		f, more := frames.Next()
		if !strings.HasPrefix(f.Function, "runtime.") {
			return fmt.Sprintf(" at %s:%d", f.File, f.Line)
		}
		if !more {
			return ""
		}
	}
}
