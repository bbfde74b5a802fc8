// Package extsort is the external sort under package mapreduce: the part
// of a MapReduce job that is about moving intermediate data, not about
// scheduling it. A map task's output goes into a Buffer, which groups it
// by key in memory and, when it reaches its limit, sorts it and spills it
// to disk as a run file; at the end the runs are merged into one file
// with a segment per reduce partition. A reduce task merges the segments
// of every map task and streams each key's values from disk. Memory stays
// bounded whatever the size of the input.
//
//	Add ─► groups (hash map) ──limit──► sort ─► spill 0, spill 1, ...
//	                                               │ Finish: merge
//	                                               ▼
//	                               output: segment 0 │ segment 1 │ ...
//
//	reduce r: segment r of map 0 ┐
//	          segment r of map 1 ┼─► Merge ─► each(key, values)
//	          segment r of map 2 ┘
//
// The run file format, with its checksums, is in runfile.go. Nothing here
// knows about tasks, workers or the network: the caller names the files,
// and turns panics of the user's functions into errors (see Combiner).
package extsort

import (
	"errors"
	"iter"
)

// ErrCorrupt is returned by a Reader, and so by Merge, for intermediate
// data whose bytes do not decode or whose checksum does not match.
var ErrCorrupt = errors.New("mapreduce: corrupt intermediate data")

// A Combiner merges some of the values of one key into one value (the
// job's Combine, which the caller wraps so that a panic comes back as an
// error). It may be called on any subset of a key's values, and on its own
// results, so it must be associative and commutative.
type Combiner func(key string, values iter.Seq[string]) (string, error)

// Progress receives a step for each unit of work done: a key or value
// merged. A task that spends minutes merging, or a Reduce that goes
// through millions of values of one key, is seen to be busy, not stuck.
// Step must be cheap.
type Progress interface {
	Step()
}

// step steps p, if there is one.
func step(p Progress) {
	if p != nil {
		p.Step()
	}
}

// Stats counts what a Buffer or a merge did.
type Stats struct {
	Spills     int64 // sorted runs written by a Buffer (its final one included)
	CombineIn  int64 // values given to the Combiner
	CombineOut int64 // values it returned
}

// combine calls fn on the n values of key, counting them.
func (st *Stats) combine(fn Combiner, key string, values iter.Seq[string], n uint64) (string, error) {
	v, err := fn(key, values)
	st.CombineIn += int64(n)
	st.CombineOut++
	return v, err
}
