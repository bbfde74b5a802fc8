package extsort

import "iter"

const (
	// combineAt is how many stored values a key collects before the
	// buffer combines them, when there is a Combiner: a key with many
	// different values stays one small group however often it is added.
	combineAt = 32

	// repeatInOneCall is the most copies of a value that repeat hands the
	// Combiner in one call; more are combined by doubling. A call costs
	// about as much as parsing a few hundred values (a word count's
	// Combine allocates for its range loop and for its result), so around
	// here 2·log2(n) calls start to cost less than one call of n values.
	repeatInOneCall = 1024
)

// combining holds what a Buffer passes to its Combiner, so that a call
// allocates nothing: the values, as a slice or as one value and a number
// of copies, and the iterators over them, made once.
type combining struct {
	values   []string         // what seq yields
	pair     [2]string        // values' storage for two; pair[0] is what repeated yields
	copies   int              // how many times repeated yields it
	seq      iter.Seq[string] // yields values
	repeated iter.Seq[string] // yields pair[0], copies times
}

func (c *combining) init() {
	c.seq = func(yield func(string) bool) {
		for _, v := range c.values {
			if !yield(v) {
				return
			}
		}
	}
	c.repeated = func(yield func(string) bool) {
		for range c.copies {
			if !yield(c.pair[0]) {
				return
			}
		}
	}
}

// combined returns what the Combiner makes of the values of g, number i,
// and its copies of the common value: the one value a run file holds for
// g's key.
func (b *Buffer) combined(g *group, i int32) (string, error) {
	if n := b.counts[i]; n > 0 {
		v, err := b.repeat(g.key, b.common, int(n))
		if err != nil || len(g.values) == 0 {
			return v, err // a word count's every key: no slice to make
		}
		g.values = append(g.values, v)
		b.counts[i] = 0
	}
	if len(g.values) > 1 {
		if err := b.combineValues(g); err != nil {
			return "", err
		}
	}
	return g.values[0], nil
}

// combineValues replaces g's values by what the Combiner makes of them.
func (b *Buffer) combineValues(g *group) error {
	b.comb.values = g.values
	v, err := b.stats.combine(b.cfg.Combine, g.key, b.comb.seq, uint64(len(g.values)))
	b.comb.values = nil
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

// repeat returns what the Combiner makes of n copies of v (n >= 1): v
// itself for one copy; a few hundred go to one call, as a sequence that
// yields v n times. More copies combine like the binary digits of n, since
// the Combiner is associative and commutative, and a deterministic
// function of its values: with 2v for its result on two copies, 4v for its
// result on two 2v, and so on, 13 copies are v + 4v + 8v. That is at most
// 2·log2(n) calls, each of two values, where one call would parse n
// values.
func (b *Buffer) repeat(key, v string, n int) (string, error) {
	switch {
	case n == 1:
		return v, nil
	case n <= repeatInOneCall:
		b.comb.pair[0], b.comb.copies = v, n
		out, err := b.stats.combine(b.cfg.Combine, key, b.comb.repeated, uint64(n))
		b.comb.pair[0] = ""
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
	b.comb.pair = [2]string{x, y}
	b.comb.values = b.comb.pair[:]
	v, err := b.stats.combine(b.cfg.Combine, key, b.comb.seq, 2)
	b.comb.values, b.comb.pair = nil, [2]string{}
	return v, err
}
