package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// The Routes page's live parts, as TestDashboardInABrowser drives them in
// Chromium: traffic, per-backend latency, search.

// routeCard finds the card of the route whose rule names host.
func routeCard(host string) string {
	return fmt.Sprintf(`[...document.querySelectorAll("article.route")].find(a => a.querySelector("code.rule").textContent.includes(%q))`, host)
}

// checkLiveTraffic sends requests through the edge while the Routes page is
// open: the route's numbers and sparkline grow, and a 502 shows in the
// recent errors, without a reload.
func checkLiveTraffic(t *testing.T, ctx context.Context, base string, httpsPort int, host string) {
	t.Helper()
	card := routeCard(host)
	// The 15-minute row: the 1-minute one may already drop the earliest
	// requests of a slow run.
	twoXX := card + `.querySelector("table.traffic tbody tr:nth-child(3) td:nth-child(3)").textContent`
	spark := card + `.querySelector("svg.spark").getAttribute("aria-label")`
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/routes"),
		chromedp.WaitVisible(chromedp.CSS("main")), chromedp.Evaluate[chromedp.Void](`window.__notReloaded = true`)); err != nil {
		t.Fatal(err)
	}
	before, err := chromedp.Run(ctx, chromedp.Evaluate[string](twoXX))
	if err != nil {
		t.Fatalf("no traffic table on the %s route: %v", host, err)
	}
	label, err := chromedp.Run(ctx, chromedp.Evaluate[string](spark))
	if err != nil {
		t.Fatalf("no sparkline on the %s route: %v", host, err)
	}
	n, _ := strconv.Atoi(before)
	sendHTTPSTraffic(t, httpsPort, host, 7)
	if code := httpsStatus(t, httpsPort, "broken.web.example.test"); code != http.StatusBadGateway {
		t.Fatalf("the route to a closed port answered %d, want 502", code)
	}
	tctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	want := strconv.Itoa(n + 7)
	if _, err := chromedp.Run(tctx, chromedp.Poll[bool](
		fmt.Sprintf(`%s === %q && %s !== %q && (document.getElementById("recent-errors") || {textContent: ""}).textContent.includes("502")`,
			twoXX, want, spark, label),
		chromedp.WithPollingInterval(200*time.Millisecond))); err != nil {
		got, _ := chromedp.Run(ctx, chromedp.Evaluate[string](twoXX))
		got2, _ := chromedp.Run(ctx, chromedp.Evaluate[string](spark))
		t.Fatalf("traffic did not appear on the Routes page: 2xx %q (want %s), sparkline %q (was %q): %v", got, want, got2, label, err)
	}
	errs, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("recent-errors").textContent`))
	if err != nil || !strings.Contains(errs, "file/broken") || !strings.Contains(errs, "did not answer") {
		t.Errorf("recent errors %q (%v)", errs, err)
	}
	if kept, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.__notReloaded === true`)); err != nil || !kept {
		t.Errorf("the page was reloaded to show the traffic (%v)", err)
	}
	checkBackendLatency(t, ctx, card)
	if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`document.getElementById("recent-errors").open = true`)); err != nil {
		t.Fatal(err)
	}
}

// checkBackendLatency: the backends that answered the traffic show their
// p50 · p95 · p99 in their row, and every window in the card's "each
// backend" details, which stay open across the page's refreshes.
func checkBackendLatency(t *testing.T, ctx context.Context, card string) {
	t.Helper()
	const figures = `^[0-9.]+(µs|ms|s) · [0-9.]+(µs|ms|s) · [0-9.]+(µs|ms|s)$`
	rows, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...`+card+`.querySelectorAll("td.b-lat")].map(td => td.textContent)`))
	if err != nil || !slices.ContainsFunc(rows, regexp.MustCompile(figures).MatchString) {
		t.Fatalf("no backend shows its latency over the last minute: %q (%v)", rows, err)
	}
	status := `document.getElementById("refresh-status").textContent`
	was, err := chromedp.Run(ctx, chromedp.Evaluate[string](card+`.querySelector("details.bwin").open = true, `+status))
	if err != nil {
		t.Fatalf("no per-backend details on the card: %v", err)
	}
	// After a refresh: still open, and a backend with all three windows'
	// p50 · p95 · p99 as figures.
	shown := fmt.Sprintf(`%s !== %q && %s.querySelector("details.bwin").open && [...%s.querySelectorAll("details.bwin tbody.bw")].some(tb =>
		[...tb.querySelectorAll("tr")].filter(tr => tr.querySelector("td.p50") &&
			/%s/.test([...tr.querySelectorAll("td.p50, td.p95, td.p99")].map(td => td.textContent).join(" · "))).length === 3)`,
		status, was, card, card, figures)
	tctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if _, err := chromedp.Run(tctx, chromedp.Poll[bool](shown, chromedp.WithPollingInterval(200*time.Millisecond))); err != nil {
		html, _ := chromedp.Run(ctx, chromedp.Evaluate[string](card+`.querySelector("details.bwin").outerHTML`))
		t.Fatalf("the per-backend windows do not show latency after a refresh: %v\n%s", err, html)
	}
}

// checkSearch types into the Routes search box: the list narrows without a
// reload and the address bar keeps the query.
func checkSearch(t *testing.T, ctx context.Context, host string) {
	t.Helper()
	all, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll("article.route").length`))
	if err != nil || all < 3 {
		t.Fatalf("%d routes before searching (%v)", all, err)
	}
	if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](`window.__notReloaded = true`),
		chromedp.SendKeys(chromedp.CSS("#q"), "mixedcase")); err != nil {
		t.Fatal(err)
	}
	tctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if _, err := chromedp.Run(tctx, chromedp.Poll[bool](
		fmt.Sprintf(`document.querySelectorAll("article.route").length === 1 && document.querySelector("article.route code.rule").textContent.includes(%q)`, host),
		chromedp.WithPollingInterval(100*time.Millisecond))); err != nil {
		t.Fatalf("the search did not narrow the routes to %s: %v", host, err)
	}
	search, err := chromedp.Run(ctx, chromedp.Evaluate[string](`location.search`))
	if err != nil || search != "?q=mixedcase" {
		t.Errorf("address bar query %q (%v)", search, err)
	}
	if kept, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.__notReloaded === true`)); err != nil || !kept {
		t.Errorf("the search reloaded the page (%v)", err)
	}
}

// httpsStatus makes one request to host through the edge's HTTPS port.
func httpsStatus(t *testing.T, httpsPort int, host string) int {
	t.Helper()
	c := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true, ServerName: host}, //nolint:gosec // test traffic
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return (&net.Dialer{}).DialContext(ctx, network, "127.0.0.1:"+strconv.Itoa(httpsPort))
		},
	}}
	defer c.CloseIdleConnections()
	resp, err := c.Get("https://" + host + "/?token=s3cret")
	if err != nil {
		t.Fatalf("request through the edge: %v", err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}
