package trace

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// WriteJSON writes events as JSON lines: one JSON object per event and
// line, with the fields of Event under their json names. It is the format
// to keep a trace in, or to feed to other tools (jq, a notebook); ReadJSON
// reads it back.
func WriteJSON(w io.Writer, events []Event) error {
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	enc.SetEscapeHTML(false)
	for _, e := range events {
		if err := enc.Encode(e); err != nil {
			return err
		}
	}
	return bw.Flush()
}

// ReadJSON reads events written by WriteJSON. It returns an error matching
// ErrBadEvent, naming the event, for input that is not JSON or an event
// that could not have been recorded: an unknown kind, no node, or a clock
// without an entry for the event's node or its message's sender.
func ReadJSON(r io.Reader) ([]Event, error) {
	dec := json.NewDecoder(r)
	var events []Event
	for i := 1; ; i++ {
		var e Event
		err := dec.Decode(&e)
		if errors.Is(err, io.EOF) {
			return events, nil
		}
		if err != nil {
			return events, fmt.Errorf("%w: event %d: %v", ErrBadEvent, i, err)
		}
		if err := e.validate(); err != nil {
			return events, fmt.Errorf("%w: event %d: %v", ErrBadEvent, i, err)
		}
		events = append(events, e)
	}
}

// validate reports what makes e an event no Recorder records.
func (e Event) validate() error {
	switch {
	case !e.Kind.valid():
		return fmt.Errorf("unknown kind %q", e.Kind)
	case e.Kind.network():
		return nil // a change of the network: a label, and nothing else needed
	case e.Node == "":
		return errors.New("no node")
	case e.Kind.process() && e.Clock[e.Node] == 0:
		return fmt.Errorf("clock %v has no entry for its node %q", e.Clock, e.Node)
	}
	if m, ok := e.Message(); ok && (m.From == "" || m.N == 0 || e.Clock[m.From] < m.N) {
		return fmt.Errorf("message %s does not match clock %v", m, e.Clock)
	}
	return nil
}
