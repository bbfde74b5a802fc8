package trace_test

import (
	"bytes"
	"encoding/xml"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/trace"
)

// element is an XML element with everything in it, for checking the
// structure of the page.
type element struct {
	XMLName  xml.Name
	Attrs    []xml.Attr `xml:",any,attr"`
	Children []element  `xml:",any"`
	Text     string     `xml:",chardata"`
}

func (e element) attr(name string) string {
	for _, a := range e.Attrs {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

// all returns e and every element below it, in document order.
func (e element) all() []element {
	out := []element{e}
	for _, c := range e.Children {
		out = append(out, c.all()...)
	}
	return out
}

// find returns the elements below e (e included) with the given name and,
// if class is not empty, whose class attribute has that word.
func (e element) find(name, class string) []element {
	var out []element
	for _, x := range e.all() {
		if x.XMLName.Local == name && (class == "" || hasWord(x.attr("class"), class)) {
			out = append(out, x)
		}
	}
	return out
}

func hasWord(s, w string) bool {
	for _, f := range strings.Fields(s) {
		if f == w {
			return true
		}
	}
	return false
}

// child returns e's first child element with the given name.
func (e element) child(name string) (element, bool) {
	for _, c := range e.Children {
		if c.XMLName.Local == name {
			return c, true
		}
	}
	return element{}, false
}

// requireValidHTML renders events and checks that the page is well formed
// (it is written as XML-compatible HTML, so encoding/xml parses it
// strictly), has the structure of an HTML page with its views, refers to
// nothing outside itself, and draws in its full causal view what the
// events say: a dot per event of a process, an arrow per receive, a red
// cross per drop, a grey cross per message never received. It returns the
// page and its parsed root.
func requireValidHTML(t *testing.T, events []trace.Event) (string, element) {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, trace.WriteHTML(&buf, "test", events))
	return checkPage(t, buf.String(), events)
}

// checkPage is requireValidHTML for a page already written.
func checkPage(t *testing.T, page string, events []trace.Event) (string, element) {
	t.Helper()
	require.True(t, strings.HasPrefix(page, "<!DOCTYPE html>\n"), "doctype first")
	var root element
	dec := xml.NewDecoder(strings.NewReader(page))
	dec.Strict = true
	require.NoError(t, dec.Decode(&root), "page is not well formed")
	require.Equal(t, "html", root.XMLName.Local)
	head, ok := root.child("head")
	require.True(t, ok, "no head")
	_, ok = head.child("title")
	require.True(t, ok, "no title")
	body, ok := root.child("body")
	require.True(t, ok, "no body")

	// Self-contained: nothing is fetched from anywhere.
	ids := map[string]bool{}
	for _, x := range root.all() {
		switch x.XMLName.Local {
		case "script", "link", "img", "iframe", "object", "embed", "image", "use", "foreignObject":
			t.Fatalf("page has a <%s> element", x.XMLName.Local)
		}
		for _, a := range x.Attrs {
			switch a.Name.Local {
			case "src", "href", "srcset", "action", "data":
				t.Fatalf("<%s> has a %s attribute", x.XMLName.Local, a.Name.Local)
			}
			if strings.Contains(a.Value, "url(") && !strings.Contains(a.Value, "url(#") {
				t.Fatalf("<%s %s=%q> refers outside the page", x.XMLName.Local, a.Name.Local, a.Value)
			}
		}
		if id := x.attr("id"); id != "" {
			require.False(t, ids[id], "id %q used twice", id)
			ids[id] = true
		}
	}
	style, _ := head.child("style")
	assert.NotContains(t, style.Text, "url(", "style sheet fetches nothing")
	assert.NotContains(t, style.Text, "@import")

	views := body.find("svg", "view")
	require.NotEmpty(t, views, "no view")
	for _, v := range views {
		w, err := strconv.Atoi(v.attr("width"))
		require.NoError(t, err)
		assert.LessOrEqual(t, w, 1320, "a view fits a 1400-pixel projector")
		for _, g := range v.find("g", "") {
			_, ok := g.child("title")
			assert.True(t, ok, "every group has hover text")
		}
	}
	full := viewOf(t, root, "causal", "full")

	// What is drawn matches the events.
	var receives, dots, drops int
	received, dropped, sent := map[trace.MessageID]bool{}, map[trace.MessageID]bool{}, map[trace.MessageID]bool{}
	for _, e := range events {
		m, _ := e.Message()
		switch e.Kind {
		case trace.KindReceive:
			receives++
			received[m] = true
		case trace.KindSend:
			sent[m] = true
		case trace.KindDrop:
			dropped[m] = true
		}
		switch e.Kind {
		case trace.KindSend, trace.KindReceive, trace.KindLocal, trace.KindResend, trace.KindDiscard:
			dots++
		}
	}
	for _, e := range events {
		if m, _ := e.Message(); e.Kind == trace.KindDrop && sent[m] {
			drops++
		}
	}
	var unreceived int
	for m := range sent {
		if !received[m] && !dropped[m] {
			unreceived++
		}
	}
	arrows := 0
	for _, a := range full.find("line", "msg") {
		if !hasWord(a.attr("class"), "again") {
			arrows++
			assert.Equal(t, "url(#head)", a.attr("marker-end"))
		}
	}
	assert.Equal(t, receives, arrows, "one arrow per receive")
	assert.Equal(t, dots, len(full.find("g", "event")), "one dot per event of a process")
	assert.Equal(t, drops, len(full.find("g", "drop")), "one red cross per drop")
	assert.Equal(t, unreceived, len(full.find("g", "lost")), "one grey cross per message never received")
	return page, root
}

// viewOf returns the view of the page with both classes.
func viewOf(t *testing.T, root element, layout, routine string) element {
	t.Helper()
	for _, v := range root.find("svg", "view") {
		if hasWord(v.attr("class"), layout) && hasWord(v.attr("class"), routine) {
			return v
		}
	}
	t.Fatalf("no %s %s view", layout, routine)
	return element{}
}

// texts returns the text of every <text> of class in e.
func texts(e element, class string) []string {
	var out []string
	for _, x := range e.find("text", class) {
		out = append(out, x.Text)
	}
	return out
}

func TestHTMLIsValidAndSelfContained(t *testing.T) {
	t.Parallel()
	events := sampleTrace(t).Events()
	page, root := requireValidHTML(t, events)

	for _, s := range []string{"http://", "https://", "//"} {
		assert.NotContains(t, page, s, "no URL of any kind")
	}
	svg := viewOf(t, root, "causal", "full")
	assert.Equal(t, []string{"KV.Get"}, texts(svg, "msglabel"), "the labelled message names its arrow")
	assert.Empty(t, svg.find("g", "drop"), "nothing reported this loss")
	assert.Equal(t, 1, len(svg.find("g", "lost")))
	assert.Equal(t, 1, len(svg.find("line", "dup")), "the second copy received is marked")
	assert.Equal(t, []string{"a", "b node"}, texts(svg, "lanename"))
	assert.Equal(t, len(events)+1, len(root.find("tr", "")), "the table lists every event")
	assert.NotEmpty(t, root.find("svg", "timed"), "the events have times: a timed view too")
}

func TestHTMLOfNoEvents(t *testing.T) {
	t.Parallel()
	requireValidHTML(t, nil)
}

func TestHTMLShowsReportedDropsAndOrphans(t *testing.T) {
	t.Parallel()
	events := []trace.Event{
		{Node: "a", Kind: trace.KindSend, Clock: trace.VectorClock{"a": 1}, Peer: "b", Msg: 1},
		{Node: "a", Kind: trace.KindDrop, Clock: trace.VectorClock{"a": 1}, Peer: "b", Msg: 1, Note: "dropped by the network"},
		// A message from x, whose Recorder is in another process.
		{Node: "b", Kind: trace.KindReceive, Clock: trace.VectorClock{"x": 4, "b": 1}, Peer: "x", Msg: 4, Label: "Ping"},
	}
	_, root := requireValidHTML(t, events)
	svg := viewOf(t, root, "causal", "full")
	require.Equal(t, 1, len(svg.find("g", "drop")))
	assert.Equal(t, 1, len(svg.find("line", "orphan")))
	drop := svg.find("g", "drop")[0]
	title, _ := drop.child("title")
	assert.Contains(t, title.Text, "dropped by the network")
	assert.Equal(t, 1, len(svg.find("line", "untraced")), "x gets a dashed line: it has no events here")
	assert.Empty(t, root.find("svg", "timed"), "no times: no timed view")
}

func FuzzWriteHTML(f *testing.F) {
	f.Add("a", "b", "hello", "KV.Get")
	f.Add("<n>", "&amp;", "\x00\x01\xff", "]]>")
	f.Add("a b", "a\nb", "\u2028", "\"'")
	f.Fuzz(func(t *testing.T, n1, n2, text, label string) {
		if n1 == "" || n2 == "" || n1 == n2 {
			return
		}
		events := []trace.Event{
			{Node: n1, Kind: trace.KindLocal, Clock: trace.VectorClock{n1: 1}, Label: text},
			{Node: n1, Kind: trace.KindSend, Clock: trace.VectorClock{n1: 2}, Peer: n2, Msg: 2, Label: label, Data: text},
			{Node: n2, Kind: trace.KindReceive, Clock: trace.VectorClock{n1: 2, n2: 1}, Peer: n1, Msg: 2, Label: label},
			{Node: n2, Kind: trace.KindSend, Clock: trace.VectorClock{n1: 2, n2: 2}, Peer: n1, Msg: 2, Label: label},
			{Node: n2, Kind: trace.KindDrop, Clock: trace.VectorClock{n1: 2, n2: 2}, Peer: n1, Msg: 2, Note: text},
		}
		requireValidHTML(t, events)
	})
}
