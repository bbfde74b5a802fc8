package mapreduce

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestSplitsCoverEveryLineOnce(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		contents string
		size     int64
	}{
		{"empty file", "", 4},
		{"one line no newline", "hello", 2},
		{"boundary on newline", "abc\ndef\nghi\n", 4},
		{"boundary inside line", "abcdef\ngh\nijklmnop\nq\n", 5},
		{"line longer than splits", strings.Repeat("x", 50) + "\nshort\n", 7},
		{"no trailing newline", "a\nbb\nccc", 3},
		{"blank lines", "\n\n\n\nx\n\n", 1},
		{"size larger than file", "one\ntwo\n", 100},
		{"no split", "one\ntwo\nthree\n", -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), "in")
			require.NoError(t, os.WriteFile(path, []byte(tt.contents), 0o644))
			assert.Equal(t, tt.contents, splitContents(t, path, tt.size))
		})
	}
}

func TestSplitsCoverRandomFiles(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	dir := t.TempDir()
	for i := range 200 {
		var sb strings.Builder
		for range rng.IntN(30) {
			sb.WriteString(strings.Repeat("w", rng.IntN(20)))
			sb.WriteByte('\n')
		}
		if rng.IntN(2) == 0 {
			sb.WriteString("tail")
		}
		path := filepath.Join(dir, "f")
		require.NoError(t, os.WriteFile(path, []byte(sb.String()), 0o644))
		size := int64(1 + rng.IntN(40))
		require.Equal(t, sb.String(), splitContents(t, path, size), "file %d, split size %d", i, size)
	}
}

// splitContents plans the splits of path and returns their contents,
// checking that every split but the last non-empty one ends with a newline
// (so that each starts at the beginning of a line).
func splitContents(tb testing.TB, path string, size int64) string {
	tb.Helper()
	splits, err := planSplits([]string{path}, size)
	require.NoError(tb, err)
	var parts []string
	for _, s := range splits {
		b, err := readSplit(s)
		require.NoError(tb, err)
		if len(b) > 0 {
			parts = append(parts, b)
		}
	}
	for i, p := range parts[:max(0, len(parts)-1)] {
		require.True(tb, strings.HasSuffix(p, "\n"), "split %d ends inside a line: %q", i, p)
	}
	return strings.Join(parts, "")
}

func TestPlanSplitsErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	_, err := planSplits([]string{filepath.Join(dir, "missing")}, 10)
	require.ErrorIs(t, err, os.ErrNotExist)
	_, err = planSplits([]string{dir}, 10)
	require.ErrorIs(t, err, ErrInvalidJob)
}

func TestCountRecords(t *testing.T) {
	t.Parallel()
	for give, want := range map[string]int64{"": 0, "a": 1, "a\n": 1, "a\nb": 2, "\n\n": 2} {
		assert.Equal(t, want, countRecords(give), "%q", give)
	}
}

func TestSplitsOfAFileAreEqual(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "in")
	require.NoError(t, os.WriteFile(path, make([]byte, 25), 0o644))
	splits, err := planSplits([]string{path}, 16)
	require.NoError(t, err)
	assert.Equal(t, []split{{path, 0, 12}, {path, 12, -1}}, splits, "two of 12.5, not 16 and 9")
	splits, err = planSplits([]string{path}, 5)
	require.NoError(t, err)
	assert.Len(t, splits, 5)
	for i, s := range splits[:4] {
		assert.Equal(t, int64(5), s.Length, "split %d", i)
	}
}
