package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// The live demo's check, on what the service could hold after clerks c1
// and c2 made two rounds: c1's appends acknowledged, c2's first append
// acknowledged and its second maybe applied; c1's puts acknowledged, c2's
// second put maybe applied.
func TestTheCheckFindsEveryWrongValue(t *testing.T) {
	tests := []struct {
		name string
		log  string
		c1   string
		c2   string
		want string
	}{
		{"exact, the maybe in", "c1.1 c2.1 c1.2 c2.2 ", "2", "2", "log holds 4 marks for 3 appends acknowledged and 1 of 1 maybe applied: 0 lost, 0 doubled, 0 stray; 0 keys wrong: exact"},
		{"exact, the maybe out", "c1.1 c2.1 c1.2 ", "2", "1", "log holds 3 marks for 3 appends acknowledged and 0 of 1 maybe applied: 0 lost, 0 doubled, 0 stray; 0 keys wrong: exact"},
		{"an append lost", "c1.1 c2.1 ", "2", "1", "0 of 1 maybe applied: 1 lost, 0 doubled, 0 stray; 0 keys wrong: WRONG"},
		{"an append doubled", "c1.1 c2.1 c1.2 c1.2 ", "2", "1", "1 doubled, 0 stray; 0 keys wrong: WRONG"},
		{"a maybe doubled", "c1.1 c2.1 c1.2 c2.2 c2.2 ", "2", "2", "1 doubled, 0 stray; 0 keys wrong: WRONG"},
		{"a mark nobody made", "c1.1 c2.1 c1.2 c3.1 ", "2", "1", "0 lost, 0 doubled, 1 stray; 0 keys wrong: WRONG"},
		{"a put lost", "c1.1 c2.1 c1.2 ", "1", "1", "1 keys wrong: WRONG"},
		{"a put never made", "c1.1 c2.1 c1.2 ", "2", "3", "1 keys wrong: WRONG"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := &audit{clerks: []string{"c1", "c2"}, appends: map[string]outcome{}, puts: map[string][]putDone{}}
			a.appended("c1.1", done)
			a.put("c1", "1", done)
			a.appended("c2.1", done)
			a.put("c2", "1", done)
			a.appended("c1.2", done)
			a.put("c1", "2", done)
			a.appended("c2.2", maybe)
			a.put("c2", "2", maybe)
			assert.Contains(t, a.judge(tt.log, map[string]string{"c1": tt.c1, "c2": tt.c2}), tt.want)
		})
	}
}

// A clerk told that its append did not apply finds it absent.
func TestAnAppendToldNotAppliedMustBeAbsent(t *testing.T) {
	a := &audit{clerks: []string{"c1"}, appends: map[string]outcome{}, puts: map[string][]putDone{}}
	a.appended("c1.1", notApplied)
	a.put("c1", "1", notApplied)
	assert.Contains(t, a.judge("", map[string]string{"c1": ""}), "0 stray; 0 keys wrong: exact")
	assert.Contains(t, a.judge("c1.1 ", map[string]string{"c1": "1"}), "1 stray; 1 keys wrong: WRONG")
}
