package main

import (
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/distsys-kit/distsys/examples/demo"
	"github.com/distsys-kit/distsys/mapreduce"
)

// A display shows how the job advances, and says what goes wrong as it
// happens: a worker that dies (the fault hook says so), a worker the
// coordinator declares lost, the job going back to the map phase to make
// lost map output again, a backup copy of a straggler. In a terminal a
// bar is redrawn in place, and each of those lines is printed above it;
// anywhere else (a file, a pipe, a test's buffer) there is no bar, and a
// line with the progress is printed every progressEvery instead.
//
// With -trace, the phases are also marked on the coordinator's line of
// the diagram.
type display struct {
	out   io.Writer
	tty   bool
	tr    *demo.Tracer
	start time.Time

	// mu protects the fields below, and serializes writes to out: update
	// is called on the coordinator's goroutine, died on the workers', and
	// finish on run's.
	mu        sync.Mutex
	coord     *mapreduce.Coordinator // set by WithCoordinator, before the workers start
	last      mapreduce.Progress
	lastLine  time.Time // when the last progress line was printed (no terminal)
	crashes   int       // workers the fault hook killed
	backToMap int       // times the job went from the reduce phase back to the map phase
	told      map[string]bool
	over      bool // finish was called: draw nothing more
}

// progressEvery is how often, without a terminal, a line says how far the
// job is.
const progressEvery = 2 * time.Second

func newDisplay(out io.Writer, tr *demo.Tracer) *display {
	now := time.Now()
	return &display{out: out, tty: isTerminal(out), tr: tr, start: now, lastLine: now, told: map[string]bool{}}
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

// setCoordinator is the WithCoordinator hook: the display asks the
// coordinator which task a backup copy is of, and which worker was lost.
func (d *display) setCoordinator(c *mapreduce.Coordinator) {
	d.mu.Lock()
	d.coord = c
	d.mu.Unlock()
}

// died is told by the fault hook that it killed worker during task.
func (d *display) died(worker string, kind mapreduce.TaskKind, index int, p mapreduce.FaultPoint) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.crashes++
	when := "before it committed its output"
	if p == mapreduce.AfterCommit {
		when = "right after it committed its output"
	}
	d.sayLocked(time.Since(d.start), fmt.Sprintf("%s dies during %v %d, %s", worker, kind, index, when))
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
	at := p.Elapsed
	if p.LostWorkers > d.last.LostWorkers {
		d.sayLocked(at, fmt.Sprintf("%s declared lost by the coordinator: its task, and the map output on its disk, will be made again",
			d.lostWorkerLocked()))
	}
	if p.Backups > d.last.Backups {
		d.sayLocked(at, d.backupLocked())
	}
	switch {
	case d.last.Phase == mapreduce.PhaseMap && p.Phase == mapreduce.PhaseReduce:
		d.sayLocked(at, fmt.Sprintf("map phase over: %d map tasks done", p.Maps))
	case d.last.Phase == mapreduce.PhaseReduce && p.Phase == mapreduce.PhaseMap:
		d.backToMap++
		d.sayLocked(at, "back to the map phase: a reducer needs map output that died with its worker")
	case d.last.Phase != mapreduce.PhaseDone && p.Phase == mapreduce.PhaseDone:
		d.sayLocked(at, fmt.Sprintf("reduce phase over: %d reduce tasks done", p.Reduces))
	}
	d.last = p
	switch {
	case d.tty:
		fmt.Fprintf(d.out, "\r%-*s", barWidth, bar(p))
	case p.Phase != mapreduce.PhaseDone && time.Since(d.lastLine) >= progressEvery:
		d.lastLine = time.Now()
		fmt.Fprintf(d.out, "  %8s  %s\n", at.Round(time.Millisecond), counts(p))
	}
}

// sayLocked prints one line of narration, above the bar in a terminal.
// The caller holds d.mu.
func (d *display) sayLocked(at time.Duration, line string) {
	if d.tty {
		fmt.Fprintf(d.out, "\r%-*s\r", barWidth, "") // clear the bar's line
	}
	fmt.Fprintf(d.out, "  %8s  %s\n", at.Round(time.Millisecond), line)
	d.lastLine = time.Now()
	if d.tty && d.last.Phase != "" {
		fmt.Fprintf(d.out, "%-*s", barWidth, bar(d.last))
	}
}

// lostWorkerLocked names the workers the coordinator has declared lost and
// the display has not named yet, as their nodes ("worker-3").
func (d *display) lostWorkerLocked() string {
	if d.coord == nil {
		return "a worker"
	}
	var names []string
	for _, w := range d.coord.Status().Workers {
		if w.State == "lost" && !d.told["lost "+w.Addr] {
			d.told["lost "+w.Addr] = true
			names = append(names, w.Addr)
		}
	}
	if len(names) == 0 {
		return "a worker"
	}
	return strings.Join(names, " and ")
}

// backupLocked says which backup copies have started since it was last
// asked.
func (d *display) backupLocked() string {
	if d.coord == nil {
		return "a backup copy of a slow task starts"
	}
	st := d.coord.Status()
	addr := map[int]string{}
	for _, w := range st.Workers {
		addr[w.ID] = w.Addr
	}
	var lines []string
	for _, t := range slices.Concat(st.Maps, st.Reduces) {
		for _, a := range t.Attempts {
			key := fmt.Sprintf("backup %v %d %d", t.Kind, t.Index, a.ID)
			if !a.Backup || d.told[key] {
				continue
			}
			d.told[key] = true
			first := t.Attempts[0]
			lines = append(lines, fmt.Sprintf("%v %d is a straggler (on %s for %v): a backup copy starts on %s",
				t.Kind, t.Index, addr[first.Worker], a.Start.Sub(first.Start).Round(time.Millisecond), addr[a.Worker]))
		}
	}
	if len(lines) == 0 {
		return "a backup copy of a slow task starts"
	}
	return strings.Join(lines, "; ")
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

// crashCount returns how many workers the fault hook killed.
func (d *display) crashCount() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.crashes
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
	return fmt.Sprintf("[%s%s] %s  %.1fs", strings.Repeat("#", filled), strings.Repeat(".", width-filled), counts(p), p.Elapsed.Seconds())
}

// counts says how far the job is, in one line.
func counts(p mapreduce.Progress) string {
	return fmt.Sprintf("map %d/%d  reduce %d/%d  workers %d  re-executed %d", p.MapsDone, p.Maps, p.ReducesDone, p.Reduces, p.Workers, p.Reexecutions)
}
