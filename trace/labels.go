package trace

import "unicode/utf8"

// placer keeps the labels of a view from overlapping each other and the
// dots: it remembers the box of everything placed so far, in bands of
// bandHeight pixels so that a check looks only at its neighbours.
type placer struct {
	bands map[int][]box
}

type box struct{ x1, y1, x2, y2 int }

const bandHeight = 40

func newPlacer() *placer { return &placer{bands: map[int][]box{}} }

func (b box) overlaps(c box) bool {
	return b.x1 < c.x2 && c.x1 < b.x2 && b.y1 < c.y2 && c.y1 < b.y2
}

// block marks b as taken.
func (p *placer) block(b box) {
	for band := b.y1 / bandHeight; band <= b.y2/bandHeight; band++ {
		p.bands[band] = append(p.bands[band], b)
	}
}

// free reports whether b overlaps nothing taken.
func (p *placer) free(b box) bool {
	for band := b.y1 / bandHeight; band <= b.y2/bandHeight; band++ {
		for _, c := range p.bands[band] {
			if b.overlaps(c) {
				return false
			}
		}
	}
	return true
}

// blockDot marks the dot of an event at (x, y) as taken.
func (p *placer) blockDot(x, y int) {
	p.block(box{x - dotRadius - 1, y - dotRadius - 1, x + dotRadius + 1, y + dotRadius + 1})
}

// textBox returns the box of s drawn at (x, y) with the given anchor, in
// the diagram's 12-pixel font, with a pixel of air around it.
func textBox(s string, x, y int, anchor string) box {
	w := int(float64(utf8.RuneCountInString(s))*textWidth) + 2
	x1 := x - 1
	switch anchor {
	case "middle":
		x1 = x - w/2
	case "end":
		x1 = x - w
	}
	return box{x1, y - 11, x1 + w, y + 4}
}

// place finds the first of the candidate points where s fits, takes its
// box and returns it; ok is false if s fits nowhere (the label is then left
// out, and the hover text still tells).
func (p *placer) place(s, anchor string, cands []point) (at point, ok bool) {
	for _, c := range cands {
		b := textBox(s, c.x, c.y, anchor)
		if p.free(b) {
			p.block(b)
			return c, true
		}
	}
	return point{}, false
}

type point struct{ x, y int }

// alongSegment returns candidate points for a label on the segment from a
// to b: its middle first, then points further out on either side, each
// raised a little so the text sits above the line.
func alongSegment(a, b point) []point {
	var out []point
	for _, f := range []float64{0.5, 0.35, 0.65, 0.22, 0.78} {
		out = append(out, point{
			x: a.x + int(float64(b.x-a.x)*f),
			y: a.y + int(float64(b.y-a.y)*f) - 4,
		})
	}
	return out
}
