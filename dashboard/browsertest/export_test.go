package browsertest

import (
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/distsys-kit/distsys/transport/netsim"
)

// The test that Export downloads after a session of clicks is Go that
// compiles against this repository, and replays those clicks.
func TestExportedTestCompiles(t *testing.T) {
	s := newSystem(t)
	ctx := open(t, s)
	split := s.expect(changed(netsim.EventPartition))
	do(t, ctx, chromedp.Click(chromedp.CSS(`button.chip[data-node="b"]`)), chromedp.Click(chromedp.ID("split")))
	split.wait(t, "the partition")
	crash := s.expect(changed(netsim.EventCrash))
	do(t, ctx, chromedp.Click(chromedp.CSS(`g.node[data-node="c"] circle`)))
	crash.wait(t, "the crash")
	heal := s.expect(changed(netsim.EventHeal))
	do(t, ctx, chromedp.Click(chromedp.ID("heal")))
	heal.wait(t, "the heal")

	href := eval[string](t, ctx, `document.getElementById("export").href`)
	resp, err := http.Get(href)
	require.NoError(t, err)
	defer resp.Body.Close()
	assert.Contains(t, resp.Header.Get("Content-Disposition"), `filename="replay_test.go"`)
	src, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	for _, want := range []string{`n.Partition([]string{"b"})`, `n.Crash("c")`, `n.Heal()`, "netsim.NewNetwork(1)"} {
		assert.Contains(t, string(src), want)
	}
	assert.Less(t, strings.Index(string(src), "n.Partition"), strings.Index(string(src), "n.Heal()"), "in the order clicked")

	// Type-check it as the compiler would, importing this repository's
	// packages from source.
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, "replay_test.go", src, parser.ParseComments)
	require.NoError(t, err, "%s", src)
	conf := types.Config{Importer: importer.ForCompiler(fset, "source", nil)}
	_, err = conf.Check("replay_test", fset, []*ast.File{f}, nil)
	require.NoError(t, err, "%s", src)
}
