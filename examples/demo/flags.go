package demo

import (
	"flag"
	"time"

	"github.com/distsys-kit/distsys/transport"
)

// FaultFlags adds the flags every example takes for network faults and the
// seed: -drop, -dup, -delay, -jitter, -reorder and -seed, stored into f,
// and -dashboard (DashboardFlag). Check the result with f.Validate after
// parsing.
func FaultFlags(fs *flag.FlagSet, f *transport.Faults) {
	DashboardFlag(fs)
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

// TimeoutFlag adds -timeout, how long a client waits for a reply; 0, the
// default, asks for ReplyTimeout of the faults.
func TimeoutFlag(fs *flag.FlagSet, d *time.Duration) {
	fs.DurationVar(d, "timeout", *d, "how long a client waits for a reply (default 400ms, plus 16 times -delay + -jitter)")
}

// ReplyTimeout returns d, or when d is 0 a timeout that fits a network
// with faults f: 400ms plus 16 times the longest a message takes
// (f.Delay + f.Jitter), so that a retry every timeout/16 gets through.
func ReplyTimeout(d time.Duration, f transport.Faults) time.Duration {
	if d != 0 {
		return d
	}
	return 400*time.Millisecond + 16*(f.Delay+f.Jitter)
}
