package trace

import (
	"bufio"
	"io"
	"strings"
	"unicode"
)

// ShiVizRegexp is the regular expression that parses the log WriteShiViz
// writes, in ShiViz's syntax (which Go's regexp package accepts as well).
// Each event is two lines: the node and its vector clock as JSON, then what
// happened.
//
//	b {"a":1,"b":2}
//	receive "KV.Get" (12 bytes) from a
//
// WriteShiViz puts it on the first line of the log, so the file can be
// uploaded to ShiViz (https://bestchai.bitbucket.io/shiviz/) as it is.
const ShiVizRegexp = `(?<host>\S*) (?<clock>{.*})\n(?<event>.*)`

// WriteShiViz writes events as a ShiViz log: the parsing regular expression
// (ShiVizRegexp) on the first line, an empty line (ShiViz's delimiter of
// multiple executions: there is one), then two lines per event.
//
// ShiViz wants each node's clock to count up by one from 1, so only the
// events of processes (sends, receives, resends, discards, local events,
// crashes and restarts) get lines: the notes (drops, duplicates, changes
// of the network) tick no clock. The send of a lost message says it was
// lost instead, as does the send of a message that was never received. Whitespace in node names, which
// the regular expression cannot parse, becomes '_', in clocks too; line
// breaks in event text become spaces, and control characters U+FFFD.
func WriteShiViz(w io.Writer, events []Event) error {
	lost := lostNotes(events)
	received := receivedSet(events)
	bw := bufio.NewWriter(w)
	bw.WriteString(ShiVizRegexp + "\n\n")
	for _, e := range events {
		if !e.Kind.process() {
			continue
		}
		text := e.String()
		if m, _ := e.Message(); e.Kind == KindSend {
			switch {
			case lost[m] != "":
				text += " [" + lost[m] + "]"
			case !received[m]:
				text += " [never received]"
			}
		}
		clock := make(VectorClock, len(e.Clock))
		for node, n := range e.Clock {
			clock[shivizHost(node)] = n
		}
		bw.WriteString(shivizHost(e.Node) + " " + clock.String() + "\n")
		bw.WriteString(oneLine(clean(text)) + "\n")
	}
	return bw.Flush()
}

// lostNotes returns, for each message with drop events, what they say.
func lostNotes(events []Event) map[MessageID]string {
	notes := make(map[MessageID]string)
	for _, e := range events {
		if e.Kind != KindDrop {
			continue
		}
		m, _ := e.Message()
		note := "lost"
		if e.Note != "" {
			note += ": " + e.Note
		}
		if notes[m] != "" {
			note = notes[m] + "; " + note
		}
		notes[m] = note
	}
	return notes
}

// receivedSet returns the messages that have a receive event.
func receivedSet(events []Event) map[MessageID]bool {
	received := make(map[MessageID]bool)
	for _, e := range events {
		if m, _ := e.Message(); e.Kind == KindReceive {
			received[m] = true
		}
	}
	return received
}

// shivizHost makes a node name that ShiViz's \S* can parse.
func shivizHost(node string) string {
	if node == "" {
		return "_"
	}
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return '_'
		}
		return r
	}, clean(node))
}

// oneLine replaces line breaks, which would end the event text early.
func oneLine(s string) string {
	return strings.NewReplacer("\r\n", " ", "\n", " ", "\r", " ", "\u2028", " ", "\u2029", " ").Replace(s)
}
