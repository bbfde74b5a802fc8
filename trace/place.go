package trace

import (
	"fmt"
	"slices"
	"time"
)

// The two views place events differently along time (down the page); both
// keep each node's events in the order recorded, and a receive below the
// send or resend it is drawn from.
//
// The causal view puts events in rows: each one row below the previous
// event of its node and, for a receive, below its send; events on
// different nodes share rows when causality allows. A change of the network
// (a mark) takes a row of its own below everything recorded before it, and
// everything recorded after it goes below: the marks are the instructor's
// actions, and the picture must not move events across them. Crashes and
// restarts, the instructor's too, do the same.
//
// The timed view places events by the time they were recorded, in
// proportion, and cuts long idle stretches short (the axis says by how
// much). Where events are too close to
// tell apart, it pushes the later ones down, and everything after with
// them, so that the alignment across nodes stays true.

// attempts holds, for each message, the index of its latest send or
// resend seen so far.
type attempts map[MessageID]int

// before returns the index of m's latest send or resend so far, or -1.
func (a attempts) before(m MessageID) int {
	if i, ok := a[m]; ok {
		return i
	}
	return -1
}

// causalY returns the y of every shown event of the causal view (-1 for
// events drawn elsewhere: hidden ones and drops) and the height used.
func causalY(events []Event, show []bool) (y []int, bottom int) {
	y = make([]int, len(events))
	rowY := func(row int) int { return marginTop + row*rowGap }
	lastRow := map[string]int{}
	maxRow, barrier := 0, 0
	sent := attempts{}
	for i, e := range events {
		y[i] = -1
		if !show[i] || e.Kind == KindDrop {
			continue
		}
		row := 0
		switch {
		case e.Kind.network():
			row = maxRow + 1
			barrier = row
		case e.Kind == KindCrash || e.Kind == KindRestart:
			row = maxRow + 1
			barrier = row
			lastRow[e.Node] = row
		default:
			row = max(lastRow[e.Node], barrier) + 1
			if m, ok := e.Message(); ok && (e.Kind == KindReceive || e.Kind == KindDuplicate) {
				if s := sent.before(m); s >= 0 {
					row = max(row, (y[s]-marginTop)/rowGap+1)
				}
			}
			lastRow[e.Node] = row
		}
		if e.Kind == KindSend || e.Kind == KindResend {
			m, _ := e.Message()
			sent[m] = i
		}
		y[i] = rowY(row)
		maxRow = max(maxRow, row)
	}
	return y, rowY(maxRow + 1)
}

// The timed view's spacing.
const (
	minLaneStep  = 18 // between two events of one node
	minArrowDrop = 14 // from a send down to its receive
	maxIdle      = 4 * rowGap
)

// tick is a label of the timed view's time axis.
type tick struct {
	y    int
	text string
}

// timedY is causalY for the timed view. ok is false if some shown event
// has no time (a trace read from an old file), and the view is left out.
func timedY(events []Event, show []bool) (y []int, bottom int, ticks []tick, ok bool) {
	var times []time.Time
	for i, e := range events {
		if show[i] {
			if e.Time.IsZero() {
				return nil, 0, nil, false
			}
			times = append(times, e.Time)
		}
	}
	scale := newTimeScale(times)
	y = make([]int, len(events))
	lastY := map[string]int{}
	sent := attempts{}
	offset, lowest, lastTick := 0, 0, -1000
	floor := 0 // events recorded after a mark go below it
	for i, e := range events {
		y[i] = -1
		if !show[i] {
			continue
		}
		base := scale.y(e.Time)
		at := max(base+offset, floor)
		if e.Kind.process() || e.Kind == KindDuplicate {
			if last, ok := lastY[e.Node]; ok {
				at = max(at, last+minLaneStep)
			}
			if m, ok := e.Message(); ok && (e.Kind == KindReceive || e.Kind == KindDuplicate) {
				if s := sent.before(m); s >= 0 {
					at = max(at, y[s]+minArrowDrop)
				}
			}
			lastY[e.Node] = at
		}
		if e.Kind.network() || e.Kind == KindCrash || e.Kind == KindRestart {
			at = max(at, lowest+minArrowDrop/2) // after what was recorded before it
			floor = at + minArrowDrop/2
		}
		if e.Kind == KindSend || e.Kind == KindResend {
			m, _ := e.Message()
			sent[m] = i
		}
		offset = max(offset, at-base)
		y[i] = at
		lowest = max(lowest, at)
		if idle, ok := scale.cutBefore[base]; ok {
			delete(scale.cutBefore, base) // one note per cut
			ticks = append(ticks, tick{at - maxIdle/2, "⋮ " + roundDuration(idle) + " idle"})
		}
		if at-lastTick >= 3*rowGap {
			ticks = append(ticks, tick{at, "+" + roundDuration(e.Time.Sub(times[0]))})
			lastTick = at
		}
	}
	return y, lowest + rowGap, ticks, true
}

// timeScale maps times to y, in proportion, but cuts idle stretches short.
type timeScale struct {
	times     []time.Time // distinct, in order
	ys        []int
	cutBefore map[int]time.Duration // y after a cut gap -> the gap's length
}

func newTimeScale(times []time.Time) timeScale {
	ts := slices.Clone(times)
	slices.SortFunc(ts, func(a, b time.Time) int { return a.Compare(b) })
	ts = slices.CompactFunc(ts, func(a, b time.Time) bool { return a.Equal(b) })
	s := timeScale{times: ts, cutBefore: map[int]time.Duration{}}
	if len(ts) < 2 {
		for range ts {
			s.ys = append(s.ys, marginTop)
		}
		return s
	}
	// A gap longer than a quarter of the run, and much longer than most,
	// is idle time: it is cut short. The rest of the run gets about two
	// thirds of a row per distinct time, so that bursts are pushed apart
	// a little and the gaps between them show.
	span := ts[len(ts)-1].Sub(ts[0])
	gaps := make([]time.Duration, len(ts)-1)
	for i := range gaps {
		gaps[i] = ts[i+1].Sub(ts[i])
	}
	sorted := slices.Sorted(slices.Values(gaps))
	typical := sorted[(len(sorted)-1)/2]
	idle := func(gap time.Duration) bool { return gap > span/4 && gap > 5*typical }
	busy := span
	for _, g := range gaps {
		if idle(g) {
			busy -= g
		}
	}
	perSec := float64(len(ts)) * rowGap * 2 / 3 / max(busy.Seconds(), 1e-9)
	y := float64(marginTop)
	s.ys = append(s.ys, marginTop)
	for _, gap := range gaps {
		dy := min(gap.Seconds()*perSec, maxIdle)
		if idle(gap) {
			dy = maxIdle
		}
		y += dy
		s.ys = append(s.ys, int(y))
		if idle(gap) {
			s.cutBefore[int(y)] = gap
		}
	}
	return s
}

// y returns the y of t, which must be one of the scale's times.
func (s timeScale) y(t time.Time) int {
	i, _ := slices.BinarySearchFunc(s.times, t, func(a, b time.Time) int { return a.Compare(b) })
	if i >= len(s.ys) {
		return marginTop
	}
	return s.ys[i]
}

// roundDuration writes d for the time axis: "0s", "12ms", "1.25s".
func roundDuration(d time.Duration) string {
	switch {
	case d >= 10*time.Second:
		return d.Round(100 * time.Millisecond).String()
	case d >= time.Second:
		return d.Round(10 * time.Millisecond).String()
	case d >= time.Millisecond:
		return d.Round(time.Millisecond).String()
	case d > 0:
		return fmt.Sprintf("%.3fms", float64(d)/float64(time.Millisecond))
	}
	return "0s"
}
