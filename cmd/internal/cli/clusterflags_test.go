package cli

import (
	"flag"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestClusterFlagsListenAndResolve(t *testing.T) {
	file := filepath.Join(t.TempDir(), "cluster.conf")
	require.NoError(t, os.WriteFile(file, []byte("lock=10.0.0.1:7070\nkv=10.0.0.2:7080\n"), 0o644))
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"default without a file", nil, ":9999"},
		{"the entry's port", []string{"-config", file}, ":7070"},
		{"another entry", []string{"-config", file, "-id", "kv"}, ":7080"},
		{"-listen wins", []string{"-config", file, "-listen", "127.0.0.1:1"}, "127.0.0.1:1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fs := flag.NewFlagSet("prog", flag.ContinueOnError)
			listen := fs.String("listen", ":9999", "")
			var cf ClusterFlags
			cf.Register(fs, "lock")
			require.NoError(t, fs.Parse(tt.args))
			require.NoError(t, cf.Load())
			got, err := cf.ListenAddr(fs, *listen)
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}

	cf := ClusterFlags{File: file, ID: "nope"}
	require.NoError(t, cf.Load())
	assert.Equal(t, "10.0.0.2:7080", cf.Resolve("kv"))
	assert.Equal(t, "h:1", cf.Resolve("h:1"))
	fs := flag.NewFlagSet("prog", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	_, err := cf.ListenAddr(fs, ":1")
	require.ErrorContains(t, err, `cluster.conf: -id: no peer "nope" in the cluster file`)

	require.ErrorContains(t, (&ClusterFlags{File: filepath.Join(t.TempDir(), "missing")}).Load(), "no such file")
}
