package trace_test

import (
	"bytes"
	"encoding/xml"
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
// strictly), has the structure of an HTML page with one SVG diagram, refers
// to nothing outside itself, and draws what the events say: a dot per event,
// an arrow per delivered message, a cross per message never received. It
// returns the page and its parsed root.
func requireValidHTML(t *testing.T, events []trace.Event) (string, element) {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, trace.WriteHTML(&buf, "test", events))
	page := buf.String()
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
	svgs := body.find("svg", "")
	require.Len(t, svgs, 1, "one diagram")
	svg := svgs[0]

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

	// What is drawn matches the events.
	var receives, others int
	received := map[trace.MessageID]bool{}
	for _, e := range events {
		switch e.Kind {
		case trace.KindReceive:
			receives++
			m, _ := e.Message()
			received[m] = true
		case trace.KindSend, trace.KindLocal:
			others++
		}
	}
	var unreceived int
	for _, e := range events {
		if m, _ := e.Message(); e.Kind == trace.KindSend && !received[m] {
			unreceived++
		}
	}
	arrows := svg.find("line", "msg")
	require.Len(t, arrows, receives, "one arrow per delivered message")
	for _, a := range arrows {
		assert.Equal(t, "url(#head)", a.attr("marker-end"))
	}
	require.Len(t, svg.find("g", "message"), receives)
	require.Len(t, svg.find("circle", ""), receives+others, "one dot per event")
	require.Len(t, append(svg.find("g", "drop"), svg.find("g", "lost")...), unreceived, "one cross per message never received")
	for _, g := range svg.find("g", "") {
		_, ok := g.child("title")
		assert.True(t, ok, "every group has hover text")
	}
	return page, root
}

func TestHTMLIsValidAndSelfContained(t *testing.T) {
	t.Parallel()
	events := sampleTrace(t).Events()
	page, root := requireValidHTML(t, events)

	for _, s := range []string{"http://", "https://", "//"} {
		assert.NotContains(t, page, s, "no URL of any kind")
	}
	svg := root.find("svg", "")[0]
	var labels []string
	for _, x := range svg.find("text", "msglabel") {
		labels = append(labels, x.Text)
	}
	assert.Equal(t, []string{"KV.Get"}, labels, "the labelled message names its arrow")
	assert.Len(t, svg.find("g", "drop"), 0, "nothing reported this loss")
	assert.Len(t, svg.find("g", "lost"), 1)
	var lanes []string
	for _, x := range svg.find("text", "lanename") {
		lanes = append(lanes, x.Text)
	}
	assert.Equal(t, []string{"a", "b node"}, lanes)
	rows := root.find("tr", "")
	assert.Len(t, rows, len(events)+1, "the table lists every event")
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
	svg := root.find("svg", "")[0]
	require.Len(t, svg.find("g", "drop"), 1)
	assert.Len(t, svg.find("line", "orphan"), 1)
	drop := svg.find("g", "drop")[0]
	title, _ := drop.child("title")
	assert.Contains(t, title.Text, "dropped by the network")
	var untraced int
	for _, l := range svg.find("line", "untraced") {
		_ = l
		untraced++
	}
	assert.Equal(t, 1, untraced, "x gets a dashed line: it has no events here")
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
