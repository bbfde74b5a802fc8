package trace_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/trace"
)

// Each node's events, as if each had been recorded by a Recorder of its
// own in its own process, merge back into one trace with the same
// causality and whole arrows.
func TestMergeTracesOfSeparateProcesses(t *testing.T) {
	t.Parallel()
	events := runKnownExchange(t).Events()
	perNode := map[string][]trace.Event{}
	for _, e := range events {
		perNode[e.Node] = append(perNode[e.Node], e)
	}
	// Give the traces in an order where receives come before their sends.
	merged := trace.MergeTraces(perNode["c"], perNode["b"], perNode["a"])
	require.Len(t, merged, len(events))
	sent := map[trace.MessageID]bool{}
	for _, e := range merged {
		m, _ := e.Message()
		switch e.Kind {
		case trace.KindSend:
			sent[m] = true
		case trace.KindReceive:
			assert.True(t, sent[m], "receive %v before its send", e)
		}
	}
	requireClocksMatchCausality(t, merged)
	_, root := requireValidHTML(t, merged)
	assert.Empty(t, root.find("line", "orphan"), "every arrow starts at its send")
}
