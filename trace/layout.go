package trace

import (
	"fmt"
	"math"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The diagram's geometry, in SVG user units (pixels).
const (
	laneGap     = 190 // between node lines
	marginX     = 110 // left of the first node line, and right of the last
	marginRight = 80  // more on the right, for labels of the last node's events
	marginTop   = 56  // above the first row: room for the node names
	rowGap      = 34  // between rows of events
	dotRadius   = 5
	maxText     = 28 // runes of a label drawn in the diagram; hover shows all
)

// diagram is a space-time diagram laid out for drawing: one vertical line
// per node, time flowing down, a dot per event and an arrow per delivered
// message. html.go draws it; layout does all the arithmetic, so that the
// template only places what it is given.
type diagram struct {
	Title         string
	Summary       string
	Width, Height int
	Lanes         []lane
	Dots          []dot
	Arrows        []arrow
	Lost          []lostMsg
	Events        []tableRow
}

type lane struct {
	Name         string
	Traced       bool // false for a peer that has no events here (another process, an address)
	X, Y1, Y2    int  // the line
	NameX, NameY int  // where the name goes
	Label        string
	Title        string
	Class        string
}

type dot struct {
	X, Y  int
	Class string // the event's kind
	Title string // hover text
	Label string // text drawn beside a local event
}

type arrow struct {
	X1, Y1, X2, Y2 int
	LX, LY         int    // where the label goes
	Label          string // rpc method or ContextWithLabel label
	Title          string
	Class          string // "msg", or "msg orphan" when the send is not in the trace
}

type lostMsg struct {
	X1, Y1, X2, Y2 int
	Cross          string // SVG path of the X at the end
	Title          string
	Class          string // "drop" when reported dropped, "lost" when only never received
}

type tableRow struct {
	Node, Kind, Clock, What, Time string
}

// layout places events on a diagram. Each node's events go down its line
// in the order recorded; a receive goes at least one row below its send,
// so arrows always point down, and events on different nodes share rows
// when causality allows (the row of an event is the length of the longest
// causal chain ending at it).
func layout(title string, events []Event) diagram {
	l := layouter{
		d:        diagram{Title: clean(title)},
		events:   events,
		lanes:    map[string]int{},
		rows:     make([]int, len(events)),
		sends:    map[MessageID]point{},
		received: receivedSet(events),
		lost:     lostNotes(events),
		lostTo:   map[MessageID]string{},
	}
	l.placeLanes()
	l.placeRows()
	l.drawEvents()
	l.drawLost()
	l.finish()
	return l.d
}

// layouter holds the state of one layout, step by step.
type layouter struct {
	d      diagram
	events []Event

	lanes    map[string]int       // node name -> index in d.Lanes
	rows     []int                // row of each event (drops: unused)
	maxRow   int                  // the last row used
	sends    map[MessageID]point  // where each message's send is drawn
	received map[MessageID]bool   // messages with a receive
	lost     map[MessageID]string // what drop events say about each message
	lostTo   map[MessageID]string // where the network says a lost message was going

	delivered, dropped, local int // for the summary
}

type point struct{ x, y int }

func (l *layouter) laneX(name string) int { return marginX + l.lanes[name]*laneGap }
func (l *layouter) rowY(row int) int      { return marginTop + row*rowGap }

// placeLanes gives a line to every node with events, in the order they
// first appear, then to senders of messages that have no events here (a
// message received from another process's Recorder).
func (l *layouter) placeLanes() {
	add := func(name string, traced bool) {
		if i, ok := l.lanes[name]; ok {
			l.d.Lanes[i].Traced = l.d.Lanes[i].Traced || traced
			return
		}
		l.lanes[name] = len(l.d.Lanes)
		l.d.Lanes = append(l.d.Lanes, lane{Name: name, Traced: traced})
	}
	for _, e := range l.events {
		if e.Kind != KindDrop {
			add(e.Node, true)
		}
	}
	for _, e := range l.events {
		if m, ok := e.Message(); ok {
			add(m.From, false)
		}
		if m, _ := e.Message(); e.Kind == KindDrop {
			l.lostTo[m] = e.Peer
		}
	}
}

// placeRows gives each event its row: one below the node's previous event,
// and for a receive, at least one below its send.
func (l *layouter) placeRows() {
	lastRow := map[string]int{}
	sendRow := map[MessageID]int{}
	for i, e := range l.events {
		if e.Kind == KindDrop {
			continue
		}
		row := lastRow[e.Node] + 1
		m, _ := e.Message()
		if sr, ok := sendRow[m]; ok && e.Kind == KindReceive {
			row = max(row, sr+1)
		}
		if e.Kind == KindSend {
			sendRow[m] = row
			l.sends[m] = point{l.laneX(e.Node), l.rowY(row)}
		}
		l.rows[i], lastRow[e.Node] = row, row
		l.maxRow = max(l.maxRow, row)
	}
}

// drawEvents draws a dot for every event, an arrow for every receive, and
// a row of the table for every event and drop.
func (l *layouter) drawEvents() {
	for i, e := range l.events {
		l.d.Events = append(l.d.Events, tableRow{
			Node: clean(e.Node), Kind: string(e.Kind), Clock: e.Clock.String(),
			What: clean(e.String()), Time: formatTime(e),
		})
		if e.Kind == KindDrop {
			continue
		}
		x, y := l.laneX(e.Node), l.rowY(l.rows[i])
		m, _ := e.Message()
		hover := clean(e.String()) + "\nclock " + e.Clock.String()
		if e.Data != "" {
			hover += "\ndata " + clean(e.Data)
		}
		if e.Kind == KindSend && l.lost[m] != "" {
			hover += "\n" + clean(l.lost[m])
		}
		if t := formatTime(e); t != "" {
			hover += "\nat " + t
		}
		dt := dot{X: x, Y: y, Class: string(e.Kind), Title: hover}
		if e.Kind == KindLocal {
			dt.Label = short(e.Label)
			l.local++
		}
		l.d.Dots = append(l.d.Dots, dt)
		if e.Kind == KindReceive {
			l.drawArrow(e, point{x, y})
		}
	}
}

// drawArrow draws the arrow of a receive at to, from its send.
func (l *layouter) drawArrow(e Event, to point) {
	m, _ := e.Message()
	l.delivered++
	a := arrow{Class: "msg", Label: short(e.Label),
		Title: fmt.Sprintf("message %s: %s -> %s", clean(m.String()), clean(m.From), clean(e.Node))}
	if e.Label != "" {
		a.Title += " " + clean(e.Label)
	}
	from, ok := l.sends[m]
	if !ok { // the send is in another process's trace, or was cut off
		from = point{l.laneX(m.From), to.y - rowGap*2/3}
		a.Class += " orphan"
		a.Title += " (its send is not in this trace)"
	}
	a.X1, a.Y1, a.X2, a.Y2 = trim(from.x, from.y, to.x, to.y, dotRadius+1)
	a.LX, a.LY = (a.X1+a.X2)/2, (a.Y1+a.Y2)/2-4
	l.d.Arrows = append(l.d.Arrows, a)
}

// drawLost draws every message sent and never received as a short dashed
// line toward where it was going, ending in a cross: red if the network
// reported dropping it, grey if nobody knows.
func (l *layouter) drawLost() {
	for i, e := range l.events {
		m, _ := e.Message()
		if e.Kind != KindSend || l.received[m] {
			continue
		}
		x, y := l.laneX(e.Node), l.rowY(l.rows[i])
		toX := x + laneGap/3 // no line to point at: point right
		for _, peer := range []string{l.lostTo[m], e.Peer} {
			if to, ok := l.lanes[peer]; ok && peer != e.Node {
				toX = x + (marginX+to*laneGap-x)*2/5
				break
			}
		}
		endY := y + rowGap*2/3
		lm := lostMsg{X2: toX, Y2: endY, Class: "lost",
			Title: clean(e.String()) + "\nnever received (lost, or still in flight when the trace was written)"}
		if l.lost[m] != "" {
			lm.Class, lm.Title = "drop", clean(e.String())+"\n"+clean(l.lost[m])
			l.dropped++
		}
		lm.X1, lm.Y1, _, _ = trim(x, y, toX, endY, dotRadius+1)
		lm.Cross = fmt.Sprintf("M %d %d L %d %d M %d %d L %d %d", toX-5, endY-5, toX+5, endY+5, toX-5, endY+5, toX+5, endY-5)
		l.d.Lost = append(l.d.Lost, lm)
	}
}

// finish sizes the picture, places the node names and writes the summary.
func (l *layouter) finish() {
	d := &l.d
	d.Width = 2*marginX + max(len(d.Lanes)-1, 0)*laneGap + marginRight
	d.Height = l.rowY(l.maxRow+1) + 10
	for i := range d.Lanes {
		ln := &d.Lanes[i]
		ln.X, ln.Y1, ln.Y2 = marginX+i*laneGap, marginTop-18, d.Height-10
		ln.NameX, ln.NameY = ln.X, marginTop-26
		ln.Label, ln.Title = short(ln.Name), clean(ln.Name)
		ln.Class = "lane"
		if !ln.Traced {
			ln.Class += " untraced"
			ln.Title += " (not traced here: known only as a peer)"
		}
	}
	d.Summary = fmt.Sprintf("%d nodes, %d events: %d messages delivered, %d lost (%d reported dropped), %d local events",
		len(d.Lanes), len(l.events), l.delivered, len(d.Lost), l.dropped, l.local)
}

// trim shortens the segment (x1,y1)-(x2,y2) by r at both ends, so that it
// runs from dot edge to dot edge instead of centre to centre.
func trim(x1, y1, x2, y2, r int) (int, int, int, int) {
	dx, dy := float64(x2-x1), float64(y2-y1)
	n := math.Hypot(dx, dy)
	if n <= 2*float64(r) {
		return x1, y1, x2, y2
	}
	ox, oy := int(math.Round(dx/n*float64(r))), int(math.Round(dy/n*float64(r)))
	return x1 + ox, y1 + oy, x2 - ox, y2 - oy
}

func formatTime(e Event) string {
	if e.Time.IsZero() {
		return ""
	}
	return e.Time.Format("15:04:05.000000")
}

// clean makes s safe to show in HTML and XML: valid UTF-8, and no control
// characters other than newline and tab (XML forbids most of them).
func clean(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\n' || r == '\t':
			return r
		case unicode.IsControl(r) || r == '\uFFFE' || r == '\uFFFF':
			return '\uFFFD'
		}
		return r
	}, s)
}

// short cleans s and cuts it to maxText runes, on one line.
func short(s string) string {
	s = oneLine(clean(s))
	if utf8.RuneCountInString(s) <= maxText {
		return s
	}
	return string([]rune(s)[:maxText-1]) + "…"
}
