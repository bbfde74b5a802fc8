package trace

import (
	"fmt"
	"strings"
)

// page is what diagram.html.tmpl draws: the title, a summary of the run,
// notes (events left out, messages hidden), the views and the table of
// every event.
type page struct {
	Title    string
	Summary  string
	Notes    []string
	Routine  int  // routine messages hidden in the collapsed views
	HasTimed bool // the timed views exist
	Views    []view
	Events   []tableRow
}

type tableRow struct {
	Node, Kind, Clock, What, Time string
}

// routineWords mark the labels of routine messages, collapsed by default:
// the ones a system sends all the time whatever happens.
const routineWords = "heartbeat ping pong poll keepalive keep-alive"

// isRoutine reports whether a message labelled label is routine: its
// label (a reply's without " reply") contains one of routineWords, or is
// one of extra (WithRoutine).
func isRoutine(label string, extra []string) bool {
	label = strings.TrimSuffix(label, replySuffix)
	for _, x := range extra {
		if label == x {
			return true
		}
	}
	lower := strings.ToLower(label)
	for _, w := range strings.Fields(routineWords) {
		if strings.Contains(lower, w) {
			return true
		}
	}
	return false
}

// analysis is what every view needs to know about the events as a whole.
type analysis struct {
	received  map[MessageID]bool   // messages with a receive
	lost      map[MessageID]string // what the drops of each message say
	noted     map[MessageID]bool   // messages with a duplicate note drawn
	drawnNote []bool               // per event: a duplicate note that is drawn
	routine   []bool               // per event: about a routine message
	routines  int                  // routine messages
}

func analyze(events []Event, extraRoutine []string) analysis {
	a := analysis{
		received:  receivedSet(events),
		lost:      lostNotes(events),
		noted:     map[MessageID]bool{},
		drawnNote: make([]bool, len(events)),
		routine:   make([]bool, len(events)),
	}
	// A copy beyond the first that reached a node is drawn only if the
	// node's program did not take it: the first copy is matched by the
	// first receive, each later one by a later receive.
	receives, notes := map[arrival]int{}, map[arrival]int{}
	for _, e := range events {
		m, _ := e.Message()
		switch e.Kind {
		case KindReceive:
			receives[arrival{m, e.Node}]++
		case KindDuplicate:
			notes[arrival{m, e.Node}]++
		}
	}
	seen := map[arrival]int{}
	for i, e := range events {
		m, isMsg := e.Message()
		if isMsg && isRoutine(e.Label, extraRoutine) {
			a.routine[i] = true
			if e.Kind == KindSend {
				a.routines++
			}
		}
		if e.Kind != KindDuplicate {
			continue
		}
		k := arrival{m, e.Node}
		seen[k]++
		untaken := notes[k] - max(0, receives[k]-1)
		if seen[k] > notes[k]-untaken {
			a.drawnNote[i] = true
			a.noted[m] = true
		}
	}
	return a
}

// summary describes the run in one line: what reached where, what was
// lost and why, and what the network went through.
func summary(events []Event, a analysis, lanes int) string {
	count := map[Kind]int{}
	reasons := map[string]int{}
	var reasonOrder []string
	sends := 0
	for _, e := range events {
		count[e.Kind]++
		if e.Kind == KindSend {
			sends++
		}
		if e.Kind == KindDrop {
			r := dropReason(e.Note)
			if reasons[r] == 0 {
				reasonOrder = append(reasonOrder, r)
			}
			reasons[r]++
		}
	}
	var never int
	for _, e := range events {
		if m, _ := e.Message(); e.Kind == KindSend && !a.received[m] && a.lost[m] == "" {
			never++
		}
	}
	parts := []string{fmt.Sprintf("%d nodes, %d messages: %d delivered", lanes, sends, len(a.received))}
	if n := count[KindDrop]; n > 0 {
		var by []string
		for _, r := range reasonOrder {
			by = append(by, fmt.Sprintf("%d %s", reasons[r], r))
		}
		what := "copies dropped"
		if n == 1 {
			what = "copy dropped"
		}
		parts = append(parts, fmt.Sprintf("%d %s (%s)", n, what, strings.Join(by, ", ")))
	}
	add := func(n int, one, many string) {
		switch {
		case n == 1:
			parts = append(parts, "1 "+one)
		case n > 1:
			parts = append(parts, fmt.Sprintf("%d %s", n, many))
		}
	}
	retries, cached := 0, 0
	for _, e := range events {
		if e.Kind == KindResend && e.Note == "reply cache" {
			cached++
		} else if e.Kind == KindResend {
			retries++
		}
	}
	add(never, "never received", "never received")
	add(retries, "retry", "retries")
	add(cached, "reply resent from a reply cache", "replies resent from a reply cache")
	add(count[KindDuplicate], "extra copy arrived", "extra copies arrived")
	add(count[KindDiscard], "discarded by the program", "discarded by the program")
	add(count[KindCrash], "crash", "crashes")
	add(count[KindRestart], "restart", "restarts")
	add(count[KindPartition], "partition", "partitions")
	add(count[KindHeal], "heal", "heals")
	add(count[KindLocal], "local event", "local events")
	return strings.Join(parts, ", ")
}

// newPage lays out events in every view the page offers.
func newPage(title string, events []Event, omitted int, extraRoutine []string) page {
	a := analyze(events, extraRoutine)
	lanes := orderLanes(events)
	p := page{Title: clean(title), Summary: summary(events, a, len(lanes)), Routine: a.routines}
	if omitted > 0 {
		p.Notes = append(p.Notes, fmt.Sprintf(
			"%d events after these were left out (WithMaxEvents): the diagram shows the start of the run.", omitted))
	}
	if a.routines > 0 {
		p.Notes = append(p.Notes, fmt.Sprintf(
			"%d routine messages (heartbeats, polls) are hidden; tick “show routine messages” to see them.", a.routines))
	}
	all := make([]bool, len(events))
	collapsed := make([]bool, len(events))
	for i, e := range events {
		all[i] = e.Kind != KindDuplicate || a.drawnNote[i]
		collapsed[i] = all[i] && !a.routine[i]
	}
	shows := []struct {
		class string
		show  []bool
	}{{"collapsed full", all}}
	if a.routines > 0 {
		shows = []struct {
			class string
			show  []bool
		}{{"collapsed", collapsed}, {"full", all}}
	}
	for _, s := range shows {
		y, bottom := causalY(events, s.show)
		p.Views = append(p.Views, draw(events, a, lanes, s.show, y, bottom, nil, "causal "+s.class))
	}
	for _, s := range shows {
		y, bottom, ticks, ok := timedY(events, s.show)
		if !ok {
			break
		}
		p.HasTimed = true
		p.Views = append(p.Views, draw(events, a, lanes, s.show, y, bottom, ticks, "timed "+s.class))
	}
	for _, e := range events {
		p.Events = append(p.Events, tableRow{
			Node: clean(e.Node), Kind: string(e.Kind), Clock: e.Clock.String(),
			What: clean(e.String()), Time: formatTime(e),
		})
	}
	return p
}

// dropReason returns the reason a drop's note gives, in a word or two:
// what follows its last colon ("dropped by netsim: partition" ->
// "partition"), cleaned and cut short.
func dropReason(note string) string {
	r := strings.TrimSpace(note[strings.LastIndex(note, ": ")+1:])
	if r == "" {
		return "unknown"
	}
	return short(r, 20)
}
