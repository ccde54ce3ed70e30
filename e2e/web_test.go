package e2e

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/siplens/siplens/admin"
	"github.com/siplens/siplens/diag"
	"github.com/siplens/siplens/siptest"
	"github.com/siplens/siplens/trace"
	"github.com/siplens/siplens/trace/tracetest"
)

const webToken = "web-test-token-4f1c"

// TestWebPages loads every page of the web UI in headless Chromium against a siplens
// that has handled real calls (SIPp: one answered, one 486, one 404, one 480), and
// checks what a person would see: the calls with their codes, the ladder's arrows, the
// diagnosis, the registrations, the code explanations and the overview's ASR. Each page
// is saved as a PNG in $SIPLENS_ARTIFACTS (default: siplens-artifacts in the temporary
// directory).
func TestWebPages(t *testing.T) {
	chromium := siptest.RequireTool(t, "chromium")
	srv := startServer(t, "", nil)

	// bob answers, carol is busy, dave never registered, nobody is not a user.
	callee(t, srv, "udp", "bob", "uas_answer.xml", nil)
	phone(t, srv, "udp", "carol", "uas_reject.xml", map[string]string{"code": "486", "reason": "Busy Here"})
	sipp(t, srv, "udp", "uac_call.xml", "alice", map[string]string{"callee": "bob", "hold": "300"}).Run(t).RequireOK(t)
	sipp(t, srv, "udp", "uac_expect_486.xml", "alice", map[string]string{"callee": "carol"}).Run(t).RequireOK(t)
	sipp(t, srv, "udp", "uac_expect_404.xml", "alice", map[string]string{"callee": "nobody"}).Run(t).RequireOK(t)
	sipp(t, srv, "udp", "uac_expect_480.xml", "alice", map[string]string{"callee": "dave"}).Run(t).RequireOK(t)
	answered := srv.call(t, "INVITE", "bob")
	busy := srv.call(t, "INVITE", "carol")
	missing := srv.call(t, "INVITE", "nobody")
	offline := srv.call(t, "INVITE", "dave")

	// The admin server as siplens serve runs it, with a token, on a free loopback port.
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(siptest.FreePort(t))))
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: admin.New(admin.Options{Traces: srv.traces, Locations: srv.loc, Self: []string{srv.Addr}, Token: webToken}),
		ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = hs.Serve(ln) }()
	t.Cleanup(func() { _ = hs.Close() })
	base := "http://" + ln.Addr().String()

	// The page is public, its data is not.
	if res, err := http.Get(base + "/api/calls"); err != nil || res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("GET /api/calls without a token: %v %v, want 401", res, err)
	}

	artifacts := os.Getenv("SIPLENS_ARTIFACTS")
	if artifacts == "" {
		artifacts = filepath.Join(os.TempDir(), "siplens-artifacts")
	}
	if err := os.MkdirAll(artifacts, 0o755); err != nil {
		t.Fatal(err)
	}

	ctx := newBrowser(t, chromium)
	b := &browser{t: t, ctx: ctx, base: base, artifacts: artifacts}

	t.Run("token form", func(t *testing.T) {
		b.t = t
		// Without a token the API answers 401 and the page asks for one.
		b.open("/#/calls")
		b.waitJS(`!document.querySelector('#login').hidden`, "the token form")
		b.do(chromedp.SendKeys(chromedp.CSS(`#login input[name=token]`), webToken))
		b.click(`#login button[type=submit]`)
		b.waitText("table.calls tbody", "486 Busy Here")
		if !inBrowser(b, chromedp.Evaluate[bool](`document.querySelector('#login').hidden`)) {
			t.Error("the token form is still shown")
		}
		b.do(chromedp.Evaluate[chromedp.Void](`sessionStorage.clear()`))
	})

	t.Run("calls", func(t *testing.T) {
		b.t = t
		b.open("/?token=" + webToken + "#/calls")
		// The token leaves the address bar at once, and the list shows every call.
		for _, want := range []string{"200 OK", "486 Busy Here", "404 Not Found", "480 Temporarily Unavailable", "alice@localhost", "busy", "not-found"} {
			b.waitText("table.calls tbody", want)
		}
		if loc := b.location(); strings.Contains(loc, "token=") {
			t.Errorf("the token is still in the address bar: %s", loc)
		}
		for _, id := range []string{answered.CallID, busy.CallID, missing.CallID, offline.CallID} {
			b.waitJS(fmt.Sprintf(`!!document.querySelector('tr[data-callid=%s]')`, jsString(id)), "a row for call "+id)
		}
		if !inBrowser(b, chromedp.Evaluate[bool](`document.querySelector('#alert').hidden`)) {
			t.Errorf("the page shows an error: %s", b.text("#alert"))
		}
		b.screenshot("calls")

		// Filters: only the 4xx calls of class 4, then a search by number.
		b.open("/#/calls?class=4")
		b.waitText("table.calls tbody", "486 Busy Here")
		if text := b.text("table.calls tbody"); strings.Contains(text, "200 OK") {
			t.Errorf("class=4 still lists a 200:\n%s", text)
		}
		b.open("/#/calls?q=carol")
		b.waitText("table.calls tbody", "486 Busy Here")
		if text := b.text("table.calls tbody"); strings.Contains(text, "404 Not Found") {
			t.Errorf("the search for carol lists the call to nobody:\n%s", text)
		}
	})

	t.Run("busy call", func(t *testing.T) {
		b.t = t
		b.open("/#/calls")
		b.click(fmt.Sprintf(`tr[data-callid=%s]`, jsString(busy.CallID)))
		b.waitJS(`document.querySelectorAll('#ladder .arrow').length > 0`, "the ladder's arrows")
		labels := b.arrowLabels()
		for _, want := range []string{"INVITE (SDP)", "100 Trying", "486 Busy Here", "ACK"} {
			if !hasPrefix(labels, want) {
				t.Errorf("the ladder has no arrow %q; it has %q", want, labels)
			}
		}
		// The diagnosis at the top is the server's own.
		d := diag.Diagnose(busy)
		b.waitText(".diagnosis .cause", d.Cause)
		b.waitText(".diagnosis", "What to check")
		// Clicking the 486 shows the message as it was on the wire.
		b.click(`#ladder .arrow[aria-label*="486 Busy Here"]`)
		b.waitText("#message pre.sip", "SIP/2.0 486 Busy Here")
		b.waitText("#message pre.sip", "Call-ID: "+busy.CallID)
		b.screenshot("call-486")
	})

	t.Run("answered call", func(t *testing.T) {
		b.t = t
		b.open("/#/call/" + url.PathEscape(answered.CallID))
		b.waitJS(`document.querySelectorAll('#ladder .arrow').length >= 8`, "the answered call's arrows")
		labels := b.arrowLabels()
		for _, want := range []string{"INVITE (SDP)", "180 Ringing", "200 OK (SDP)", "ACK", "BYE"} {
			if !hasPrefix(labels, want) {
				t.Errorf("the ladder has no arrow %q; it has %q", want, labels)
			}
		}
		// Columns: the caller, siplens and the callee.
		hosts := b.texts("#ladder .host text")
		if len(hosts) != 3 || !hasString(hosts, "siplens") {
			t.Errorf("the ladder's columns are %q, want the caller, siplens and bob's phone", hosts)
		}
		b.waitText(".diagnosis .cause", diag.Diagnose(answered).Cause)
		// A decision of siplens is drawn as a note.
		b.waitJS(`[...document.querySelectorAll('#ladder .note text')].some(e => e.textContent.includes('branch 1 opened'))`, "the note 'branch 1 opened'")
		b.click(`#ladder .arrow[aria-label*="180 Ringing"]`)
		b.waitText("#message pre.sip", "SIP/2.0 180 Ringing")
		b.screenshot("call-200")
		// The Mermaid export.
		b.click(`.tools button[title*="Mermaid"]`)
		b.waitJS(`(document.querySelector('.modal textarea')||{}).value?.startsWith('sequenceDiagram')`, "the Mermaid text")
		b.screenshotView("call-200-mermaid")
	})

	t.Run("not found call", func(t *testing.T) {
		b.t = t
		b.open("/#/call/" + url.PathEscape(missing.CallID))
		b.waitText(".diagnosis .cause", diag.Diagnose(missing).Cause)
		b.waitText(".diagnosis", "siplens step locate")
		labels := b.arrowLabels()
		if !hasPrefix(labels, "404 Not Found") {
			t.Errorf("the ladder has no 404: %q", labels)
		}
		b.screenshot("call-404")
	})

	t.Run("registrations", func(t *testing.T) {
		b.t = t
		b.open("/#/registrations")
		b.waitText("table.regs tbody", "bob@localhost")
		b.waitText("table.regs tbody", "carol@localhost")
		b.waitText("table.regs tbody", "UDP")
		// The countdown shows minutes left (SIPp registers for an hour or so).
		b.waitJS(`[...document.querySelectorAll('.countdown')].every(e => / (min|h) /.test(e.textContent))`, "expiry countdowns")
		b.screenshot("registrations")
	})

	t.Run("explain", func(t *testing.T) {
		b.t = t
		b.open("/#/explain")
		b.waitJS(`document.querySelectorAll('.code-card').length > 50`, "the whole knowledge base")
		b.do(chromedp.SendKeys(chromedp.CSS("#explain-q"), "480"))
		b.waitJS(`document.querySelector('.code-card')?.id === 'code-480'`, "480 first")
		b.waitText("#code-480", "Temporarily Unavailable")
		b.waitText("#code-480", "What to check")
		b.screenshot("explain-480")
	})

	t.Run("overview", func(t *testing.T) {
		b.t = t
		b.open("/#/overview")
		// 4 calls with a final answer, 1 answered: ASR 25 %; answered, busy and
		// unavailable reached the user: NER 75 %.
		b.waitText("#kpi-asr .value", "25.0 %")
		b.waitText("#kpi-ner .value", "75.0 %")
		b.waitText("#kpi-calls .value", "4")
		b.waitJS(`/\d+ ms|\d\.\d+ s/.test(document.querySelector('#kpi-pdd .value').textContent)`, "a post-dial delay")
		b.waitJS(`document.querySelectorAll('.chart-svg rect.bar').length >= 1`, "the calls chart")
		b.waitText(".classes", "4xx")
		b.screenshot("overview")
	})

	t.Run("paging", func(t *testing.T) {
		b.t = t
		// Two calls a page: the INVITEs are, newest first, 480, 404, 486, 200.
		b.open("/#/calls?method=INVITE&limit=2")
		b.waitText("table.calls tbody", "480 Temporarily Unavailable")
		b.waitText("table.calls tbody", "404 Not Found")
		b.click(`.pager a:last-child`)
		b.waitText("table.calls tbody", "486 Busy Here")
		b.waitText("table.calls tbody", "200 OK")
		if text := b.text("table.calls tbody"); strings.Contains(text, "404") || strings.Contains(text, "480") {
			t.Errorf("the older page repeats newer calls:\n%s", text)
		}
		b.waitText(".pager", "Newest")
		// An older page is not live: it would jump away under the reader.
		if live := inBrowser(b, chromedp.Evaluate[bool](`document.querySelector('#live').checked`)); live {
			t.Error("live updates are on for an older page")
		}
		b.screenshot("calls-page-2")
	})

	t.Run("pcap", func(t *testing.T) {
		req, _ := http.NewRequest("GET", base+"/api/calls/"+url.PathEscape(busy.CallID)+"/pcap", nil)
		req.Header.Set("Authorization", "Bearer "+webToken)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		if res.StatusCode != 200 || len(body) < 24 || string(body[:4]) != "\xd4\xc3\xb2\xa1" {
			t.Fatalf("pcap: %d %q, %d bytes: %.80q", res.StatusCode, res.Header.Get("Content-Type"), len(body), body)
		}
	})

	// A lossy link, which loopback never is: a record with a retransmitted INVITE and
	// a retransmitted 486, served by a second admin server without a token (loopback).
	t.Run("retransmissions", func(t *testing.T) {
		b.t = t
		f := tracetest.New("rtx-call@web-test", time.Now().Add(-time.Minute))
		req := f.Invite("127.0.0.1:5080", "alice", "bob")
		f.After(500 * time.Millisecond).Again(req)
		f.After(time.Millisecond).Reply(req, 100)
		res := f.After(time.Second).Reply(req, 486)
		f.After(500 * time.Millisecond).Again(res)
		f.After(10*time.Millisecond).AckFailure(req, res)
		c := f.Call()
		sink := trace.NewMemorySink()
		if err := sink.Write(context.Background(), trace.Batch{Messages: c.Messages, Events: c.Events, Summaries: []trace.Summary{trace.Summarize(c)}}); err != nil {
			t.Fatal(err)
		}
		api := httptest.NewServer(admin.New(admin.Options{Traces: sink, Self: []string{"127.0.0.1:5060"}}))
		defer api.Close()
		b.do(chromedp.Navigate(api.URL + "/#/call/" + url.PathEscape(c.CallID)))
		b.waitJS(`document.querySelectorAll('#ladder .arrow.rtx').length === 2`, "two dashed retransmissions")
		labels := b.arrowLabels()
		for _, want := range []string{"INVITE (SDP) (retransmission)", "486 Busy Here (retransmission)"} {
			if !hasString(labels, want) {
				t.Errorf("no arrow %q among %q", want, labels)
			}
		}
		b.screenshot("call-retransmissions")
	})

	// Last, as it adds a call: the list shows a new call without a reload.
	t.Run("live updates", func(t *testing.T) {
		b.t = t
		b.open("/#/calls?method=INVITE")
		b.waitJS(`document.querySelectorAll('table.calls tbody tr').length === 4`, "the four calls")
		sipp(t, srv, "udp", "uac_expect_404.xml", "alice", map[string]string{"callee": "ghost"}).Run(t).RequireOK(t)
		b.waitText("table.calls tbody", "ghost@localhost")
		b.waitJS(`document.querySelectorAll('table.calls tbody tr').length === 5`, "five calls")
	})
}

// newBrowser starts headless Chromium with a fresh profile and no network habits of
// its own (no QUIC, no background fetches, no updates).
func newBrowser(t *testing.T, path string) context.Context {
	t.Helper()
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-extensions", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1400, 1000),
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(allocCtx)
	t.Cleanup(func() {
		cancel()
		cancelAlloc()
	})
	// The first Run starts the browser; it must not carry a timeout (that would stop
	// the browser with it), so each later step gets its own.
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// browser drives one tab.
type browser struct {
	t         *testing.T
	ctx       context.Context
	base      string
	artifacts string
}

const stepTimeout = 15 * time.Second

func inBrowser[T any](b *browser, a chromedp.Action[T]) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		b.t.Fatalf("browser: %v\npage text:\n%s", err, b.pageText())
	}
	return v
}

func (b *browser) do(a chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	inBrowser(b, a)
}

func (b *browser) open(path string) {
	b.t.Helper()
	b.do(chromedp.Navigate(b.base + path))
}

func (b *browser) location() string {
	b.t.Helper()
	return inBrowser(b, chromedp.Location())
}

func (b *browser) click(css string) {
	b.t.Helper()
	b.do(chromedp.Click(chromedp.CSS(css), chromedp.NodeVisible))
}

func (b *browser) text(css string) string {
	b.t.Helper()
	return inBrowser(b, chromedp.Evaluate[string](fmt.Sprintf(`(document.querySelector(%s)||{}).innerText||''`, jsString(css))))
}

func (b *browser) texts(css string) []string {
	b.t.Helper()
	return inBrowser(b, chromedp.Evaluate[[]string](fmt.Sprintf(`[...document.querySelectorAll(%s)].map(e => e.textContent)`, jsString(css))))
}

func (b *browser) arrowLabels() []string {
	b.t.Helper()
	return b.texts("#ladder .arrow .label")
}

// waitJS waits until the expression is true in the page.
func (b *browser) waitJS(expr, what string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingInterval(50*time.Millisecond))); err != nil {
		b.screenshot("failed-" + strings.ReplaceAll(b.t.Name(), "/", "-"))
		b.t.Fatalf("waiting for %s: %v\npage text:\n%s", what, err, b.pageText())
	}
}

// waitText waits until the visible text of the element holds want.
func (b *browser) waitText(css, want string) {
	b.t.Helper()
	b.waitJS(fmt.Sprintf(`(document.querySelector(%s)?.innerText || '').includes(%s)`, jsString(css), jsString(want)),
		fmt.Sprintf("%q in %s", want, css))
}

func (b *browser) pageText() string {
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText`))
	if err != nil {
		return "(" + err.Error() + ")"
	}
	return s
}

// screenshot saves the whole page as NAME.png among the artefacts.
func (b *browser) screenshot(name string) {
	b.t.Helper()
	b.capture(name, chromedp.FullScreenshot(100))
}

// screenshotView saves what the window shows (for dialogs, which cover the window and
// not the whole page).
func (b *browser) screenshotView(name string) {
	b.t.Helper()
	b.capture(name, chromedp.CaptureScreenshot())
}

func (b *browser) capture(name string, shot chromedp.Action[[]byte]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	// From the top, so that the sticky header is where a person sees it.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void](`window.scrollTo(0, 0)`)); err != nil {
		b.t.Errorf("screenshot %s: %v", name, err)
	}
	png, err := chromedp.Run(ctx, shot)
	if err != nil {
		b.t.Errorf("screenshot %s: %v", name, err)
		return
	}
	p := filepath.Join(b.artifacts, "web-"+name+".png")
	if err := os.WriteFile(p, png, 0o644); err != nil {
		b.t.Errorf("screenshot %s: %v", name, err)
		return
	}
	b.t.Logf("screenshot: %s", p)
}

// jsString quotes s as a JavaScript string literal (Go's quoting is a subset JS reads
// the same way for the text used here).
func jsString(s string) string { return strconv.Quote(s) }

func hasString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func hasPrefix(list []string, prefix string) bool {
	for _, v := range list {
		if strings.HasPrefix(v, prefix) {
			return true
		}
	}
	return false
}
