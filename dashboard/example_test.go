package dashboard_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/distsys-kit/distsys/dashboard"
	"github.com/distsys-kit/distsys/transport/netsim"
)

// A dashboard is an http.Handler: mount it, and its controls change the
// network. (In a browser, a click sends these requests.)
func Example() {
	n := netsim.NewNetwork(1)
	defer n.Close()
	for _, name := range []string{"a", "b"} {
		pc, _ := n.ListenPacket(name)
		defer pc.Close()
	}
	d := dashboard.New(n)
	srv := httptest.NewServer(d)
	defer srv.Close()
	defer d.Close() // first: it ends the browsers' event streams

	control := func(path, body string) {
		resp, err := http.Post(srv.URL+path, "application/json", strings.NewReader(body))
		if err != nil {
			fmt.Println(err)
			return
		}
		defer resp.Body.Close()
		msg, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != http.StatusOK {
			fmt.Printf("%s: %s", resp.Status, msg)
			return
		}
		fmt.Println(resp.Status, "partition:", n.State().Groups)
	}
	control("/api/partition", `{"groups": [["a"], ["b"]]}`)
	control("/api/crash", `{"node": "zed"}`)
	control("/api/faults", `{"drop": 2}`)
	control("/api/heal", ``)
	// Output:
	// 200 OK partition: [[a] [b]]
	// 400 Bad Request: bad request: unknown node "zed"
	// 400 Bad Request: bad request: drop 2 is not a probability in [0, 1]
	// 200 OK partition: []
}
