package kv

import "math"

// Defaults for the fields of Limits that are zero.
const (
	// DefaultMaxKeyLen is the longest key a server accepts, in bytes.
	DefaultMaxKeyLen = 1 << 10
	// DefaultMaxValueLen is the longest value a server keeps, in bytes.
	DefaultMaxValueLen = 1 << 20
	// DefaultMaxKeys is how many keys a server's store holds at most.
	DefaultMaxKeys = 1 << 20
	// DefaultMaxBytes is how many bytes of keys and values a server's
	// store holds at most.
	DefaultMaxBytes = 256 << 20
)

// Limits bound what the clients of a server can make its Store hold, so
// that no client, broken or hostile, can make the server use unbounded
// memory. A write that would go over a limit is refused, changes nothing,
// and returns a *LimitError: matching ErrTooLarge for a key or value too
// long, ErrFull for a store that would hold too many keys or bytes.
// Writes that do not grow the store (an existing key, a value no longer
// than before) are never refused for being full.
//
// Zero in a field means its default (DefaultMaxKeyLen, ...); a negative
// value means no bound.
type Limits struct {
	MaxKeyLen   int   // the longest key, in bytes
	MaxValueLen int   // the longest value, in bytes, after the write (an Append counts the whole value)
	MaxKeys     int   // how many keys the store holds
	MaxBytes    int64 // how many bytes the store's keys and values take, summed
}

// withDefaults returns l with zero fields set to their defaults and
// negative ones to no bound.
func (l Limits) withDefaults() Limits {
	return Limits{
		MaxKeyLen:   bound(l.MaxKeyLen, DefaultMaxKeyLen, math.MaxInt),
		MaxValueLen: bound(l.MaxValueLen, DefaultMaxValueLen, math.MaxInt),
		MaxKeys:     bound(l.MaxKeys, DefaultMaxKeys, math.MaxInt),
		MaxBytes:    bound(l.MaxBytes, DefaultMaxBytes, math.MaxInt64),
	}
}

func bound[T int | int64](v, def, none T) T {
	switch {
	case v == 0:
		return def
	case v < 0:
		return none
	}
	return v
}

// noLimits are the limits of Store's own methods, called by a program
// that trusts itself: none.
func noLimits() Limits { return Limits{-1, -1, -1, -1}.withDefaults() }

// check returns a *LimitError if setting key, now at old (exists says
// whether it is there at all), to value would break l in a store that
// holds u.
func (l Limits) check(key, value string, old Entry, exists bool, u Usage) error {
	keys, grow := u.Keys, int64(len(value)-len(old.Value))
	if !exists {
		keys++
		grow += int64(len(key))
	}
	switch {
	case len(key) > l.MaxKeyLen:
		return &LimitError{Limit: "MaxKeyLen", Max: int64(l.MaxKeyLen), Got: int64(len(key))}
	case len(value) > l.MaxValueLen:
		return &LimitError{Limit: "MaxValueLen", Max: int64(l.MaxValueLen), Got: int64(len(value))}
	case !exists && keys > l.MaxKeys:
		return &LimitError{Limit: "MaxKeys", Max: int64(l.MaxKeys), Got: int64(keys)}
	case grow > 0 && u.Bytes+grow > l.MaxBytes:
		return &LimitError{Limit: "MaxBytes", Max: l.MaxBytes, Got: u.Bytes + grow}
	}
	return nil
}

// Option configures Register.
type Option interface{ apply(*service) }

type optionFunc func(*service)

func (f optionFunc) apply(v *service) { f(v) }

// WithLimits makes the server refuse writes that would go over l (see
// Limits). Without it, the server has the default limits.
func WithLimits(l Limits) Option {
	return optionFunc(func(v *service) { v.lim = l.withDefaults() })
}
