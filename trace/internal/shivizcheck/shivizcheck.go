// Package shivizcheck checks that a log is one ShiViz accepts, by the
// rules ShiViz enforces when it parses a log (https://bestchai.bitbucket.io/shiviz/):
// the first line is a regular expression with host, clock and event
// groups; an empty line follows; every event's clock is a JSON object of
// host names to counts; each host's own count starts at 1 and goes up by
// exactly one at each of its events; a host's clock never goes back; and a
// clock names only events that are in the log.
//
// It is for the tests of package trace and its neighbours.
package shivizcheck

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
)

// Event is one event of a log, as the log's regular expression parses it.
type Event struct {
	Host  string
	Clock map[string]uint64
	Text  string
}

// Check parses log and returns its events, or an error saying which rule
// the log breaks.
func Check(log string) ([]Event, error) {
	first, rest, ok := strings.Cut(log, "\n")
	if !ok {
		return nil, fmt.Errorf("no line after the regular expression")
	}
	re, err := regexp.Compile(first)
	if err != nil {
		return nil, fmt.Errorf("first line is not a regular expression: %v", err)
	}
	for _, g := range []string{"host", "clock", "event"} {
		if re.SubexpIndex(g) < 0 {
			return nil, fmt.Errorf("regular expression has no %q group", g)
		}
	}
	body, ok := strings.CutPrefix(rest, "\n")
	if !ok {
		return nil, fmt.Errorf("no empty line after the regular expression")
	}
	var events []Event
	counts := map[string]uint64{}          // each host's events so far
	last := map[string]map[string]uint64{} // each host's latest clock
	for _, m := range re.FindAllStringSubmatch(body, -1) {
		e := Event{Host: m[re.SubexpIndex("host")], Text: m[re.SubexpIndex("event")]}
		if err := json.Unmarshal([]byte(m[re.SubexpIndex("clock")]), &e.Clock); err != nil {
			return nil, fmt.Errorf("event %d: clock %q: %v", len(events)+1, m[re.SubexpIndex("clock")], err)
		}
		counts[e.Host]++
		if got := e.Clock[e.Host]; got != counts[e.Host] {
			return nil, fmt.Errorf("event %d (%s %q): own count %d, want %d", len(events)+1, e.Host, e.Text, got, counts[e.Host])
		}
		for h, n := range last[e.Host] {
			if e.Clock[h] < n {
				return nil, fmt.Errorf("event %d (%s): clock of %s went back from %d to %d", len(events)+1, e.Host, h, n, e.Clock[h])
			}
		}
		last[e.Host] = e.Clock
		events = append(events, e)
	}
	if strings.Count(body, "\n") != 2*len(events) {
		return nil, fmt.Errorf("%d lines for %d events: some lines do not parse", strings.Count(body, "\n"), len(events))
	}
	for i, e := range events {
		for h, n := range e.Clock {
			if n > counts[h] {
				return nil, fmt.Errorf("event %d (%s) knows event %d of %s, which has %d", i+1, e.Host, n, h, counts[h])
			}
		}
	}
	return events, nil
}
