package demo

import (
	"flag"

	"github.com/distsys-kit/distsys/transport"
)

// FaultFlags adds the flags every example takes for network faults and the
// seed: -drop, -dup, -delay, -jitter, -reorder and -seed, stored into f.
// Check the result with f.Validate after parsing.
func FaultFlags(fs *flag.FlagSet, f *transport.Faults) {
	fs.Float64Var(&f.Drop, "drop", f.Drop, "probability that a message is lost")
	fs.Float64Var(&f.Duplicate, "dup", f.Duplicate, "probability that a message is delivered twice")
	fs.DurationVar(&f.Delay, "delay", f.Delay, "delay added to every message")
	fs.DurationVar(&f.Jitter, "jitter", f.Jitter, "random extra delay, up to this, so messages overtake each other")
	fs.Float64Var(&f.Reorder, "reorder", f.Reorder, "probability that a message is held back so later ones overtake it")
	SeedFlag(fs, &f.Seed)
}

// SeedFlag adds -seed, for examples whose randomness is not only the
// network's.
func SeedFlag(fs *flag.FlagSet, seed *int64) {
	if *seed == 0 {
		*seed = 1
	}
	fs.Int64Var(seed, "seed", *seed, "seed of every random choice: the same seed replays the same run")
}
