package extsort

import (
	"fmt"
	"iter"
	"os"
	"strings"
)

const (
	// groupOverhead and valueOverhead are what a Buffer charges, beyond the
	// bytes of a key or value, for a key's group (the struct, its map
	// entry, its first value slots) and for a value (its string header and
	// slice slot).
	groupOverhead = 160
	valueOverhead = 24

	// firstValues is how many value slots a new group gets from the slab,
	// so that most keys' values need no allocation of their own.
	firstValues = 4

	// combineAt is how many values a key collects before the buffer
	// combines them, when there is a Combiner: a key with many different
	// values stays one small group however often it is emitted.
	combineAt = 32

	// repeatInOneCall is the most copies of a value that repeat hands the
	// Combiner in one call; more are combined by doubling. A call costs
	// about as much as parsing a few hundred values (a word count's
	// Combine allocates for its range loop and for its result), so around
	// here 2·log2(n) calls start to cost less than one call of n values.
	repeatInOneCall = 1024
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
// With a Combiner, a value equal to the one added before it for the same
// key is not stored: the group counts the repeats, and folds them when it
// must, n copies in about 2·log2(n) calls of the Combiner (see repeat). A
// word count that adds ("the", "1") a million times makes one map lookup
// and one comparison per Add, and 40 Combiner calls in all, rather than a
// million values to store and parse.
//
// A Buffer is not safe for concurrent use.
type Buffer struct {
	cfg Config

	groups map[string]*group
	order  []*group // the groups in insertion order
	slab   []group  // groups are allocated from here, many at a time
	vslab  []string // and their first values from here
	slots  int      // how many: firstValues, or 1 with a Combiner, whose groups hold one value
	keys   int      // the most groups held at once
	used   int      // bytes charged for the buffered groups

	cur      []string         // the values being combined
	pair     [2]string        // cur's storage when two values are combined
	seq      iter.Seq[string] // iterates over cur: made once, so a combine allocates nothing
	copies   int              // how many times repeated yields pair[0]
	repeated iter.Seq[string] // yields pair[0] copies times; made once too
	sorted   []*group         // the groups, sorted: see sortGroups
	sortKeys []uint64         // and what sorts them; both reused
	spills   []RunFile
	stats    Stats
	err      error // the first error; sticky
}

// A group is a key and the values buffered for it. With a Combiner, equal
// values added one after the other are a run: the group keeps one of them
// and their number, and folds them into one value when a different value
// comes, or when it is written. run and runLen sit beside the key in the
// group's 64 bytes, so that adding to a run reads one cache line.
type group struct {
	key    string
	values []string // in the order added; with a Combiner, those before the run
	run    string   // with a Combiner: the value of the run
	runLen int32    // and how many times it was added (0: no run)
	part   int32
}

// NewBuffer returns an empty Buffer.
func NewBuffer(cfg Config) *Buffer {
	b := &Buffer{cfg: cfg, groups: make(map[string]*group, cfg.Keys), slots: firstValues}
	if cfg.Combine != nil {
		b.slots = 1
	}
	b.seq = func(yield func(string) bool) {
		for _, v := range b.cur {
			if !yield(v) {
				return
			}
		}
	}
	b.repeated = func(yield func(string) bool) {
		for range b.copies {
			if !yield(b.pair[0]) {
				return
			}
		}
	}
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
	g := b.groups[key]
	if g == nil {
		p := b.cfg.Partition(key)
		if p < 0 || p >= b.cfg.Parts {
			return b.fail(fmt.Errorf("partition function returned %d for key %q, want [0, %d)", p, key, b.cfg.Parts))
		}
		// Keep a copy of the key: keys that point into the input would be
		// scattered over megabytes, and every lookup that compares one
		// would miss the cache (it made two workers barely faster than
		// one); copies sit together. It also lets the input go sooner.
		g = b.newGroup(strings.Clone(key), p)
	}
	switch {
	case b.cfg.Combine == nil:
		g.values = append(g.values, value)
	case g.runLen > 0 && g.run == value:
		g.runLen++ // the common case of a word count: nothing to store
		return nil
	default:
		if err := b.endRun(g); err != nil {
			return b.fail(err)
		}
		g.run, g.runLen = value, 1
	}
	b.used += len(value) + valueOverhead
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

func (b *Buffer) newGroup(key string, part int) *group {
	if len(b.slab) == cap(b.slab) {
		b.slab = make([]group, 0, 256)
		b.vslab = make([]string, 256*b.slots)
	}
	// A full three-index slice: appending past firstValues reallocates,
	// rather than overwrite the next group's slots.
	values := b.vslab[:0:b.slots]
	b.vslab = b.vslab[b.slots:]
	b.slab = append(b.slab, group{key: key, part: int32(part), values: values})
	g := &b.slab[len(b.slab)-1]
	b.groups[key] = g
	b.order = append(b.order, g)
	b.keys = max(b.keys, len(b.order))
	b.used += len(key) + groupOverhead
	return g
}

// endRun folds g's run into one value, appended to g's values, and
// combines the values if there are many.
func (b *Buffer) endRun(g *group) error {
	if g.runLen == 0 {
		return nil
	}
	v := g.run
	if g.runLen > 1 {
		var err error
		if v, err = b.repeat(g.key, g.run, int(g.runLen)); err != nil {
			return err
		}
	}
	b.used += len(v) - len(g.run)
	g.values = append(g.values, v)
	g.run, g.runLen = "", 0
	if len(g.values) >= combineAt {
		return b.combineValues(g)
	}
	return nil
}

// repeat returns what the Combiner makes of n copies of v (n >= 1). A
// few copies go to one call, as a sequence that yields v n times. Many
// copies combine like the binary digits of n, since the Combiner is
// associative and commutative, and a deterministic function of its values:
// with 2v for its result on two copies, 4v for its result on two 2v, and
// so on, 13 copies are v + 4v + 8v. That is at most 2·log2(n) calls, each
// of two values, where one call would parse n values.
func (b *Buffer) repeat(key, v string, n int) (string, error) {
	if n <= repeatInOneCall {
		b.pair[0], b.copies = v, n
		out, err := b.stats.combine(b.cfg.Combine, key, b.repeated, uint64(n))
		b.pair[0] = ""
		return out, err
	}
	var acc string
	for pow, have := v, false; ; {
		if n&1 == 1 {
			if !have {
				acc, have = pow, true
			} else {
				var err error
				if acc, err = b.combine2(key, acc, pow); err != nil {
					return "", err
				}
			}
		}
		if n >>= 1; n == 0 {
			return acc, nil
		}
		var err error
		if pow, err = b.combine2(key, pow, pow); err != nil {
			return "", err
		}
	}
}

// combine2 calls the Combiner on two values.
func (b *Buffer) combine2(key, x, y string) (string, error) {
	b.pair = [2]string{x, y}
	b.cur = b.pair[:]
	v, err := b.stats.combine(b.cfg.Combine, key, b.seq, 2)
	b.cur, b.pair = nil, [2]string{}
	return v, err
}

// combineGroup replaces g's values, and its run, by what the Combiner
// makes of them: one value.
func (b *Buffer) combineGroup(g *group) error {
	if err := b.endRun(g); err != nil {
		return err
	}
	if len(g.values) < 2 {
		return nil
	}
	return b.combineValues(g)
}

// combineValues replaces g's values by what the Combiner makes of them.
func (b *Buffer) combineValues(g *group) error {
	b.cur = g.values
	v, err := b.stats.combine(b.cfg.Combine, g.key, b.seq, uint64(len(g.values)))
	b.cur = nil
	if err != nil {
		return err
	}
	for _, old := range g.values {
		b.used -= len(old) + valueOverhead
	}
	clear(g.values)
	g.values = append(g.values[:0], v)
	b.used += len(v) + valueOverhead
	return nil
}

// spill writes the buffered groups as a new run file and empties the
// buffer. It does nothing if the buffer is empty.
func (b *Buffer) spill() error {
	if len(b.order) == 0 {
		return nil
	}
	path := fmt.Sprintf("%s.spill%d", b.cfg.Prefix, len(b.spills))
	rf, err := b.writeRun(path)
	if err != nil {
		return err
	}
	b.spills = append(b.spills, rf)
	b.stats.Spills++
	clear(b.groups)
	clear(b.order)
	b.order = b.order[:0]
	b.slab, b.vslab = nil, nil
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
		for ; len(sorted) > 0 && sorted[0].part == int32(p); sorted = sorted[1:] {
			g := sorted[0]
			if b.cfg.Combine != nil {
				if err := b.combineGroup(g); err != nil {
					f.Close()
					os.Remove(path)
					return RunFile{}, err
				}
			}
			w.Header(g.key, len(g.values))
			for _, v := range g.values {
				w.Value(v)
			}
		}
		w.EndSegment()
	}
	clear(b.sorted) // let the groups go
	b.sorted = b.sorted[:0]
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
	case len(b.spills) == 0 && len(b.order) == 0:
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
