package extsort

import (
	"fmt"
	"os"
	"strings"
)

const (
	// groupOverhead and valueOverhead are what a Buffer charges, beyond the
	// bytes of a key or value, for a key's group (the struct, its map
	// entry, its count) and for a value (its string header and slice
	// slot).
	groupOverhead = 128
	valueOverhead = 24
)

// Config describes a Buffer.
type Config struct {
	Parts     int              // partitions: the segments of every run file
	Partition func(string) int // the partition of a key, in [0, Parts)
	Combine   Combiner         // optional
	Limit     int              // bytes buffered before a spill
	Prefix    string           // spill files are Prefix.spill0, Prefix.spill1, ...
	Progress  Progress         // steps of the final merge; may be nil
	Keys      int              // how many distinct keys to expect, if known: the map starts that big
}

// A Buffer collects a map task's output. It groups the values added by
// key in memory, combining them if there is a Combiner, and when the
// buffered bytes reach the limit it spills them: sorts the keys by
// (partition, key) and writes them as one run file with a segment per
// partition. Finish merges the spills into the task's output file. Memory
// stays near the limit, whatever the size of the input.
//
// With a Combiner, the order of a key's values does not matter (the
// Combiner is commutative), and the Buffer takes advantage of the common
// case of a job that adds one value over and over, like a word count's
// "1". The first value added is the buffer's common value; for it, a group
// keeps only a count, in an array of counts apart from the groups. Adding
// the common value is a map lookup and an increment of 8 bytes that sit
// near the counts of the other frequent keys, as cheap as a hand-written
// count; the copies are combined when the group is written (see repeat).
// Other values are stored, and combined a few dozen at a time.
//
// A Buffer is not safe for concurrent use.
type Buffer struct {
	cfg Config

	index     map[string]int32 // key → its group's number
	groups    []group          // the groups, in the order their keys came
	common    string           // with a Combiner: the first value added
	hasCommon bool
	counts    []int64         // with a Combiner: by group, how many times common was added
	keys      int             // the most groups held at once
	keyBlock  strings.Builder // where keys are kept: see keep
	used      int             // bytes charged for the buffered groups

	comb     combining // the Combiner's calls
	sorted   []int32   // group numbers in the order of a run file: see sortGroups
	sortKeys []uint64  // what sorts them; both reused
	spills   []RunFile
	stats    Stats
	err      error // the first error; sticky
}

// A group is a key and the values stored for it.
type group struct {
	key    string
	values []string // in the order added; with a Combiner, those not common
	part   int32
}

// NewBuffer returns an empty Buffer.
func NewBuffer(cfg Config) *Buffer {
	b := &Buffer{cfg: cfg, index: make(map[string]int32, cfg.Keys), groups: make([]group, 0, cfg.Keys)}
	b.comb.init()
	return b
}

// Keys returns the most distinct keys the Buffer has held at once: a good
// Config.Keys for the next Buffer of the same job.
func (b *Buffer) Keys() int { return b.keys }

// Stats returns what the Buffer has done so far.
func (b *Buffer) Stats() Stats { return b.stats }

// Add buffers one pair. It fails if the partition function puts key out of
// range, or a spill fails; after an error, every Add returns it.
func (b *Buffer) Add(key, value string) error {
	if b.err != nil {
		return b.err
	}
	i, ok := b.index[key]
	if !ok {
		var err error
		if i, err = b.newGroup(key, value); err != nil {
			return b.fail(err)
		}
	}
	if b.cfg.Combine != nil && value == b.common {
		b.counts[i]++ // a word count's every Add
		return nil
	}
	g := &b.groups[i]
	g.values = append(g.values, value)
	b.used += len(value) + valueOverhead
	if b.cfg.Combine != nil && len(g.values) >= combineAt {
		if err := b.combineValues(g); err != nil {
			return b.fail(err)
		}
	}
	if b.used >= b.cfg.Limit {
		if err := b.spill(); err != nil {
			return b.fail(err)
		}
	}
	return nil
}

func (b *Buffer) fail(err error) error {
	if b.err == nil {
		b.err = err
	}
	return b.err
}

// newGroup starts a group for key, whose first value is value, and
// returns its number.
func (b *Buffer) newGroup(key, value string) (int32, error) {
	p := b.cfg.Partition(key)
	if p < 0 || p >= b.cfg.Parts {
		return 0, fmt.Errorf("partition function returned %d for key %q, want [0, %d)", p, key, b.cfg.Parts)
	}
	if b.cfg.Combine != nil && !b.hasCommon {
		b.common, b.hasCommon = strings.Clone(value), true
	}
	// Keep a copy of the key: keys that point into the input would be
	// scattered over megabytes, and every lookup that compares one would
	// miss the cache (it made two workers barely faster than one); copies
	// sit together. It also lets the input go sooner.
	key = b.keep(key)
	i := int32(len(b.groups))
	b.groups = append(b.groups, group{key: key, part: int32(p)})
	if b.cfg.Combine != nil {
		b.counts = append(b.counts, 0)
	}
	b.index[key] = i
	b.keys = max(b.keys, len(b.groups))
	b.used += len(key) + groupOverhead
	return i, nil
}

// keyChunk is the size of the blocks keys are copied into.
const keyChunk = 64 << 10

// keep returns a copy of key, in b.keyBlock's current block: one allocation
// per block rather than per key, which were over a quarter of a word
// count's allocations (BenchmarkWordCount: 61 allocs/kword instead of 85).
// A strings.Builder only ever appends, so the strings it has returned stay
// as they are; when the block is full, a new one starts, and the old one
// lives on as long as a key in it does.
func (b *Buffer) keep(key string) string {
	if b.keyBlock.Cap()-b.keyBlock.Len() < len(key) {
		b.keyBlock.Reset()
		b.keyBlock.Grow(max(keyChunk, len(key)))
	}
	b.keyBlock.WriteString(key)
	all := b.keyBlock.String()
	return all[len(all)-len(key):]
}

// spill writes the buffered groups as a new run file and empties the
// buffer. It does nothing if the buffer is empty.
func (b *Buffer) spill() error {
	if len(b.groups) == 0 {
		return nil
	}
	path := fmt.Sprintf("%s.spill%d", b.cfg.Prefix, len(b.spills))
	rf, err := b.writeRun(path)
	if err != nil {
		return err
	}
	b.spills = append(b.spills, rf)
	b.stats.Spills++
	clear(b.index)
	clear(b.groups)
	b.keyBlock.Reset() // the keys of the next spill need not keep these alive
	b.groups = b.groups[:0]
	b.counts = b.counts[:0]
	b.used = 0
	return nil
}

// writeRun sorts the buffered groups and writes them to path.
func (b *Buffer) writeRun(path string) (RunFile, error) {
	f, err := os.Create(path)
	if err != nil {
		return RunFile{}, fmt.Errorf("mapreduce: spill: %w", err)
	}
	w := NewWriter(f)
	sorted := b.sortGroups()
	for p := range b.cfg.Parts {
		for ; len(sorted) > 0 && b.groups[sorted[0]].part == int32(p); sorted = sorted[1:] {
			g := &b.groups[sorted[0]]
			if b.cfg.Combine == nil {
				w.Header(g.key, len(g.values))
				for _, v := range g.values {
					w.Value(v)
				}
				continue
			}
			v, err := b.combined(g, sorted[0])
			if err != nil {
				f.Close()
				os.Remove(path)
				return RunFile{}, err
			}
			w.Header(g.key, 1)
			w.Value(v)
		}
		w.EndSegment()
	}
	segs, err := w.Finish()
	if cerr := f.Close(); err == nil && cerr != nil {
		err = fmt.Errorf("mapreduce: spill: %w", cerr)
	}
	if err != nil {
		os.Remove(path)
		return RunFile{}, err
	}
	return RunFile{Path: path, Segs: segs}, nil
}

// Finish writes the buffer's output to path (through a temporary name, so
// path is complete or absent) and deletes the spills. A buffer that got
// nothing has no file: its RunFile has an empty Path and empty segments.
func (b *Buffer) Finish(path string) (RunFile, error) {
	defer b.Discard()
	if b.err != nil {
		return RunFile{}, b.err
	}
	switch {
	case len(b.spills) == 0 && len(b.groups) == 0:
		return RunFile{Segs: make([]Segment, b.cfg.Parts)}, nil
	case len(b.spills) == 0:
		// Everything fits in memory: one sorted run is the output.
		b.stats.Spills++
		rf, err := b.writeRun(path + ".tmp")
		if err != nil {
			return RunFile{}, err
		}
		if err := os.Rename(rf.Path, path); err != nil {
			os.Remove(rf.Path)
			return RunFile{}, fmt.Errorf("mapreduce: map output: %w", err)
		}
		rf.Path = path
		return rf, nil
	}
	if err := b.spill(); err != nil {
		return RunFile{}, err
	}
	runs, err := MergePasses(b.spills, b.cfg.Parts, b.cfg.Prefix, b.cfg.Combine, &b.stats, b.cfg.Progress)
	if err != nil {
		return RunFile{}, err
	}
	defer func() {
		for _, r := range runs {
			os.Remove(r.Path)
		}
	}()
	return MergeFiles(runs, b.cfg.Parts, path, b.cfg.Combine, &b.stats, b.cfg.Progress)
}

// Discard deletes the spills, for a task that gave up. Finish calls it.
func (b *Buffer) Discard() {
	for _, s := range b.spills {
		os.Remove(s.Path)
	}
	b.spills = nil
}
