package lock

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestStateSurvivesSaveAndLoad(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "new") // loadState creates it
	st, err := loadState(dir)
	require.NoError(t, err)
	assert.Zero(t, st, "a new directory")

	want := durableState{Epoch: 3, TokenLimit: 1 << 40, Horizon: 25 * time.Second}
	require.NoError(t, saveState(dir, want))
	require.NoError(t, saveState(dir, want)) // replacing works too
	got, err := loadState(dir)
	require.NoError(t, err)
	assert.Equal(t, want, got)
	_, err = os.Stat(filepath.Join(dir, StateFileName+".tmp"))
	assert.ErrorIs(t, err, os.ErrNotExist, "the temporary file was renamed")
}

func TestLeftoverTemporaryFileIsIgnored(t *testing.T) {
	// A crash between writing the temporary file and renaming it leaves
	// the old state in place, and a torn temporary file beside it.
	dir := t.TempDir()
	want := durableState{Epoch: 1, TokenLimit: 10}
	require.NoError(t, saveState(dir, want))
	require.NoError(t, os.WriteFile(filepath.Join(dir, StateFileName+".tmp"), []byte("dsl"), 0o644))
	got, err := loadState(dir)
	require.NoError(t, err)
	assert.Equal(t, want, got)
}

func TestDamagedStateIsRefused(t *testing.T) {
	good := durableState{Epoch: 2, TokenLimit: 4096, Horizon: time.Second}.marshal()
	flip := func(i int) []byte {
		b := append([]byte(nil), good...)
		b[i] ^= 0x10
		return b
	}
	tests := []struct {
		name string
		give []byte
		want string
	}{
		{"empty", nil, "0 bytes, want 36"},
		{"truncated", good[:20], "20 bytes, want 36"},
		{"too long", append(append([]byte(nil), good...), 0), "37 bytes"},
		{"other file", []byte("this is not the lock state at all!!!"), "bad magic"},
		{"bit flip in limit", flip(20), "checksum"},
		{"bit flip in checksum", flip(35), "checksum"},
		{"zero epoch", durableState{TokenLimit: 1}.marshal(), "impossible values"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			require.NoError(t, os.WriteFile(filepath.Join(dir, StateFileName), tt.give, 0o644))
			_, err := loadState(dir)
			require.ErrorIs(t, err, ErrCorruptState)
			assert.ErrorContains(t, err, tt.want)
			assert.ErrorContains(t, err, filepath.Join(dir, StateFileName), "the error names the file")
		})
	}
}

func FuzzUnmarshalState(f *testing.F) {
	f.Add(durableState{Epoch: 1, TokenLimit: 1}.marshal())
	f.Add(durableState{Epoch: 9, TokenLimit: 1 << 60, Horizon: time.Hour}.marshal())
	f.Add([]byte(stateMagic))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		st, err := unmarshalState(b)
		if err != nil {
			return
		}
		// Whatever decodes is a state that encodes back to the same bytes.
		assert.Equal(t, b, st.marshal())
		assert.NotZero(t, st.Epoch)
		assert.NotZero(t, st.TokenLimit)
	})
}
