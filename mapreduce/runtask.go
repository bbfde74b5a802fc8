package mapreduce

import (
	"bufio"
	"fmt"
	"iter"
	"os"
	"path/filepath"

	"github.com/distsys-kit/distsys/mapreduce/internal/extsort"
)

// DefaultMemoryLimit is how many bytes of map output a map task buffers
// before it sorts them and spills them to disk, unless WithMemoryLimit says
// otherwise: 32 MiB.
const DefaultMemoryLimit = 32 << 20

const (
	// checkEvery is how often, in Emit calls, an Emitter checks whether
	// its task was cancelled.
	checkEvery = 1024

	// outputBufferSize is how much of a reduce task's output is buffered
	// before it is written.
	outputBufferSize = 64 << 10
)

// A taskEnv is where and how a task attempt runs: the same for the
// sequential oracle and for a worker.
type taskEnv struct {
	job      *Job
	scratch  string         // directory for spills and merge passes
	memLimit int            // map output buffered before a spill
	progress *progressMeter // may be nil
	done     <-chan struct{}
	// keys, if not nil, carries the number of distinct keys of one map
	// task to the next, so that its buffer starts at the right size
	// instead of growing (and rehashing) from nothing.
	keys *int
}

// runMapTask runs Map over split s and writes its sorted, partitioned
// output to the run file out. It returns the output (with an empty Path if
// Map emitted nothing) and the attempt's counters.
func runMapTask(env taskEnv, s split, out string) (extsort.RunFile, Counters, error) {
	contents, err := readSplit(s)
	if err != nil {
		return extsort.RunFile{}, nil, err
	}
	job := env.job
	o := &mapOut{
		buf: extsort.NewBuffer(extsort.Config{
			Parts:     job.NReduce,
			Partition: func(key string) int { return job.Partition(key, job.NReduce) },
			Combine:   combiner(job.Combine),
			Limit:     env.memLimit,
			Prefix:    filepath.Join(env.scratch, filepath.Base(out)),
			Progress:  env.progress,
			Keys:      hint(env.keys),
		}),
		progress: env.progress,
		done:     env.done,
	}
	if len(contents) > 0 {
		o.c.mapInBytes = int64(len(contents))
		o.c.mapInRecords = countRecords(contents)
		err := protect("Map", func() { job.Map(s.File, contents, o) })
		if err == nil {
			err = o.err // the Map recovered our abort panic
		}
		if err != nil {
			o.buf.Discard()
			return extsort.RunFile{}, nil, err
		}
	}
	if env.keys != nil {
		*env.keys = o.buf.Keys()
	}
	rf, err := o.buf.Finish(out)
	if err != nil {
		return extsort.RunFile{}, nil, err
	}
	o.c.addSort(o.buf.Stats())
	return rf, o.c.result(), nil
}

func hint(keys *int) int {
	if keys == nil {
		return 0
	}
	return *keys
}

// mapOut is the Emitter of a map task: it counts, shows progress and
// watches for cancellation, and hands the pairs to an external sort.
type mapOut struct {
	buf      *extsort.Buffer
	c        taskCounters
	progress *progressMeter
	done     <-chan struct{}
	err      error // the first error; Emit panics with it
}

var _ Emitter = (*mapOut)(nil)

// Emit buffers one pair. It panics with an abortPanic (which the task
// recovers) if the task was cancelled or the buffer failed (a spill could
// not be written, a bad partition), so that a Map stops at once.
func (o *mapOut) Emit(key, value string) {
	if o.err != nil {
		panic(abortPanic{o.err})
	}
	o.c.mapOutRecords++
	o.c.mapOutBytes += int64(len(key) + len(value))
	if err := o.buf.Add(key, value); err != nil {
		o.abort(err)
	}
	o.progress.Step()
	if o.c.mapOutRecords%checkEvery == 0 {
		o.check()
	}
}

// Count adds to a user counter; it is also a sign of progress.
func (o *mapOut) Count(counter string, delta int64) {
	o.c.count(counter, delta)
	o.progress.Step()
	o.check()
}

// check aborts if the task was cancelled.
func (o *mapOut) check() {
	select {
	case <-o.done:
		o.abort(errCancelled)
	default:
	}
}

func (o *mapOut) abort(err error) {
	if o.err == nil {
		o.err = err
	}
	panic(abortPanic{o.err})
}

// A segmentFile is one map task's segment for a reduce task, in a local
// file.
type segmentFile struct {
	Path string
	Seg  extsort.Segment
}

// runReduceTask merges the segments of one partition, in order, calls
// Reduce for each key and writes the output lines to out. The caller
// commits out (renames it) if it wants it.
func runReduceTask(env taskEnv, in []segmentFile, out string) (Counters, error) {
	var c taskCounters
	var runs []extsort.RunFile
	for _, s := range in {
		if s.Seg.Length > 0 {
			runs = append(runs, extsort.RunFile{Path: s.Path, Segs: []extsort.Segment{s.Seg}})
		}
	}
	var st extsort.Stats
	merged, err := extsort.MergePasses(runs, 1, filepath.Join(env.scratch, filepath.Base(out)), nil, &st, env.progress)
	if err != nil {
		return nil, err
	}
	if len(merged) < len(runs) {
		defer func() { // merge passes made these; the inputs are the caller's
			for _, r := range merged {
				os.Remove(r.Path)
			}
		}()
	}

	readers := make([]*extsort.Reader, len(merged))
	for i, r := range merged {
		f, err := os.Open(r.Path)
		if err != nil {
			return nil, fmt.Errorf("mapreduce: reduce: %w", err)
		}
		defer f.Close()
		readers[i] = extsort.NewReader(f, r.Segs[0])
	}
	f, err := os.Create(out)
	if err != nil {
		return nil, fmt.Errorf("mapreduce: reduce: %w", err)
	}
	o := &reduceOut{w: bufio.NewWriterSize(f, outputBufferSize), c: &c, progress: env.progress, done: env.done}
	err = extsort.Merge(readers, env.progress, func(key string, n uint64, values iter.Seq[string]) error {
		c.reduceGroups++
		c.reduceInRecords += int64(n)
		if err := protect("Reduce", func() { env.job.Reduce(key, values, o) }); err != nil {
			return err
		}
		if o.err != nil { // the Reduce recovered our abort panic
			return o.err
		}
		o.check()
		return o.err
	})
	if err == nil {
		err = o.w.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(out)
		return nil, err
	}
	return c.result(), nil
}

// reduceOut is the Emitter of a reduce task: it writes output lines.
type reduceOut struct {
	w        *bufio.Writer
	c        *taskCounters
	progress *progressMeter
	done     <-chan struct{}
	err      error
}

var _ Emitter = (*reduceOut)(nil)

func (o *reduceOut) Emit(key, value string) {
	if o.err != nil {
		panic(abortPanic{o.err})
	}
	o.w.WriteString(key)
	o.w.WriteByte('\t')
	o.w.WriteString(value)
	o.w.WriteByte('\n')
	o.c.reduceOutRecords++
	o.c.reduceOutBytes += int64(len(key) + len(value) + 2)
	o.progress.Step()
	if o.c.reduceOutRecords%checkEvery == 0 {
		o.check()
		if o.err != nil {
			panic(abortPanic{o.err})
		}
	}
}

func (o *reduceOut) Count(counter string, delta int64) {
	o.c.count(counter, delta)
	o.progress.Step()
	o.check()
}

// check notes a cancellation. (A write error is sticky in the
// bufio.Writer and reported by the final Flush.)
func (o *reduceOut) check() {
	select {
	case <-o.done:
		o.err = errCancelled
	default:
	}
}
