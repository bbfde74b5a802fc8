package trace

import (
	"fmt"
	"strings"
)

// drawer draws one view: the events at the y the view's placement gave
// them, on the lanes' x.
type drawer struct {
	v      view
	a      analysis
	events []Event
	show   []bool
	y      []int
	x      map[string]int
	runes  int // the longest label, in runes
	pl     *placer
	timed  bool

	attempt map[MessageID]point // where each message was last sent or resent
	taken   map[arrival]int     // receives so far of each message at each node
	down    map[string][]span   // when each node was down (crashed)

	marks, arrows, dots []item
}

// span is a stretch of a lane, from y1 to y2 (y2 < 0: to the bottom).
type span struct{ y1, y2 int }

// draw lays out one view. lanes give the order of the node lines; y the
// place of each shown event; ticks, for the timed view, the time axis.
func draw(events []Event, a analysis, lanes []laneInfo, show []bool, y []int, bottom int, ticks []tick, class string) view {
	gap := laneGapFor(len(lanes))
	d := &drawer{
		events: events, a: a, show: show, y: y,
		x: map[string]int{}, runes: maxRunesFor(gap - 16), pl: newPlacer(),
		timed:   strings.HasPrefix(class, "timed"),
		attempt: map[MessageID]point{}, taken: map[arrival]int{}, down: map[string][]span{},
	}
	for i, l := range lanes {
		d.x[l.Name] = marginLeft + i*gap
	}
	d.v = view{Class: class, Width: marginLeft + max(len(lanes)-1, 0)*gap + marginRight, Height: bottom + 12}
	for i, e := range events { // no label may cover a dot, even a later one
		if show[i] && e.Kind.process() {
			d.pl.blockDot(d.x[e.Node], y[i])
		}
	}
	for i, e := range events {
		if show[i] {
			d.event(i, e)
		}
	}
	d.neverReceived()
	d.v.Items = append(append(d.marks, d.arrows...), d.dots...)
	d.headers(lanes, gap)
	for _, t := range ticks {
		d.v.Headers = append(d.v.Headers, text("tick", 6, t.y+4, t.text, "start"))
	}
	return d.v
}

// event draws event i.
func (d *drawer) event(i int, e Event) {
	m, _ := e.Message()
	x, y := d.x[e.Node], d.y[i]
	hover := clean(e.String())
	if e.Clock != nil {
		hover += "\nclock " + e.Clock.String()
	}
	if e.Data != "" {
		hover += "\ndata " + clean(e.Data)
	}
	if t := formatTime(e); t != "" {
		hover += "\nat " + t
	}
	switch e.Kind {
	case KindPartition, KindHeal, KindFaults:
		d.mark(e, y, hover)
	case KindSend:
		if d.a.lost[m] != "" {
			hover += "\n" + clean(d.a.lost[m])
		}
		d.dot(e, x, y, "send", hover)
		d.attempt[m] = point{x, y}
	case KindResend:
		d.dot(e, x, y, "resend", hover)
		d.attempt[m] = point{x, y}
		word := "retry"
		if e.Note == "reply cache" {
			word = "cached reply"
		}
		d.label("resendlabel", "↻ "+word, []point{{x + 9, y + 4}, {x - 9, y + 4}}, "start", "end")
	case KindReceive:
		d.arrow(e, point{x, y}, m)
		d.dot(e, x, y, "receive", hover)
	case KindDuplicate:
		d.again(e, point{x, y}, m, hover)
	case KindDrop:
		d.drop(i, e, m, hover)
	case KindLocal:
		d.dot(e, x, y, "local", hover)
		d.label("locallabel", short(e.Label, d.runes), []point{{x + 9, y + 4}, {x - 9, y + 4}}, "start", "end")
	case KindDiscard:
		d.dot(e, x, y, "discard", hover)
		d.stub(point{x, y}, e.Peer, y+rowGap*2/3, "discarded", hover, "discarded")
	case KindCrash:
		d.dots = append(d.dots, item{Class: "crash", Title: hover, Shapes: []shape{cross("crossmark", x, y, 8)}})
		d.pl.blockDot(x, y)
		d.down[e.Node] = append(d.down[e.Node], span{y, -1})
		d.label("crashlabel", "crash", []point{{x + 12, y + 4}, {x - 12, y + 4}}, "start", "end")
	case KindRestart:
		d.dots = append(d.dots, item{Class: "restart", Title: hover, Shapes: []shape{line("restartbar", x-9, y, x+9, y)}})
		if spans := d.down[e.Node]; len(spans) > 0 && spans[len(spans)-1].y2 < 0 {
			spans[len(spans)-1].y2 = y
		}
		d.label("restartlabel", "restart", []point{{x + 12, y + 4}, {x - 12, y + 4}}, "start", "end")
	}
}

func (d *drawer) dot(e Event, x, y int, class, hover string) {
	d.dots = append(d.dots, item{Class: "event", Title: hover, Shapes: []shape{circle(class, x, y, dotRadius)}})
	d.pl.blockDot(x, y)
}

// label places s at the first free candidate; anchors[i] is the anchor of
// cands[i], or of the last one given.
func (d *drawer) label(class, s string, cands []point, anchors ...string) {
	for i, c := range cands {
		anchor := anchors[min(i, len(anchors)-1)]
		if at, ok := d.pl.place(s, anchor, []point{c}); ok {
			d.v.Labels = append(d.v.Labels, item{Class: "label", Title: s, Shapes: []shape{text(class, at.x, at.y, s, anchor)}})
			return
		}
	}
}

// mark draws a change of the network: a line across every lane.
func (d *drawer) mark(e Event, y int, hover string) {
	x1, x2 := marginLeft-30, d.v.Width-marginRight+30
	d.marks = append(d.marks, item{Class: "mark " + string(e.Kind), Title: hover, Shapes: []shape{line("markline", x1, y, x2, y)}})
	s := short(e.String(), maxRunesFor(x2-x1))
	var cands []point
	var anchors []string
	for _, dy := range []int{-5, 14, -18, 27} {
		cands = append(cands, point{x1, y + dy}, point{x2, y + dy})
		anchors = append(anchors, "start", "end")
	}
	d.label("marklabel "+string(e.Kind), s, cands, anchors...)
}

// arrow draws the arrow of a receive at to, from its last send or resend.
func (d *drawer) arrow(e Event, to point, m MessageID) {
	k := arrival{m, e.Node}
	d.taken[k]++
	a := item{Class: "message", Title: fmt.Sprintf("message %s: %s -> %s", clean(m.String()), clean(m.From), clean(e.Node))}
	if e.Label != "" {
		a.Title += " " + clean(e.Label)
	}
	class := "msg"
	if d.taken[k] > 1 {
		class += " dup"
		a.Title += "\nanother copy of a message this node had received: the program took it again"
	}
	from, ok := d.attempt[m]
	if !ok { // the send is in another process's trace, or was cut off
		from = point{d.x[m.From], to.y - rowGap*2/3}
		class += " orphan"
		a.Title += " (its send is not in this trace)"
	}
	x1, y1, x2, y2 := trim(from.x, from.y, to.x, to.y, dotRadius+1)
	a.Shapes = []shape{arrowLine(class, x1, y1, x2, y2)}
	d.arrows = append(d.arrows, a)
	if e.Label != "" {
		d.label("msglabel", short(e.Label, d.runes), alongSegment(point{x1, y1}, point{x2, y2}), "middle")
	}
}

// again draws a copy of a message that reached a node which did not take
// it: a dashed arrow ending in an open circle.
func (d *drawer) again(e Event, to point, m MessageID, hover string) {
	from, ok := d.attempt[m]
	if !ok {
		return
	}
	hover += "\nthe program did not take it as new: a server with a reply cache answers it from the cache, or ignores it while the call runs"
	x1, y1, x2, y2 := trim(from.x, from.y, to.x, to.y, dotRadius+1)
	d.arrows = append(d.arrows, item{Class: "again", Title: hover, Shapes: []shape{
		arrowLine("msg again", x1, y1, x2, y2), circle("againdot", to.x, to.y, dotRadius-1),
	}})
	d.pl.blockDot(to.x, to.y)
}

// drop draws a copy the network lost: a dashed stub from the message's last
// send or resend toward its receiver, ending in a red cross.
func (d *drawer) drop(i int, e Event, m MessageID, hover string) {
	from, ok := d.attempt[m]
	if !ok {
		return
	}
	endY := from.y + rowGap*2/3
	if d.timed {
		endY = max(d.y[i], from.y+10)
	}
	d.stub(from, e.Peer, endY, "drop", hover, dropReason(e.Note))
}

// stub draws a dashed line from p toward peer's lane, ending at endY in a
// cross with a short word beside it.
func (d *drawer) stub(p point, peer string, endY int, class, hover, word string) {
	toX := p.x + 40
	if tx, ok := d.x[peer]; ok && tx != p.x {
		toX = p.x + (tx-p.x)*2/5
		if abs(toX-p.x) < 30 {
			toX = p.x + sign(tx-p.x)*30
		}
	}
	x1, y1, _, _ := trim(p.x, p.y, toX, endY, dotRadius+1)
	d.arrows = append(d.arrows, item{Class: class, Title: hover, Shapes: []shape{
		line("stub", x1, y1, toX, endY), cross("cross", toX, endY, 5),
	}})
	d.pl.blockDot(toX, endY)
	if word != "" {
		d.label(class+"label", short(word, 12), []point{{toX + 8, endY + 4}, {toX - 8, endY + 4}}, "start", "end")
	}
}

// neverReceived draws a grey stub for every message sent and never
// received, dropped or noted: lost where nobody could see, or still in
// flight when the trace was written.
func (d *drawer) neverReceived() {
	for i, e := range d.events {
		m, _ := e.Message()
		if !d.show[i] || e.Kind != KindSend || d.a.received[m] || d.a.lost[m] != "" || d.a.noted[m] {
			continue
		}
		from := d.attempt[m]
		hover := clean(e.String()) + "\nnever received (lost, or still in flight when the trace was written)"
		d.stub(from, e.Peer, from.y+rowGap*2/3, "lost", hover, "")
	}
}

// headers draws the group headers, the node names and the node lines,
// grey and dotted where the node was down.
func (d *drawer) headers(lanes []laneInfo, gap int) {
	top, bottom := marginTop-18, d.v.Height-8
	for i := 0; i < len(lanes); {
		j := i
		for j+1 < len(lanes) && lanes[j+1].Group == lanes[i].Group && lanes[j+1].Traced == lanes[i].Traced {
			j++
		}
		if j > i {
			x1, x2 := d.x[lanes[i].Name], d.x[lanes[j].Name]
			d.v.Headers = append(d.v.Headers,
				text("groupname", (x1+x2)/2, 16, short(lanes[i].Group, maxRunesFor(x2-x1+gap)), "middle"),
				line("bracket", x1-gap/3, 24, x2+gap/3, 24))
		}
		i = j + 1
	}
	for _, l := range lanes {
		x := d.x[l.Name]
		d.v.Headers = append(d.v.Headers, text("lanename", x, marginTop-26, short(l.Name, maxRunesFor(gap-10)), "middle"))
		title := clean(l.Name)
		class := "lane"
		if !l.Traced {
			class += " untraced"
			title += " (not traced here: known only as a peer)"
		}
		it := item{Class: "node", Title: title}
		y := top
		for _, s := range d.down[l.Name] {
			end := s.y2
			if end < 0 {
				end = bottom
			}
			it.Shapes = append(it.Shapes, line(class, x, y, x, s.y1), line(class+" down", x, s.y1, x, end))
			y = end
		}
		if y < bottom {
			it.Shapes = append(it.Shapes, line(class, x, y, x, bottom))
		}
		d.v.Lanes = append(d.v.Lanes, it)
	}
}

func abs(i int) int {
	if i < 0 {
		return -i
	}
	return i
}

func sign(i int) int {
	switch {
	case i < 0:
		return -1
	case i > 0:
		return 1
	}
	return 0
}
