package mapreduce

import (
	"bufio"
	"fmt"
	"iter"
	"os"
	"path/filepath"
)

// A taskEnv is where and how a task attempt runs: the same for the
// sequential oracle and for a worker.
type taskEnv struct {
	job      *Job
	scratch  string         // directory for spills and merge passes
	memLimit int            // map output buffered before a spill
	progress *progressMeter // may be nil
	done     <-chan struct{}
}

// runMapTask runs Map over split s and writes its sorted, partitioned
// output to the run file out. It returns the output (with an empty Path if
// Map emitted nothing) and the attempt's counters.
func runMapTask(env taskEnv, s split, out string) (runFile, Counters, error) {
	contents, err := readSplit(s)
	if err != nil {
		return runFile{}, nil, err
	}
	prefix := filepath.Join(env.scratch, filepath.Base(out))
	b := newMapBuffer(env.job, env.memLimit, prefix, env.progress, env.done)
	if len(contents) > 0 {
		b.counters.mapInBytes = int64(len(contents))
		b.counters.mapInRecords = countRecords(contents)
		err := protect("Map", func() { env.job.Map(s.File, contents, b) })
		if err == nil {
			err = b.err // the Map recovered our abort panic
		}
		if err != nil {
			b.removeSpills()
			return runFile{}, nil, err
		}
	}
	rf, err := b.finish(out)
	if err != nil {
		return runFile{}, nil, err
	}
	return rf, b.counters.result(), nil
}

// A segmentFile is one map task's segment for a reduce task, in a local
// file.
type segmentFile struct {
	Path string
	Seg  segment
}

// runReduceTask merges the segments of one partition, in order, calls
// Reduce for each key and writes the output lines to out. The caller
// commits out (renames it) if it wants it.
func runReduceTask(env taskEnv, in []segmentFile, out string) (Counters, error) {
	c := taskCounters{progress: env.progress}
	var runs []runFile
	for _, s := range in {
		if s.Seg.Length > 0 {
			runs = append(runs, runFile{Path: s.Path, Segs: []segment{s.Seg}})
		}
	}
	merged, err := mergePasses(runs, 1, filepath.Join(env.scratch, filepath.Base(out)), nil, &c)
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

	readers := make([]*runReader, len(merged))
	for i, r := range merged {
		f, err := os.Open(r.Path)
		if err != nil {
			return nil, fmt.Errorf("mapreduce: reduce: %w", err)
		}
		defer f.Close()
		readers[i] = newRunReader(f, r.Segs[0])
	}
	f, err := os.Create(out)
	if err != nil {
		return nil, fmt.Errorf("mapreduce: reduce: %w", err)
	}
	o := &reduceOut{w: bufio.NewWriterSize(f, writeBufferSize), c: &c, progress: env.progress, done: env.done}
	err = mergeRuns(readers, env.progress, func(key string, n uint64, values iter.Seq[string]) error {
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
	o.progress.step()
	if o.c.reduceOutRecords%checkEvery == 0 {
		o.check()
		if o.err != nil {
			panic(abortPanic{o.err})
		}
	}
}

func (o *reduceOut) Count(counter string, delta int64) {
	o.c.count(counter, delta)
	o.progress.step()
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
