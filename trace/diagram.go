package trace

import (
	"math"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// The diagram's geometry, in SVG user units (pixels). The page fits a
// projector 1400 pixels wide: lanes come closer together as their number
// grows, down to minLaneGap, beyond which the picture is scaled down.
const (
	pageWidth   = 1320 // the widest a diagram is drawn: a 1400-pixel window, less margins and a scroll bar
	maxLaneGap  = 260  // between node lines, when there is room
	minLaneGap  = 100  // twelve lanes fit; more are scaled down to fit
	marginLeft  = 96   // left of the first node line: room for the time axis and marks' labels
	marginRight = 120
	marginTop   = 78 // above the first row: room for group headers and node names
	rowGap      = 30 // between rows of events in the causal view
	dotRadius   = 5
	textWidth   = 7.0 // the average width of a 13-pixel character, to size labels
)

// view is one drawing of the events: causal or timed, with or without the
// routine messages. html.go puts several views on one page, and a toggle
// shows one at a time.
type view struct {
	Class         string // "causal" or "timed", and "full" or "collapsed"
	Width, Height int
	Headers       []shape // group headers and node names
	Lanes         []item  // node lines, grey where a node was down
	Items         []item  // marks, arrows, losses and dots, in drawing order
	Labels        []item  // text drawn over everything, placed so as not to overlap
}

// item is one thing in a view, with its hover text: a group of shapes.
type item struct {
	Class  string
	Title  string
	Shapes []shape
}

// shape is one SVG element. Kind says which, and which fields count:
// "line" (X1, Y1, X2, Y2; Head for an arrowhead), "circle" (X1, Y1, R),
// "path" (D) and "text" (X1, Y1, Text, Anchor).
type shape struct {
	Kind           string
	Class          string
	X1, Y1, X2, Y2 int
	R              int
	D              string
	Text           string
	Anchor         string
	Head           bool
}

func line(class string, x1, y1, x2, y2 int) shape {
	return shape{Kind: "line", Class: class, X1: x1, Y1: y1, X2: x2, Y2: y2}
}

func arrowLine(class string, x1, y1, x2, y2 int) shape {
	s := line(class, x1, y1, x2, y2)
	s.Head = true
	return s
}

func circle(class string, x, y, r int) shape {
	return shape{Kind: "circle", Class: class, X1: x, Y1: y, R: r}
}

func text(class string, x, y int, s, anchor string) shape {
	return shape{Kind: "text", Class: class, X1: x, Y1: y, Text: s, Anchor: anchor}
}

// cross is an X of half-size r centred on (x, y).
func cross(class string, x, y, r int) shape {
	d := "M " + strconv.Itoa(x-r) + " " + strconv.Itoa(y-r) + " L " + strconv.Itoa(x+r) + " " + strconv.Itoa(y+r) +
		" M " + strconv.Itoa(x-r) + " " + strconv.Itoa(y+r) + " L " + strconv.Itoa(x+r) + " " + strconv.Itoa(y-r)
	return shape{Kind: "path", Class: class, D: d}
}

// laneGapFor returns the distance between node lines for n lanes.
func laneGapFor(n int) int {
	if n <= 1 {
		return maxLaneGap
	}
	gap := (pageWidth - marginLeft - marginRight) / (n - 1)
	return max(minLaneGap, min(maxLaneGap, gap))
}

// maxRunesFor returns how many runes of a label fit in width pixels.
func maxRunesFor(width int) int { return max(6, int(float64(width)/textWidth)) }

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

// short cleans s and cuts it to n runes, on one line.
func short(s string, n int) string {
	s = oneLine(clean(s))
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:max(n-1, 1)]) + "…"
}
