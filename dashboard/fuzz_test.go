package dashboard_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/distsys-kit/distsys/dashboard"
	"github.com/distsys-kit/distsys/transport/netsim"
)

// FuzzControls sends any body to any control: the answer is 200 or a 400
// with a message, never a panic or a 500.
//
//	go test -run='^$' -fuzz=FuzzControls -fuzztime=60s ./dashboard/
func FuzzControls(f *testing.F) {
	controls := []string{"partition", "heal", "crash", "restart", "link", "faults", "pause", "resume", "step", "slow"}
	f.Add(uint8(0), `{"groups": [["a"], ["b"]]}`)
	f.Add(uint8(2), `{"node": "a"}`)
	f.Add(uint8(4), `{"from": "a", "to": "b", "cut": true}`)
	f.Add(uint8(5), `{"from": "a", "to": "b", "drop": 0.5, "delayMs": 1e300}`)
	f.Add(uint8(8), `{"count": 3}`)
	f.Add(uint8(9), `{"rate": 0}`)
	f.Add(uint8(0), `{"groups": [[""]]}`)
	f.Fuzz(func(t *testing.T, which uint8, body string) {
		n := netsim.NewNetwork(1)
		defer n.Close()
		for _, name := range []string{"a", "b"} {
			pc, err := n.ListenPacket(name)
			if err != nil {
				t.Fatal(err)
			}
			defer pc.Close()
		}
		d := dashboard.New(n)
		defer d.Close()
		rec := httptest.NewRecorder()
		path := "/api/" + controls[int(which)%len(controls)]
		d.ServeHTTP(rec, httptest.NewRequest("POST", path, strings.NewReader(body)))
		switch rec.Code {
		case http.StatusOK:
		case http.StatusBadRequest:
			if strings.TrimSpace(rec.Body.String()) == "" {
				t.Errorf("%s %q: a 400 without a message", path, body)
			}
		default:
			t.Errorf("%s %q: status %d: %s", path, body, rec.Code, rec.Body)
		}
	})
}
