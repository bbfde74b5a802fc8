package trace

import (
	_ "embed"
	"html/template"
	"io"
)

// diagramHTML is the page WriteHTML fills in: plain HTML with an inline SVG
// and a style sheet, no script, and no reference to anything outside the
// page, so that it opens from a file in any browser, offline. It is also
// well-formed XML, which lets the tests check it with encoding/xml.
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
// a dot per event, an arrow from each send to each of its receives
// (labelled with the rpc method or ContextWithLabel label it carried), a
// red cross for a message reported dropped and a grey one for a message
// never received. Hovering over anything shows its details (the event, its
// vector clock, the start of the payload). A table of every event follows.
//
// The page needs no server and no network: it has no scripts and no
// external references.
func WriteHTML(w io.Writer, title string, events []Event) error {
	t, err := diagramPage()
	if err != nil {
		return err
	}
	return t.Execute(w, layout(title, events))
}
