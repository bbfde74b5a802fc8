package trace

import (
	_ "embed"
	"html/template"
	"io"
)

// diagramHTML is the page WriteHTML fills in: plain HTML with inline SVG
// and a style sheet, no script, and no reference to anything outside the
// page, so that it opens from a file in any browser, offline. Its toggles
// (causal or timed view, routine messages shown or not) are radio buttons
// and a checkbox that style rules read. It is also well-formed XML, which
// lets the tests check it with encoding/xml.
//
//go:embed diagram.html.tmpl
var diagramHTML string

// diagramPage is parsed once per call: a package-level parsed template would
// be a global, and rendering a trace is not a hot path.
func diagramPage() (*template.Template, error) {
	return template.New("trace").Parse(diagramHTML)
}

// WriteHTML writes a self-contained HTML page showing events as a
// space-time diagram: one vertical line per node with time flowing down,
// grouped and ordered (client-1, client-2, ... under one header), a dot
// per event, and an arrow from each send to each of its receives, labelled
// with the rpc method or ContextWithLabel label it carried. It shows what
// went wrong: a red cross for every copy the network dropped, with its
// reason; a grey one for a message never received; a ring for a resend
// (retry, reply-cache answer), a dashed arrow to an open circle for a copy
// a node did not take (a duplicate); an orange cross for a message the
// program discarded; a cross on a node's line where it crashed, the line
// grey until it restarts; and a line across all nodes for each partition,
// heal and change of faults. Hovering over anything shows its details (the
// event, its vector clock, the start of the payload).
//
// The page offers two views, switched by a button: causal (rows by
// happens-before, compact) and timed (down the page in proportion to
// time, so that partitions and slow readers line up with what they
// cause). Routine messages (heartbeats, polls; see WithRoutine) are hidden
// until a box is ticked. A table of every event follows. The page fits a
// 1400-pixel screen, needs no server and no network: it has no scripts
// and no external references.
func WriteHTML(w io.Writer, title string, events []Event) error {
	return writeHTML(w, newPage(title, events, 0, nil))
}

// WriteHTML writes the page of the package's WriteHTML for the events
// recorded so far, with the Recorder's title, its routine labels
// (WithRoutine), and a note saying how many events WithMaxEvents left out,
// if any.
func (r *Recorder) WriteHTML(w io.Writer) error {
	return writeHTML(w, newPage(r.title, r.Events(), r.Omitted(), r.routine))
}

func writeHTML(w io.Writer, p page) error {
	t, err := diagramPage()
	if err != nil {
		return err
	}
	return t.Execute(w, p)
}
