package transport

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// DefaultReorderDelay is how long a message picked for reordering is held
// back when Faults.ReorderDelay is zero.
const DefaultReorderDelay = 5 * time.Millisecond

// Faults describes what an imperfect network does to messages. It is a
// plain value: keep one per connection, link or test, and change it without
// touching anybody else's. The zero value is a perfect network.
//
// Probabilities are per message (per copy, for a duplicated message) and
// must lie in [0, 1]; durations must not be negative.
//
// The same Faults applies to a message Conn (NewFaultyConn), to a UDP
// socket (NewFaultyPacketConn) and to a simulated link (package netsim).
type Faults struct {
	// Drop is the probability that a message is lost.
	Drop float64
	// Duplicate is the probability that a message is delivered twice. The
	// copy has its own delay, so it may arrive before the original.
	Duplicate float64
	// Delay is added to the delivery time of every message.
	Delay time.Duration
	// Jitter adds a random delay, uniform in [0, Jitter), to every
	// message; with it, messages can overtake each other.
	Jitter time.Duration
	// Reorder is the probability that a message is held back an extra
	// ReorderDelay, so that messages sent after it arrive first.
	Reorder float64
	// ReorderDelay is how long a reordered message is held back; zero
	// means DefaultReorderDelay.
	ReorderDelay time.Duration
	// Corrupt is the probability that one byte of a message is changed.
	Corrupt float64
	// Truncate is the probability that a message is cut short, to a length
	// chosen uniformly in [0, len).
	Truncate float64
	// Seed seeds the fault wrappers' random choices: the same seed and the
	// same sequence of sends give the same decisions. (The simulator uses
	// its network's seed instead.)
	Seed int64
}

// Validate reports whether f is well formed: every probability in [0, 1],
// no negative duration. The error matches ErrInvalidFaults and names the
// field.
func (f Faults) Validate() error {
	probs := []struct {
		name string
		p    float64
	}{
		{"Drop", f.Drop}, {"Duplicate", f.Duplicate}, {"Reorder", f.Reorder},
		{"Corrupt", f.Corrupt}, {"Truncate", f.Truncate},
	}
	for _, p := range probs {
		if !(p.p >= 0 && p.p <= 1) { // also catches NaN
			return fmt.Errorf("%w: %s = %v, want a probability in [0, 1]", ErrInvalidFaults, p.name, p.p)
		}
	}
	durs := []struct {
		name string
		d    time.Duration
	}{{"Delay", f.Delay}, {"Jitter", f.Jitter}, {"ReorderDelay", f.ReorderDelay}}
	for _, d := range durs {
		if d.d < 0 {
			return fmt.Errorf("%w: %s = %v, want a duration >= 0", ErrInvalidFaults, d.name, d.d)
		}
	}
	return nil
}

// IsZero reports whether f does nothing to messages.
func (f Faults) IsZero() bool {
	f.Seed = 0
	return f == Faults{}
}

// String describes the faults in words, for logs and demos:
// "drop 20%, duplicate 10%, delay 50ms".
func (f Faults) String() string {
	var parts []string
	pct := func(name string, p float64) {
		if p > 0 {
			parts = append(parts, fmt.Sprintf("%s %g%%", name, p*100))
		}
	}
	pct("drop", f.Drop)
	pct("duplicate", f.Duplicate)
	if f.Delay > 0 {
		parts = append(parts, "delay "+f.Delay.String())
	}
	if f.Jitter > 0 {
		parts = append(parts, "jitter "+f.Jitter.String())
	}
	pct("reorder", f.Reorder)
	pct("corrupt", f.Corrupt)
	pct("truncate", f.Truncate)
	if len(parts) == 0 {
		return "no faults"
	}
	return strings.Join(parts, ", ")
}

// NewRand returns the random source a wrapper uses for f: a PCG generator
// seeded from f.Seed.
func (f Faults) NewRand() *rand.Rand {
	return rand.New(rand.NewPCG(uint64(f.Seed), 0x5eed_d157_5e75))
}

// A Delivery is one copy of a message that the faults let through: what
// arrives and how long after it was sent.
type Delivery struct {
	Msg   []byte        // the bytes that arrive; shares memory with the sent message unless changed
	Delay time.Duration // how long after the send it arrives

	Duplicate bool // this is the extra copy of a duplicated message
	Reordered bool // held back an extra ReorderDelay
	Corrupted bool // one byte was changed
	Truncated bool // cut short
}

// Plan decides what the faults do to one message, taking every random
// choice from r. It returns the copies that arrive: none if the message is
// dropped, two if it is duplicated. Plan never modifies msg; a corrupted
// copy is a new slice. Callers that keep a Delivery's Msg past the send
// must copy it.
func (f Faults) Plan(r *rand.Rand, msg []byte) []Delivery {
	if f.Drop > 0 && r.Float64() < f.Drop {
		return nil
	}
	copies := 1
	if f.Duplicate > 0 && r.Float64() < f.Duplicate {
		copies = 2
	}
	ds := make([]Delivery, copies)
	for i := range ds {
		ds[i] = f.planCopy(r, msg)
		ds[i].Duplicate = i > 0
	}
	return ds
}

func (f Faults) planCopy(r *rand.Rand, msg []byte) Delivery {
	d := Delivery{Msg: msg, Delay: f.Delay}
	if f.Jitter > 0 {
		d.Delay += time.Duration(r.Int64N(int64(f.Jitter)))
	}
	if f.Reorder > 0 && r.Float64() < f.Reorder {
		d.Reordered = true
		if f.ReorderDelay > 0 {
			d.Delay += f.ReorderDelay
		} else {
			d.Delay += DefaultReorderDelay
		}
	}
	if f.Corrupt > 0 && len(msg) > 0 && r.Float64() < f.Corrupt {
		d.Msg = append([]byte(nil), msg...)
		d.Msg[r.IntN(len(msg))] ^= byte(1 + r.IntN(255)) // never XOR with 0: the byte really changes
		d.Corrupted = true
	}
	if f.Truncate > 0 && len(d.Msg) > 0 && r.Float64() < f.Truncate {
		d.Msg = d.Msg[:r.IntN(len(d.Msg))]
		d.Truncated = true
	}
	return d
}

// FaultStats counts what faults did to the messages offered to them, so a
// test can check that its faults really hit instead of passing by luck.
type FaultStats struct {
	Messages   int64 // messages offered
	Delivered  int64 // copies let through (duplicates count twice)
	Dropped    int64 // messages lost
	Duplicated int64 // messages delivered twice
	Delayed    int64 // copies delivered with a delay > 0
	Reordered  int64 // copies held back to be overtaken
	Corrupted  int64 // copies with a changed byte
	Truncated  int64 // copies cut short
}

// Record counts the outcome of one Plan.
func (s *FaultStats) Record(ds []Delivery) {
	s.Messages++
	if len(ds) == 0 {
		s.Dropped++
		return
	}
	if len(ds) > 1 {
		s.Duplicated++
	}
	for _, d := range ds {
		s.Delivered++
		if d.Delay > 0 {
			s.Delayed++
		}
		if d.Reordered {
			s.Reordered++
		}
		if d.Corrupted {
			s.Corrupted++
		}
		if d.Truncated {
			s.Truncated++
		}
	}
}
