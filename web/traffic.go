package web

import (
	"fmt"
	"html/template"
	"strings"
	"time"

	"github.com/rancher-edge/edge/edge"
)

// TrafficView is a route's recent traffic: the last 1, 5 and 15 minutes,
// and requests and 5xx per minute for the sparkline.
type TrafficView struct {
	Windows []WindowView `json:"windows"`
	// PerMinute and ErrorsPerMinute are the last 15 minutes, oldest
	// first; the last entry is the current minute so far.
	PerMinute       []uint64 `json:"per_minute"`
	ErrorsPerMinute []uint64 `json:"errors_per_minute"`
}

// WindowView is what was served over one window.
type WindowView struct {
	Minutes int `json:"minutes"`
	// Requests is an estimate at the window's far edge, where a minute
	// is partly inside; RPS divides it by the window, or by the time
	// since the first request when that is shorter.
	Requests float64 `json:"requests"`
	RPS      float64 `json:"rps"`
	// Classes are responses by status class: "2xx" (with 1xx upgrades),
	// "3xx", "4xx", "5xx" (with a backend's failures to answer).
	Classes map[string]float64 `json:"classes"`
	// Latency quantiles, interpolated within the duration buckets, of the
	// window's timed requests: all of a route's (arrival to the end of
	// the response), a backend's answers (attempt start to response
	// head; its failures to answer have no duration). Absent without.
	P50 *Quantile `json:"p50,omitempty"`
	P95 *Quantile `json:"p95,omitempty"`
	P99 *Quantile `json:"p99,omitempty"`
}

// Quantile is one latency quantile.
type Quantile struct {
	Seconds float64 `json:"seconds"`
	// Beyond is true when the quantile lies past the last bucket bound,
	// which Seconds then is.
	Beyond bool `json:"beyond_last_bucket,omitempty"`
}

// ErrorView is one recent 5xx answer. It carries no header value, body,
// path or query string.
type ErrorView struct {
	Time            time.Time `json:"time"`
	Route           string    `json:"route"`
	RouteAnchor     string    `json:"route_anchor"`
	Backend         string    `json:"backend,omitempty"`
	Status          int       `json:"status"`
	DurationSeconds float64   `json:"duration_seconds"`
	Reason          string    `json:"reason"`
}

var classNames = [...]string{"2xx", "3xx", "4xx", "5xx"}

func trafficView(t edge.Traffic) TrafficView {
	v := TrafficView{Windows: []WindowView{}, PerMinute: t.PerMinute[:], ErrorsPerMinute: t.Errors[:]}
	for _, w := range t.Windows {
		wv := WindowView{Minutes: w.Minutes, Requests: round(w.Requests, 1), RPS: round(w.RPS, 3),
			Classes: make(map[string]float64, len(classNames))}
		for i, n := range classNames {
			wv.Classes[n] = round(w.Classes[i], 1)
		}
		if w.Timed > 0 {
			wv.P50 = &Quantile{round(w.P50, 6), w.Beyond[0]}
			wv.P95 = &Quantile{round(w.P95, 6), w.Beyond[1]}
			wv.P99 = &Quantile{round(w.P99, 6), w.Beyond[2]}
		}
		v.Windows = append(v.Windows, wv)
	}
	return v
}

func round(f float64, digits int) float64 {
	p := 1.0
	for range digits {
		p *= 10
	}
	return float64(int64(f*p+0.5)) / p
}

func errorViews(in []edge.ErrorRecord) []ErrorView {
	out := make([]ErrorView, 0, len(in))
	for _, e := range in {
		out = append(out, ErrorView{Time: e.Time, Route: e.Route, RouteAnchor: "route-" + slug(e.Route),
			Backend: redactURL(e.Backend), Status: e.Status, DurationSeconds: round(e.Duration.Seconds(), 6), Reason: e.Reason})
	}
	return out
}

// sparkline draws requests per minute as bars, the 5xx part of each in the
// error colour: an inline SVG made of numbers only, styled by the
// stylesheet (the CSP allows no inline style, and needs none).
func sparkline(t TrafficView) template.HTML {
	const w, h, bar = 150, 28, 10
	var peak uint64 = 1
	for _, n := range t.PerMinute {
		peak = max(peak, n)
	}
	var b strings.Builder
	var total, errs uint64
	for i, n := range t.PerMinute {
		total += n
		e := t.ErrorsPerMinute[i]
		errs += e
		x := i * bar
		hn := int(float64(n) / float64(peak) * (h - 2))
		if n > 0 {
			hn = max(hn, 2)
		}
		he := int(float64(e) / float64(peak) * (h - 2))
		if e > 0 {
			he = max(he, 2)
		}
		fmt.Fprintf(&b, `<rect class="req" x="%d" y="%d" width="%d" height="%d"><title>%s: %s, %d 5xx</title></rect>`,
			x+1, h-hn, bar-2, hn, minutesAgo(len(t.PerMinute)-1-i), plural(n, "request"), e)
		if he > 0 {
			fmt.Fprintf(&b, `<rect class="err" x="%d" y="%d" width="%d" height="%d"></rect>`, x+1, h-he, bar-2, he)
		}
	}
	label := fmt.Sprintf("%s and %s in the last 15 minutes", plural(total, "request"), plural(errs, "5xx answer"))
	return template.HTML(fmt.Sprintf(`<svg class="spark" viewBox="0 0 %d %d" width="%d" height="%d" role="img" aria-label="%s"><line class="base" x1="0" y1="%d" x2="%d" y2="%d"></line>%s</svg>`,
		w, h, w, h, label, h, w, h, b.String()))
}

// latency formats a quantile for people: "850µs", "12ms", "1.2s", "> 10s".
func latency(q *Quantile) string {
	if q == nil {
		return "—"
	}
	d := time.Duration(q.Seconds * float64(time.Second))
	prefix := ""
	if q.Beyond {
		prefix = "> "
	}
	switch {
	case d < time.Millisecond:
		return prefix + fmt.Sprintf("%dµs", d.Microseconds())
	case d < time.Second:
		return prefix + fmt.Sprintf("%.0fms", float64(d)/float64(time.Millisecond))
	}
	return prefix + fmt.Sprintf("%.2gs", d.Seconds())
}

// rate formats requests per second: "0", "0.05", "12.3", "1200".
func rate(f float64) string {
	switch {
	case f == 0:
		return "0"
	case f < 1:
		return fmt.Sprintf("%.2f", f)
	case f < 100:
		return fmt.Sprintf("%.1f", f)
	}
	return fmt.Sprintf("%.0f", f)
}

func minutesAgo(n int) string {
	if n == 0 {
		return "this minute"
	}
	return plural(n, "minute") + " ago"
}
