package lock

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/internal/vfs"
)

func TestStateSurvivesSaveAndLoad(t *testing.T) {
	dir := t.TempDir() // the real file system
	st, err := loadState(vfs.OS{}, dir)
	require.NoError(t, err)
	assert.Zero(t, st, "a new directory")

	want := durableState{Epoch: 3, TokenLimit: 1 << 40, Horizon: 25 * time.Second}
	require.NoError(t, saveState(vfs.OS{}, dir, want))
	require.NoError(t, saveState(vfs.OS{}, dir, want)) // replacing works too
	got, err := loadState(vfs.OS{}, dir)
	require.NoError(t, err)
	assert.Equal(t, want, got)
	_, err = os.Stat(filepath.Join(dir, StateFileName+".tmp"))
	assert.ErrorIs(t, err, os.ErrNotExist, "the temporary file was renamed")
}

func TestSaveStateSyncsTheDataBeforeTheRenameAndTheDirectoryAfter(t *testing.T) {
	m := vfs.NewMem()
	require.NoError(t, m.MkdirAll("/d", 0o755))
	m.ResetOps()
	require.NoError(t, saveState(m, "/d", durableState{Epoch: 1, TokenLimit: 10}))
	var got []string
	for _, op := range m.Ops() {
		got = append(got, op.String())
	}
	assert.Equal(t, []string{
		"create /d/lock.state.tmp",
		"write /d/lock.state.tmp 36@0",
		"sync /d/lock.state.tmp",
		"rename /d/lock.state.tmp /d/lock.state",
		"syncdir /d",
	}, got)
}

var errPowerCut = errors.New("power cut")

// TestStateSurvivesAPowerCutAtAnyPoint saves a new state over an old one,
// cuts the power before each of the save's operations in turn (and after
// the last), and checks what a restarted server would read: the old state
// or the new one, never a damaged file; and the new one if the save had
// returned. Writes not yet synced are lost, or kept in part (torn), as the
// seed decides.
func TestStateSurvivesAPowerCutAtAnyPoint(t *testing.T) {
	old := durableState{Epoch: 1, TokenLimit: 4096, Horizon: time.Second}
	next := durableState{Epoch: 2, TokenLimit: 8192, Horizon: time.Second}
	setup := func() *vfs.Mem {
		m := vfs.NewMem()
		require.NoError(t, m.MkdirAll("/d", 0o755))
		require.NoError(t, saveState(m, "/d", old))
		m.ResetOps()
		return m
	}
	m := setup()
	require.NoError(t, saveState(m, "/d", next))
	steps := len(m.Ops())

	for cut := 0; cut <= steps; cut++ {
		for seed := range int64(4) {
			t.Run(fmt.Sprintf("cut before op %d, seed %d", cut, seed), func(t *testing.T) {
				m := setup()
				done := 0
				m.SetFault(func(vfs.Op) error {
					if done == cut {
						return errPowerCut // this op and every later one never happen
					}
					done++
					return nil
				})
				err := saveState(m, "/d", next)
				m.SetFault(nil)
				if seed == 0 {
					m.Crash()
				} else {
					m.CrashTorn(seed)
				}
				got, lerr := loadState(m, "/d")
				require.NoError(t, lerr, "after a save that got %d operations done (ops %v)", cut, m.Ops())
				if err == nil {
					assert.Equal(t, next, got, "the save returned, so the new state is durable")
				} else {
					assert.Contains(t, []durableState{old, next}, got)
				}
			})
		}
	}
}

func TestLeftoverTemporaryFileIsIgnored(t *testing.T) {
	// A crash between writing the temporary file and renaming it leaves
	// the old state in place, and a torn temporary file beside it.
	dir := t.TempDir()
	want := durableState{Epoch: 1, TokenLimit: 10}
	require.NoError(t, saveState(vfs.OS{}, dir, want))
	require.NoError(t, os.WriteFile(filepath.Join(dir, StateFileName+".tmp"), []byte("dsl"), 0o644))
	got, err := loadState(vfs.OS{}, dir)
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
			_, err := loadState(vfs.OS{}, dir)
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
