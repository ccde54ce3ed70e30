package siptest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Auth holds the credentials SIPp uses to answer 401/407 challenges
// ([authentication] keyword): -au and -ap.
type Auth struct {
	User     string // -au (SIPp defaults it to -s)
	Password string // -ap (SIPp defaults it to "password")
}

// SIPp describes one run of sipp (Debian package sip-tester, v3.6.1).
//
// Every run uses -i 127.0.0.1, free SIP/control/media ports on 127.0.0.1,
// -nostdin, -timeout with -timeout_error, and writes its message trace,
// error log and statistics CSV in a fresh t.TempDir() (its working dir).
type SIPp struct {
	Scenario    string // path of the XML scenario (-sf); relative to the test's directory
	Builtin     string // instead of Scenario: an embedded scenario (-sn), e.g. "uas", "uac"
	OOCScenario string // out-of-call scenario (-oocsf), e.g. uas_answer.xml for uas_register_then_answer.xml

	Target    string // remote "127.0.0.1:PORT" (the server); empty for a pure server scenario
	Transport string // "udp" (default, -t u1) or "tcp" (-t t1)
	LocalPort int    // -p; 0: a free port is picked (see Process.Port)
	Service   string // -s: the [service] keyword (the user part)

	Calls int     // -m: stop after this many calls (default 1)
	Rate  float64 // -r: calls per second (default 10)

	Vars    map[string]string // -set NAME VALUE for each entry ([$NAME] in the XML, declared <Global variables="..."/>)
	Auth    Auth              // -au / -ap
	AuthURI string            // -auth_uri: digest uri is "sip:"+AuthURI instead of sip:[remote_ip]:[remote_port]
	InfFile string            // -inf: CSV injection file

	Timeout     time.Duration // -timeout (whole run; default 20s) plus a context deadline a few seconds later
	RecvTimeout time.Duration // -recv_timeout per expected message (default: not set, only Timeout bounds the run)

	MediaPort   int // -mp; 0: a free UDP pair (p, p+2) is picked
	ControlPort int // -cp; 0: a free port is picked (SIPp's default 8888 is never used)

	ExtraArgs []string // appended last
}

// DefaultSIPpTimeout is the -timeout used when SIPp.Timeout is zero.
var DefaultSIPpTimeout = 20 * time.Second

const (
	killGrace      = 5 * time.Second // after -timeout, before we send SIGTERM
	termGrace      = 3 * time.Second // SIGTERM -> SIGKILL
	readyTimeout   = 10 * time.Second
	maxBindRetries = 3

	exitBindError = 254 // sipp's -2
)

// Result is the outcome of a SIPp run.
type Result struct {
	Name      string   // scenario file name (or "-sn NAME")
	Args      []string // sipp's command line arguments
	Dir       string   // working directory (a t.TempDir())
	LocalPort int      // the -p used
	Target    string
	Transport string

	ExitCode   int // sipp's exit code (0 all OK, 1 some call failed, 97, 99, 254 bind error, 255 fatal error); -1 if killed by a signal
	Successful int // successful calls (cumulative) of the main scenario; -1 if unknown
	Failed     int // failed calls (cumulative) of the main scenario; -1 if unknown
	Expected   int // SIPp.Calls

	TimedOut bool // it overran: killed at the context deadline or by Process.Wait's timeout
	Stopped  bool // stopped on request (Process.Stop or the test's cleanup) while still running

	Stdout   string            // final screens
	Stderr   string            // sipp's stderr (fatal errors, warnings)
	Messages string            // the -trace_msg file: every message sent and received
	ErrorLog string            // the -trace_err file: unexpected messages, warnings, fatal errors
	Stats    map[string]string // last row of the -trace_stat CSV, by column name (e.g. "FailedCall(C)")
}

// OK reports whether sipp exited 0 on its own, with no failed call and (if
// Expected is set) at least Expected successful calls.
func (r Result) OK() bool {
	return r.ExitCode == 0 && !r.TimedOut && r.Failed == 0 && r.Successful > 0 &&
		(r.Expected <= 0 || r.Successful >= r.Expected)
}

// RequireOK fails the test with r.Details() unless r.OK().
func (r Result) RequireOK(t testing.TB) {
	t.Helper()
	if !r.OK() {
		t.Fatalf("SIPp run failed: %s", r.Details())
	}
}

// ExitMeaning describes a sipp exit code.
func ExitMeaning(code int) string {
	switch code {
	case 0:
		return "all calls were successful"
	case 1:
		return "at least one call failed"
	case 97:
		return "exit on internal command, or -timeout reached without a successful call"
	case 98:
		return "unknown result"
	case 99:
		return "normal exit without calls processed"
	case 254:
		return "fatal error binding a socket"
	case 255:
		return "fatal error (see the error log / stderr)"
	case -1:
		return "killed by a signal"
	}
	return "unknown exit code"
}

// String summarises the run in a few lines: exit code, call counts, the
// message flow, the first errors.
func (r Result) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "sipp %s [%s 127.0.0.1:%d -> %s]: exit %d (%s); calls: %d successful, %d failed",
		r.Name, r.Transport, r.LocalPort, orNone(r.Target), r.ExitCode, ExitMeaning(r.ExitCode), r.Successful, r.Failed)
	if r.Expected > 0 {
		fmt.Fprintf(&b, " (expected %d)", r.Expected)
	}
	if r.TimedOut {
		b.WriteString("; TIMED OUT (killed)")
	}
	if r.Stopped {
		b.WriteString("; stopped on request")
	}
	if flow := r.Flow(); len(flow) > 0 {
		b.WriteString("\n  flow: ")
		b.WriteString(strings.Join(flow, " | "))
	}
	if e := condense(r.ErrorLog, 1500); e != "" {
		b.WriteString("\n  errors: " + e)
	}
	if e := condense(r.Stderr, 800); e != "" {
		b.WriteString("\n  stderr: " + e)
	}
	b.WriteString("\n  dir: " + r.Dir)
	return b.String()
}

// Details is String plus the full message trace, error log, stderr and
// the end of stdout (the final screens): what to print when a test fails.
func (r Result) Details() string {
	var b strings.Builder
	b.WriteString(r.String())
	b.WriteString("\n  args: sipp " + strings.Join(r.Args, " "))
	b.WriteString("\n----- message trace -----\n")
	b.WriteString(r.Messages)
	b.WriteString("\n----- error log -----\n")
	b.WriteString(r.ErrorLog)
	b.WriteString("\n----- stderr -----\n")
	b.WriteString(r.Stderr)
	b.WriteString("\n----- stdout (end) -----\n")
	out := r.Stdout
	if len(out) > 4000 {
		out = "..." + out[len(out)-4000:]
	}
	b.WriteString(out)
	return b.String()
}

// Trace parses the message trace.
func (r Result) Trace() []TracedMessage { return ParseMessageLog(r.Messages) }

// Flow returns one line per traced message: "-> INVITE sip:bob@x SIP/2.0"
// for sent ones, "<- SIP/2.0 180 Ringing" for received ones.
func (r Result) Flow() []string {
	var flow []string
	for _, m := range r.Trace() {
		dir := "<-"
		if m.Sent {
			dir = "->"
		}
		flow = append(flow, dir+" "+m.FirstLine())
	}
	return flow
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

func condense(s string, max int) string {
	s = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(s), "The following events occurred:"))
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > max {
		s = s[:max] + "..."
	}
	return s
}

// TracedMessage is one entry of SIPp's -trace_msg log.
type TracedMessage struct {
	Time      string // as logged
	Transport string // "UDP" or "TCP"
	Sent      bool   // false: received
	Text      string // the SIP message as sent/received
}

// FirstLine returns the request or status line.
func (m TracedMessage) FirstLine() string {
	l, _, _ := strings.Cut(m.Text, "\n")
	return strings.TrimSpace(l)
}

// Status parses the message with ParseStatus.
func (m TracedMessage) Status() (code int, reason string, headers map[string][]string) {
	return ParseStatus([]byte(m.Text))
}

var (
	logSeparator = "-----------------------------------------------"
	// "UDP message sent (348 bytes):" / "TCP message received [344] bytes :"
	logEntryRe = regexp.MustCompile(`^(\S+) (?:control )?message (sent|received) (?:\((\d+) bytes\)|\[(\d+)\] bytes) ?:`)
)

// ParseMessageLog parses a SIPp -trace_msg log into its messages.
func ParseMessageLog(log string) []TracedMessage {
	var msgs []TracedMessage
	rest := log
	for {
		i := strings.Index(rest, logSeparator)
		if i < 0 {
			return msgs
		}
		rest = rest[i+len(logSeparator):]
		line, after, ok := strings.Cut(rest, "\n")
		if !ok {
			return msgs
		}
		ts := strings.TrimLeft(line, "- ")
		hdr, body, ok := strings.Cut(after, "\n")
		if !ok {
			return msgs
		}
		m := logEntryRe.FindStringSubmatch(hdr)
		if m == nil {
			rest = after
			continue
		}
		n, _ := strconv.Atoi(m[3] + m[4])
		body = strings.TrimPrefix(body, "\n")
		text := body
		if n <= len(body) {
			text = body[:n]
		} else if j := strings.Index(body, logSeparator); j >= 0 {
			text = body[:j]
		}
		msgs = append(msgs, TracedMessage{Time: ts, Transport: m[1], Sent: m[2] == "sent", Text: text})
		rest = body[len(text):]
	}
}

// ---------------------------------------------------------------------------

// Process is a SIPp running in the background (see SIPp.Start).
type Process struct {
	inv    *invocation
	cmd    *exec.Cmd
	ctx    context.Context
	stdout bytes.Buffer
	stderr bytes.Buffer
	done   chan struct{}

	// set by the waiter goroutine before done is closed
	ctxTimedOut bool

	mu          sync.Mutex
	stopped     bool
	waitTimeout bool
	res         *Result
}

// invocation is a fully resolved command line.
type invocation struct {
	name      string
	args      []string
	dir       string
	msgFile   string
	errFile   string
	statFile  string
	localPort int
	autoPorts bool
	timeout   time.Duration
	expected  int
	target    string
	transport string
	sippBin   string
}

// Run runs sipp to completion (bounded by Timeout) and returns its result.
// If sipp cannot bind the ports picked for it (taken meanwhile), it is
// retried with new ones.
func (s SIPp) Run(t testing.TB) Result {
	t.Helper()
	for attempt := 1; ; attempt++ {
		p := s.start(t)
		<-p.done
		res := p.result()
		if res.ExitCode == exitBindError && p.inv.autoPorts && attempt < maxBindRetries {
			t.Logf("siptest: sipp could not bind its ports, retrying with new ones: %s", condense(res.ErrorLog+" "+res.Stderr, 500))
			continue
		}
		return res
	}
}

// Start starts sipp in the background (e.g. a UAS that must be listening
// before a caller runs) and returns once its sockets are bound. The
// process is stopped by PID (SIGTERM, then SIGKILL) when the test ends
// unless it has exited before; use Wait or Stop to collect its Result.
func (s SIPp) Start(t testing.TB) *Process {
	t.Helper()
	for attempt := 1; ; attempt++ {
		p := s.start(t)
		if p.waitReady() {
			return p
		}
		res := p.result()
		if res.ExitCode == exitBindError && p.inv.autoPorts && attempt < maxBindRetries {
			t.Logf("siptest: sipp could not bind its ports, retrying with new ones: %s", condense(res.ErrorLog+" "+res.Stderr, 500))
			continue
		}
		t.Fatalf("siptest: sipp exited or hung before being ready: %s", res.Details())
	}
}

func (s SIPp) prepare(t testing.TB) *invocation {
	t.Helper()
	inv := &invocation{sippBin: RequireTool(t, "sipp")}
	inv.dir = t.TempDir()
	inv.msgFile = filepath.Join(inv.dir, "messages.log")
	inv.errFile = filepath.Join(inv.dir, "errors.log")
	inv.statFile = filepath.Join(inv.dir, "stats.csv")

	var args []string
	if s.Target != "" {
		checkLoopbackTarget(t, s.Target)
		args = append(args, s.Target)
		inv.target = s.Target
	}
	switch {
	case s.Scenario != "" && s.Builtin != "":
		t.Fatalf("siptest.SIPp: set Scenario or Builtin, not both")
	case s.Scenario != "":
		args = append(args, "-sf", absFile(t, s.Scenario))
		inv.name = filepath.Base(s.Scenario)
	case s.Builtin != "":
		args = append(args, "-sn", s.Builtin)
		inv.name = "-sn " + s.Builtin
	default:
		t.Fatalf("siptest.SIPp: Scenario (or Builtin) is required")
	}
	if s.OOCScenario != "" {
		args = append(args, "-oocsf", absFile(t, s.OOCScenario))
		inv.name += " (ooc " + filepath.Base(s.OOCScenario) + ")"
	}

	switch strings.ToLower(s.Transport) {
	case "", "udp":
		args = append(args, "-t", "u1")
		inv.transport = "udp"
	case "tcp":
		args = append(args, "-t", "t1")
		inv.transport = "tcp"
	default:
		t.Fatalf("siptest.SIPp: unsupported transport %q (udp or tcp)", s.Transport)
	}

	inv.localPort = s.LocalPort
	if inv.localPort == 0 {
		inv.localPort = FreePort(t)
		inv.autoPorts = true
	} else if reserved(inv.localPort) {
		t.Fatalf("siptest.SIPp: LocalPort %d is reserved (never 5060/5061)", inv.localPort)
	}
	cport := s.ControlPort
	if cport == 0 {
		cport = FreePort(t)
		inv.autoPorts = true
	}
	mport := s.MediaPort
	if mport == 0 {
		mport = freeMediaPort(t)
		inv.autoPorts = true
	}
	args = append(args,
		"-i", loopback,
		"-p", strconv.Itoa(inv.localPort),
		"-ci", loopback,
		"-cp", strconv.Itoa(cport),
		"-mi", loopback,
		"-mp", strconv.Itoa(mport),
	)
	if s.Service != "" {
		args = append(args, "-s", s.Service)
	}
	calls := s.Calls
	if calls <= 0 {
		calls = 1
	}
	inv.expected = calls
	rate := s.Rate
	if rate <= 0 {
		rate = 10
	}
	args = append(args, "-m", strconv.Itoa(calls), "-r", strconv.FormatFloat(rate, 'f', -1, 64))
	if s.Auth.User != "" {
		args = append(args, "-au", s.Auth.User)
	}
	if s.Auth.Password != "" {
		args = append(args, "-ap", s.Auth.Password)
	}
	if s.AuthURI != "" {
		args = append(args, "-auth_uri", s.AuthURI)
	}
	if s.InfFile != "" {
		args = append(args, "-inf", absFile(t, s.InfFile))
	}
	names := make([]string, 0, len(s.Vars))
	for k := range s.Vars {
		names = append(names, k)
	}
	sort.Strings(names)
	for _, k := range names {
		args = append(args, "-set", k, s.Vars[k])
	}
	if s.RecvTimeout > 0 {
		args = append(args, "-recv_timeout", strconv.FormatInt(s.RecvTimeout.Milliseconds(), 10))
	}
	inv.timeout = s.Timeout
	if inv.timeout <= 0 {
		inv.timeout = DefaultSIPpTimeout
	}
	secs := int64((inv.timeout + time.Second - 1) / time.Second)
	args = append(args,
		"-timeout", strconv.FormatInt(secs, 10), "-timeout_error",
		"-nostdin",
		"-trace_msg", "-message_file", inv.msgFile,
		"-trace_err", "-error_file", inv.errFile,
		"-trace_stat", "-stf", inv.statFile,
	)
	args = append(args, s.ExtraArgs...)
	inv.args = args
	return inv
}

func absFile(t testing.TB, p string) string {
	t.Helper()
	a, err := filepath.Abs(p)
	if err != nil {
		t.Fatalf("siptest: %v", err)
	}
	if _, err := os.Stat(a); err != nil {
		t.Fatalf("siptest: %v", err)
	}
	return a
}

func (s SIPp) start(t testing.TB) *Process {
	t.Helper()
	inv := s.prepare(t)
	ctx, cancel := context.WithTimeout(context.Background(), inv.timeout+killGrace)
	cmd := exec.CommandContext(ctx, inv.sippBin, inv.args...)
	p := &Process{inv: inv, cmd: cmd, ctx: ctx, done: make(chan struct{})}
	cmd.Dir = inv.dir
	cmd.Stdin = nil // /dev/null
	cmd.Stdout = &p.stdout
	cmd.Stderr = &p.stderr
	// At the deadline: SIGTERM (sipp exits cleanly, writing its stats),
	// then SIGKILL after termGrace.
	cmd.Cancel = func() error { return cmd.Process.Signal(syscall.SIGTERM) }
	cmd.WaitDelay = termGrace
	t.Logf("siptest: starting sipp %s (dir %s)", strings.Join(inv.args, " "), inv.dir)
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatalf("siptest: starting sipp: %v", err)
	}
	go func() {
		_ = cmd.Wait()
		p.ctxTimedOut = errors.Is(ctx.Err(), context.DeadlineExceeded)
		cancel()
		close(p.done)
	}()
	t.Cleanup(func() {
		p.mu.Lock()
		select {
		case <-p.done:
		default:
			p.stopped = true
		}
		p.mu.Unlock()
		p.terminate()
	})
	return p
}

// waitReady waits until sipp has bound its sockets or has exited; it
// reports readiness. SIPp writes its first statistics row right after
// binding every socket; it also writes one when it dies early (e.g. on a
// bind error), so the process must still be alive a moment later.
func (p *Process) waitReady() bool {
	deadline := time.Now().Add(readyTimeout)
	for time.Now().Before(deadline) {
		select {
		case <-p.done:
			return false
		default:
		}
		if st, err := os.Stat(p.inv.statFile); err == nil && st.Size() > 0 {
			select {
			case <-p.done:
				return false
			case <-time.After(100 * time.Millisecond):
				return true
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	p.mu.Lock()
	p.waitTimeout = true
	p.mu.Unlock()
	p.terminate()
	return false
}

// terminate stops the process by PID: SIGTERM, then SIGKILL after
// termGrace. It returns once the process has exited.
func (p *Process) terminate() {
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(termGrace):
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

// Port is the local SIP port (-p) of the process.
func (p *Process) Port() int { return p.inv.localPort }

// Addr is "127.0.0.1:Port()".
func (p *Process) Addr() string { return fmt.Sprintf("%s:%d", loopback, p.inv.localPort) }

// PID is the process id.
func (p *Process) PID() int { return p.cmd.Process.Pid }

// Dir is the working directory holding the logs.
func (p *Process) Dir() string { return p.inv.dir }

// Messages returns the message trace written so far (sipp flushes it
// after every message).
func (p *Process) Messages() string {
	b, _ := os.ReadFile(p.inv.msgFile)
	return string(b)
}

// Exited reports whether the process has exited.
func (p *Process) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Wait waits up to timeout for sipp to exit on its own (e.g. after its -m
// calls). If it is still running then, it is stopped and the Result has
// TimedOut set.
func (p *Process) Wait(timeout time.Duration) Result {
	select {
	case <-p.done:
	case <-time.After(timeout):
		p.mu.Lock()
		p.waitTimeout = true
		p.mu.Unlock()
		p.terminate()
	}
	return p.result()
}

// Stop stops sipp now (SIGTERM, then SIGKILL) if it is still running and
// returns its Result (Stopped set if it was still running). SIPp exits on
// SIGTERM like at the end of a test, so calls already completed count.
func (p *Process) Stop() Result {
	p.mu.Lock()
	select {
	case <-p.done:
	default:
		p.stopped = true
	}
	p.mu.Unlock()
	p.terminate()
	return p.result()
}

// WaitForMessage waits until the process has traced a message for which
// match returns true and returns it. It fails the test if the process
// exits first or after timeout.
func (p *Process) WaitForMessage(t testing.TB, timeout time.Duration, what string, match func(TracedMessage) bool) TracedMessage {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		exited := p.Exited() // read the log after checking, to not miss the last messages
		for _, m := range ParseMessageLog(p.Messages()) {
			if match(m) {
				return m
			}
		}
		if exited {
			t.Fatalf("siptest: sipp exited before %s: %s", what, p.result().Details())
		}
		if time.Now().After(deadline) {
			t.Fatalf("siptest: no %s after %v; sipp still running, trace so far:\n%s", what, timeout, p.Messages())
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// WaitForResponse waits until the process has received a response with
// the given status code to a request with the given CSeq method (e.g. 200,
// "REGISTER": the registration went through). See WaitForMessage.
func (p *Process) WaitForResponse(t testing.TB, code int, method string, timeout time.Duration) TracedMessage {
	t.Helper()
	return p.WaitForMessage(t, timeout, fmt.Sprintf("a received %d response to %s", code, method), func(m TracedMessage) bool {
		if m.Sent {
			return false
		}
		c, _, h := m.Status()
		if c != code || len(h["cseq"]) == 0 {
			return false
		}
		f := strings.Fields(h["cseq"][0])
		return len(f) == 2 && strings.EqualFold(f[1], method)
	})
}

// result builds (once) the Result of an exited process.
func (p *Process) result() Result {
	<-p.done
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.res != nil {
		return *p.res
	}
	inv := p.inv
	r := Result{
		Name:      inv.name,
		Args:      inv.args,
		Dir:       inv.dir,
		LocalPort: inv.localPort,
		Target:    inv.target,
		Transport: inv.transport,
		ExitCode:  p.cmd.ProcessState.ExitCode(),
		Expected:  inv.expected,
		TimedOut:  p.ctxTimedOut || p.waitTimeout,
		Stopped:   p.stopped,
		Stdout:    p.stdout.String(),
		Stderr:    p.stderr.String(),
		Messages:  readFile(inv.msgFile),
		ErrorLog:  readFile(inv.errFile),
	}
	r.Stats = parseStatsCSV(readFile(inv.statFile))
	r.Successful, r.Failed = callCounts(r.Stats, r.Stdout)
	p.res = &r
	return r
}

func readFile(name string) string {
	b, _ := os.ReadFile(name)
	return string(b)
}

// parseStatsCSV returns the last row of a SIPp statistics CSV (';'
// separated, first line is the header) keyed by column name.
func parseStatsCSV(csv string) map[string]string {
	var lines []string
	for _, l := range strings.Split(csv, "\n") {
		if strings.TrimSpace(l) != "" {
			lines = append(lines, strings.TrimRight(l, "\r"))
		}
	}
	if len(lines) < 2 {
		return nil
	}
	header := strings.Split(lines[0], ";")
	row := strings.Split(lines[len(lines)-1], ";")
	stats := map[string]string{}
	for i, h := range header {
		if h == "" || i >= len(row) {
			continue
		}
		stats[h] = row[i]
	}
	return stats
}

var (
	screenSuccessRe = regexp.MustCompile(`Successful call\s*\|\s*\d+\s*\|\s*(\d+)`)
	screenFailedRe  = regexp.MustCompile(`Failed call\s*\|\s*\d+\s*\|\s*(\d+)`)
)

// callCounts reads the cumulative successful/failed call counters from
// the statistics CSV, falling back to the last statistics screen on
// stdout; -1 when neither has them.
func callCounts(stats map[string]string, stdout string) (ok, failed int) {
	ok, failed = -1, -1
	if v, found := stats["SuccessfulCall(C)"]; found {
		if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
			ok = n
		}
	}
	if v, found := stats["FailedCall(C)"]; found {
		if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
			failed = n
		}
	}
	if ok < 0 {
		if m := screenSuccessRe.FindAllStringSubmatch(stdout, -1); len(m) > 0 {
			ok, _ = strconv.Atoi(m[len(m)-1][1])
		}
	}
	if failed < 0 {
		if m := screenFailedRe.FindAllStringSubmatch(stdout, -1); len(m) > 0 {
			failed, _ = strconv.Atoi(m[len(m)-1][1])
		}
	}
	return ok, failed
}
