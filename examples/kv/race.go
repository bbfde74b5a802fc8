package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/distsys-kit/distsys/kv"
)

// racePart shows a compare-and-set conflict step by step: two clients both
// read "cas", the first writes, and the second's write, based on an old
// version, is refused.
func (s *stage) racePart(ctx context.Context, res *result) error {
	const key = "cas"
	a, b := s.clients[0], s.clients[1]
	fmt.Fprintf(s.out, "\n2. %s and %s both add 1 to %q by read-modify-write: KV.Get, then KV.PutIf, which\n", a.name, b.name, key)
	fmt.Fprintln(s.out, "   writes only if the key is still at the version read (0: not there yet).")
	va, verA, err := a.number(ctx, key)
	if err != nil {
		return err
	}
	vb, verB, err := b.number(ctx, key)
	if err != nil {
		return err
	}
	fmt.Fprintf(s.out, "   %s reads %q = %d at version %d; %s reads %q = %d at version %d.\n", a.name, key, va, verA, b.name, key, vb, verB)
	for _, w := range []struct {
		c       *client
		v       int
		version uint64
	}{{a, va, verA}, {b, vb, verB}} {
		got, err := w.c.putIf(ctx, key, w.v+1, w.version)
		switch {
		case err == nil:
			fmt.Fprintf(s.out, "   %s puts %d at version %d: accepted, %q is now at version %d.\n", w.c.name, w.v+1, w.version, key, got)
		case errors.Is(err, kv.ErrConflict):
			res.raceRefused = true
			fmt.Fprintf(s.out, "   %s puts %d at version %d: refused, with the error\n      %v\n", w.c.name, w.v+1, w.version, err)
			fmt.Fprintf(s.out, "   errors.Is(err, kv.ErrConflict) holds on %s, so it reads again and retries.\n", w.c.name)
			if _, err := w.c.increment(ctx, key); err != nil {
				return err
			}
		default:
			return err
		}
	}
	if _, err := s.report(ctx, key, 2); err != nil {
		return err
	}
	fmt.Fprintf(s.out, "   Without the version check, %s would have written %d over %s's %d: an increment lost.\n", b.name, vb+1, a.name, va+1)
	return nil
}

// casPart: every client increments "cas" cfg.n more times by
// read-modify-write with compare-and-set. They race in rounds, so that a
// seed replays the race: in each round, every client with increments left
// reads "cas", then they write in turn, a different one first each round.
// Only the first write of a round finds the version it read.
func (s *stage) casPart(ctx context.Context, res *result) error {
	const key = "cas"
	fmt.Fprintf(s.out, "\n3. Each client increments %q %d more times the same way. They race in rounds: in each round,\n", key, s.cfg.n)
	fmt.Fprintln(s.out, "   every client with increments left reads, then each writes, a different one first each round.")
	start, _, err := s.clients[0].number(ctx, key)
	if err != nil {
		return err
	}
	before := s.store.Stats().Conflicts
	left := make([]int, len(s.clients))
	for i := range left {
		left[i] = s.cfg.n
	}
	for round := 0; ; round++ {
		type read struct {
			c       *client
			i, v    int
			version uint64
		}
		var reads []read
		for k := range s.clients {
			i := (round + k) % len(s.clients) // a different client first each round
			if left[i] == 0 {
				continue
			}
			v, version, err := s.clients[i].number(ctx, key)
			if err != nil {
				return err
			}
			reads = append(reads, read{s.clients[i], i, v, version})
		}
		if len(reads) == 0 {
			break
		}
		for _, r := range reads {
			_, err := r.c.putIf(ctx, key, r.v+1, r.version)
			switch {
			case err == nil:
				left[r.i]--
			case !errors.Is(err, kv.ErrConflict):
				return err
			}
		}
	}
	res.wantCAS = start + s.cfg.clients*s.cfg.n
	if res.cas, err = s.report(ctx, key, res.wantCAS); err != nil {
		return err
	}
	res.refused = s.store.Stats().Conflicts - before
	fmt.Fprintf(s.out, "   %d KV.PutIfs were refused because the version had changed: the writer read again and retried.\n", res.refused)
	return nil
}

// increment adds one to key by read-modify-write, reading again after
// every refusal. It returns how many times the server refused its write.
func (c *client) increment(ctx context.Context, key string) (refused int, err error) {
	for {
		v, version, err := c.number(ctx, key)
		if err != nil {
			return refused, err
		}
		_, err = c.putIf(ctx, key, v+1, version)
		if !errors.Is(err, kv.ErrConflict) {
			return refused, err
		}
		refused++
	}
}

// report waits for late copies of requests to be run, then prints a key's
// value, read on the server, against the expected one, and returns it.
func (s *stage) report(ctx context.Context, key string, want int) (int, error) {
	if err := s.settle(ctx); err != nil {
		return 0, err
	}
	var got int
	if e, err := s.store.Get(key); err == nil {
		fmt.Sscan(e.Value, &got)
	}
	switch {
	case got == want:
		fmt.Fprintf(s.out, "   %q = %d, expected %d: exact.\n", key, got, want)
	case got > want:
		fmt.Fprintf(s.out, "   %q = %d, expected %d: WRONG, %s too many.\n", key, got, want, increments(got-want))
	default:
		fmt.Fprintf(s.out, "   %q = %d, expected %d: WRONG, %s lost.\n", key, got, want, increments(want-got))
	}
	return got, nil
}

// increments says "1 increment" or "n increments".
func increments(n int) string {
	if n == 1 {
		return "1 increment"
	}
	return fmt.Sprintf("%d increments", n)
}
