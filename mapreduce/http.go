package mapreduce

import (
	"encoding/json"
	"html/template"
	"net/http"
	"strings"
	"time"
)

// Handler returns an http.Handler for the job's status page, like the
// paper's master status page: the phase, the counters, the workers, and
// every task with its attempts (which worker, how it ended, backups). The
// page refreshes itself every two seconds. A request with ?format=json, or
// one that accepts application/json, gets the Status as JSON instead.
//
//	http.Handle("/mapreduce/", c.Handler())
func (c *Coordinator) Handler() http.Handler {
	page := template.Must(template.New("status").Funcs(template.FuncMap{
		"dur": func(d time.Duration) string { return d.Round(time.Millisecond).String() },
		"tasks": func(ts []TaskStatus, now time.Time) any {
			return struct {
				Tasks []TaskStatus
				Now   time.Time
			}{ts, now}
		},
		"span": func(a AttemptStatus, now time.Time) string {
			end := a.End
			if end.IsZero() {
				end = now
			}
			return end.Sub(a.Start).Round(time.Millisecond).String()
		},
	}).Parse(statusTemplate))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		st := c.Status()
		if r.URL.Query().Get("format") == "json" || strings.Contains(r.Header.Get("Accept"), "application/json") {
			w.Header().Set("Content-Type", "application/json")
			enc := json.NewEncoder(w)
			enc.SetIndent("", "  ")
			_ = enc.Encode(st) // a failed write means the client left
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_ = page.Execute(w, struct {
			Status
			Now time.Time
		}{st, st.Start.Add(st.Elapsed)})
	})
}

const statusTemplate = `<!DOCTYPE html>
<html><head><meta charset="utf-8">
{{if and (ne .Phase "done") (ne .Phase "failed")}}<meta http-equiv="refresh" content="2">{{end}}
<title>mapreduce {{.Job}}: {{.Phase}}</title>
<style>
body { font-family: sans-serif; margin: 2em; }
table { border-collapse: collapse; margin-bottom: 1.5em; }
td, th { border: 1px solid #ccc; padding: 2px 8px; text-align: left; }
.done, .succeeded { background: #dfd; } .running, .busy { background: #ffd; }
.failed, .lost { background: #fdd; } .killed, .exited { color: #888; }
</style></head><body>
<h1>mapreduce job {{.Job}}: {{.Phase}}</h1>
<p>map {{.Progress.MapsDone}}/{{.Progress.Maps}} &middot; reduce {{.Progress.ReducesDone}}/{{.Progress.Reduces}} &middot; workers {{.Progress.Workers}} &middot; elapsed {{dur .Elapsed}}</p>
{{with .Err}}<p class="failed">{{.}}</p>{{end}}
<h2>Workers</h2>
<table><tr><th>id</th><th>address</th><th>state</th><th>running</th><th>attempts done</th></tr>
{{range .Workers}}<tr class="{{.State}}"><td>{{.ID}}</td><td>{{.Addr}}</td><td>{{.State}}</td><td>{{.Running}}</td><td>{{.Finished}}</td></tr>
{{end}}</table>
<h2>Counters</h2>
<table>{{range $name := .Counters.Names}}<tr><td>{{$name}}</td><td>{{index $.Counters $name}}</td></tr>
{{end}}</table>
<h2>Map tasks</h2>
{{template "tasks" (tasks .Maps .Now)}}
<h2>Reduce tasks</h2>
{{template "tasks" (tasks .Reduces .Now)}}
</body></html>
{{define "tasks"}}<table><tr><th>task</th><th>input</th><th>state</th><th>attempts (worker, state, time)</th></tr>
{{range .Tasks}}<tr class="{{.State}}"><td>{{.Index}}</td><td>{{.Input}}</td><td>{{.State}}</td><td>
{{range .Attempts}}<span class="{{.State}}">#{{.ID}}{{if .Backup}} (backup){{end}} on {{.Worker}}: {{.State}} {{span . $.Now}}{{with .Err}} &ndash; {{.}}{{end}}</span><br>{{end}}
</td></tr>
{{end}}</table>{{end}}`
