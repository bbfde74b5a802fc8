package extsort

import (
	"math/bits"
	"slices"
	"strings"
)

// sortGroups returns the numbers of the buffered groups sorted by
// partition, then by key, byte-wise, as a run file wants them. The slice is
// reused by the next call.
//
// This is the hot spot of a spill: a word count's map task sorts tens of
// thousands of keys, and comparing strings through pointers, each a likely
// cache miss, is slow. So each group becomes one integer, its partition,
// then the first bytes of its key, then its number:
//
//	partition 1, key "cat", group 5       ─►  1 │ 'c' 'a' 't' 0 0 │ 5
//	partition 1, key "catalog", group 9   ─►  1 │ 'c' 'a' 't' 'a' 'l' │ 9
//
// and slices.Sort sorts the integers, a tight loop over one array. Keys
// whose first bytes are equal ("catalog" and "catalyst") come out side by
// side, and only those are compared in full.
func (b *Buffer) sortGroups() []int32 {
	idxBits := bits.Len(uint(len(b.groups)))
	partBits := bits.Len(uint(b.cfg.Parts - 1))
	prefixBytes := (64 - idxBits - partBits) / 8 // 5 for up to 64 partitions and 64k groups
	b.sortKeys = b.sortKeys[:0]
	for i, g := range b.groups {
		k := uint64(g.part)<<(8*prefixBytes) | keyPrefix(g.key, prefixBytes)
		b.sortKeys = append(b.sortKeys, k<<idxBits|uint64(i))
	}
	slices.Sort(b.sortKeys)
	b.sorted = b.sorted[:0]
	for _, k := range b.sortKeys {
		b.sorted = append(b.sorted, int32(k&(1<<idxBits-1)))
	}
	// Break the ties between keys that share their prefix.
	for i := 0; i < len(b.sortKeys); {
		j := i + 1
		for j < len(b.sortKeys) && b.sortKeys[j]>>idxBits == b.sortKeys[i]>>idxBits {
			j++
		}
		if j-i > 1 {
			slices.SortFunc(b.sorted[i:j], func(x, y int32) int { return strings.Compare(b.groups[x].key, b.groups[y].key) })
		}
		i = j
	}
	return b.sorted
}

// keyPrefix returns the first n bytes of key (n <= 8) as a big-endian
// number, padded with zeros. Keys whose prefixes differ are in the order
// of their prefixes; keys whose prefixes are equal need comparing in full
// (a shorter key is padded with zeros, so "a" and "a\x00" tie).
func keyPrefix(key string, n int) uint64 {
	var p uint64
	for i := range n {
		p <<= 8
		if i < len(key) {
			p |= uint64(key[i])
		}
	}
	return p
}
