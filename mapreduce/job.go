package mapreduce

import (
	"fmt"
	"iter"
	"path/filepath"
)

// DefaultSplitSize is the size of the input splits when Job.SplitSize is
// zero: 16 MiB, the low end of what the MapReduce paper used. A worker holds
// one split in memory while its Map runs.
const DefaultSplitSize = 16 << 20

// A Job describes one MapReduce computation: what to compute (Map, Reduce
// and, optionally, Combine and Partition), over which inputs, and where the
// output goes. It is plain data, and the same value drives RunSequential,
// Run and the processes started by Main.
//
// Map and Reduce may run more than once for the same input (a task is
// re-executed when its worker fails, and backup copies of slow tasks race
// the original): they must be deterministic functions of their arguments,
// with no side effects other than what they emit, for the output to be the
// same as that of one sequential execution.
type Job struct {
	// Name identifies the job. Worker processes started by Main use it to
	// check that they run the job their coordinator runs. Optional.
	Name string

	// Inputs are the paths of the input files, read by the workers. Every
	// worker must see the same files under the same paths.
	Inputs []string

	// SplitSize is the number of bytes of input per map task. A larger file
	// is split into several tasks, always on record (line) boundaries: a
	// split holds the lines that start in its byte range. Zero means
	// DefaultSplitSize; a negative value means never split (one task per
	// file, which suits inputs that are not line-oriented).
	SplitSize int64

	// NReduce is the number of reduce tasks, and so of output files.
	// Zero means 1.
	NReduce int

	// OutputDir is the directory that receives the output files
	// part-00000, part-00001, ... (see OutputFile). It is created if
	// needed. Required.
	OutputDir string

	// Map is called once per input split that holds at least one record.
	// Required.
	Map MapFunc

	// Reduce is called once per distinct intermediate key, in key order
	// within each reduce task. Required.
	Reduce ReduceFunc

	// Combine, if set, pre-reduces map output on the map side. Optional.
	Combine CombineFunc

	// Partition picks the reduce task of an intermediate key. Nil means
	// HashPartition.
	Partition PartitionFunc
}

// A MapFunc processes one input split. name is the input file's path as
// given in Job.Inputs; contents are whole lines of it, each with its
// newline (the last line of a file may lack one). It emits intermediate
// key/value pairs with out.Emit, and may count things with out.Count.
//
// A MapFunc reports a bad input by panicking: the panic fails the task
// attempt, and its message is in the job's error if the task fails too
// many times.
type MapFunc func(name, contents string, out Emitter)

// A ReduceFunc processes one intermediate key and all the values emitted
// for it. values is a stream that reads from disk as it goes, so a key
// with more values than fit in memory is fine; it can be ranged over once.
// Without a Combine, the values arrive in the order the map tasks emitted
// them (map tasks in input order); with one, they are partial results in no
// guaranteed order. Each out.Emit(key, value) writes one output line,
// key + "\t" + value + "\n".
type ReduceFunc func(key string, values iter.Seq[string], out Emitter)

// A CombineFunc merges some of the values of one key into one value, on
// the map side, before they are written to disk and sent to the reducers.
// It may be called any number of times (including zero) on any subset of a
// key's values, and on its own results, so it must be associative and
// commutative, a deterministic function of its values, and what it returns
// must be acceptable to Reduce as a value. For a word count that emits "1"
// per word, a Combine that sums its values and a Reduce that sums its
// values give the same counts with and without it.
//
// With a Combine, a map task does not store every value: the first value
// it emits (a word count's "1") is counted per key, and the copies are
// combined when the task writes its output, up to a thousand in one call,
// more by doubling (Combine of two copies, then of two of those results,
// and so on: a million copies take about 40 calls). So a word count that
// emits "1" per word costs a map lookup per word, not a value to store and
// parse, and it needs no hand-made combining in its Map.
type CombineFunc func(key string, values iter.Seq[string]) string

// A PartitionFunc returns the reduce task, in [0, nReduce), that receives
// key. It must be a deterministic function of its arguments.
type PartitionFunc func(key string, nReduce int) int

// An Emitter receives what a Map or Reduce function produces. Emitters are
// not safe for concurrent use, and must not be used after the function
// returns.
type Emitter interface {
	// Emit outputs one key/value pair: an intermediate pair from Map, an
	// output line from Reduce.
	Emit(key, value string)
	// Count adds delta to the user counter named counter. Counters are
	// summed over the committed attempt of every task (see Counters).
	Count(counter string, delta int64)
}

// HashPartition is the default PartitionFunc: the 32-bit FNV-1a hash of the
// key, modulo nReduce.
func HashPartition(key string, nReduce int) int {
	const (
		offset32 = 2166136261
		prime32  = 16777619
	)
	h := uint32(offset32)
	for i := 0; i < len(key); i++ {
		h ^= uint32(key[i])
		h *= prime32
	}
	return int(h % uint32(nReduce))
}

// OutputFile returns the name of the output file of reduce task r in dir:
// dir/part-00003 for r = 3.
func OutputFile(dir string, r int) string {
	return filepath.Join(dir, fmt.Sprintf("part-%05d", r))
}

// withDefaults returns a copy of j with its zero fields set to their
// defaults, or an error matching ErrInvalidJob.
func (j Job) withDefaults() (Job, error) {
	switch {
	case j.Map == nil:
		return j, fmt.Errorf("%w: Map is nil", ErrInvalidJob)
	case j.Reduce == nil:
		return j, fmt.Errorf("%w: Reduce is nil", ErrInvalidJob)
	case j.OutputDir == "":
		return j, fmt.Errorf("%w: OutputDir is empty", ErrInvalidJob)
	case j.NReduce < 0:
		return j, fmt.Errorf("%w: NReduce = %d, want >= 0", ErrInvalidJob, j.NReduce)
	}
	if j.NReduce == 0 {
		j.NReduce = 1
	}
	if j.SplitSize == 0 {
		j.SplitSize = DefaultSplitSize
	}
	if j.Partition == nil {
		j.Partition = HashPartition
	}
	j.Inputs = append([]string(nil), j.Inputs...)
	return j, nil
}
