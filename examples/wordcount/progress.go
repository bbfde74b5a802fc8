package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/distsys-kit/distsys/examples/internal/demo"
	"github.com/distsys-kit/distsys/mapreduce"
)

// A display shows how the job advances. In a terminal it draws a bar,
// redrawn in place; anywhere else (a file, a pipe, a test's buffer) it
// writes a line when a phase ends or a worker is lost.
//
// The job goes back from the reduce phase to the map phase when a reducer
// cannot fetch map output because its worker died: the map task runs
// again. That can happen once per lost map output, so it is counted, and
// said once at the end. With -trace, the
// phases are also marked on the coordinator's line of the diagram.
type display struct {
	out io.Writer
	tty bool
	tr  *demo.Tracer

	// mu protects the fields below, and serializes writes to out: update
	// is called on the coordinator's goroutine, finish on run's.
	mu        sync.Mutex
	last      mapreduce.Progress
	backToMap int  // how often the job went from the reduce phase back to the map phase
	over      bool // finish was called: draw nothing more
}

func newDisplay(out io.Writer, tr *demo.Tracer) *display {
	return &display{out: out, tty: isTerminal(out), tr: tr}
}

// isTerminal reports whether w is a terminal (a character device), where
// a bar redrawn with "\r" makes sense.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	info, err := f.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0
}

// update shows p; it is the coordinator's progress callback.
func (d *display) update(p mapreduce.Progress) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.over {
		return
	}
	if p.Phase != d.last.Phase {
		d.tr.Logf("coordinator", "phase: %s", p.Phase)
	}
	if d.tty {
		fmt.Fprintf(d.out, "\r%-*s", barWidth, bar(p))
		d.last = p
		return
	}
	at := p.Elapsed.Round(time.Millisecond)
	if p.LostWorkers > d.last.LostWorkers {
		fmt.Fprintf(d.out, "  %8s  a worker is lost (%d so far): its task, and its map output, will be made again\n", at, p.LostWorkers)
	}
	switch {
	case d.last.Phase == mapreduce.PhaseMap && p.Phase != mapreduce.PhaseMap && d.backToMap == 0:
		fmt.Fprintf(d.out, "  %8s  map phase over: %d map tasks done\n", at, p.Maps)
	case d.last.Phase == mapreduce.PhaseReduce && p.Phase == mapreduce.PhaseMap:
		d.backToMap++ // said once, at the end: it can happen once per lost map output
	}
	if d.last.Phase != mapreduce.PhaseDone && p.Phase == mapreduce.PhaseDone {
		fmt.Fprintf(d.out, "  %8s  reduce phase over: %d reduce tasks done\n", at, p.Reduces)
		if d.backToMap > 0 {
			fmt.Fprintf(d.out, "  %8s  (the job went back to the map phase %d times, to make again map output that died with its worker)\n",
				"", d.backToMap)
		}
	}
	d.last = p
}

// finish ends the display: the bar's line is done, and later calls of
// update draw nothing.
func (d *display) finish() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.tty && d.last.Phase != "" {
		fmt.Fprintln(d.out)
	}
	d.over = true
}

// barWidth is how wide bar's lines are, at most: each is padded to it,
// so that a shorter one hides the one before.
const barWidth = 100

// bar draws p as one line: a bar of the tasks done, then the numbers.
func bar(p mapreduce.Progress) string {
	const width = 30
	done, all := p.MapsDone+p.ReducesDone, p.Maps+p.Reduces
	filled := 0
	if all > 0 {
		filled = width * done / all
	}
	return fmt.Sprintf("[%s%s] map %d/%d  reduce %d/%d  workers %d  re-executed %d  %.1fs",
		strings.Repeat("#", filled), strings.Repeat(".", width-filled),
		p.MapsDone, p.Maps, p.ReducesDone, p.Reduces, p.Workers, p.Reexecutions, p.Elapsed.Seconds())
}
