// Package admin is siplens' control plane: an HTTP API over the call records and the
// registrations. `siplens calls`, `siplens show` and the web page are its clients; the
// server mounts the handler New returns on admin.listen.
//
// Routes (every /api route answers GET and HEAD; other methods get 405):
//
//	GET /healthz                      200 "ok\n", never asks for a token
//	GET /api/calls                    JSON [trace.Summary], newest first
//	    ?code=480 ?class=4 ?user=bob ?since=1h ?until=2026-03-01T12:00:00Z
//	    ?outcome=busy ?method=INVITE ?limit=100
//	GET /api/calls/{callid}           JSON CallDetail; 404 for an unknown Call-ID
//	    ?name=10.0.0.5=pbx (repeatable) ?verbose=true, as for the ladder
//	GET /api/calls/{callid}/ladder    the ladder as text, Mermaid, SVG or JSON
//	    ?format=text|mermaid|svg|json (default text) ?name=... ?verbose=true
//	GET /api/calls/{callid}/pcap      the call's messages as a pcap file
//	GET /api/registrations            JSON [Registration], by AOR then q
//	    ?user=bob
//	GET /api/overview                 JSON Overview: ASR, NER, post-dial delay, ...
//	    ?window=1h (1m to 24h)
//	GET /api/codes                    JSON [CodeInfo], the response-code knowledge base
//	    ?q=480 ?q=4xx ?q=not registered
//	GET /metrics                      Options.Metrics, when set (Prometheus)
//	GET /                             the web page (package web)
//
// GET /api/calls also takes ?q=TEXT: calls whose Call-ID is TEXT, or whose caller or
// callee is the user (or number) TEXT. Pages go back in time with ?until= set to the
// "first" time of the last call of the previous page.
//
// The Call-ID is one path segment: clients escape it (url.PathEscape), so that a
// Call-ID holding '/', '?' or '%' reaches the handler whole.
//
// Errors are JSON objects {"error": "..."} whose text names the parameter at fault: 400
// for a bad or unknown query parameter, 401 for a missing or wrong token, 403 for a
// refused Host, 404 for an unknown call or API path (other paths belong to the web
// page, whose 404 is plain text), 405 for a method other than GET,
// 500 for a store failure, 503 when call recording or the location store is off.
//
// Security: when Options.Token is set, every /api request (and /metrics) needs
// "Authorization: Bearer TOKEN" (compared in constant time). When it is not set (the
// server only allows that on a loopback address), /api requests must name a loopback
// Host (127.0.0.1, [::1], localhost): a web page cannot then read the records through
// DNS rebinding (a name of its own that resolves to 127.0.0.1). The web page itself
// (its HTML, script and style) holds no data and is served to anyone who reaches the
// port; it asks for the token, or takes it once from ?token=, and sends it on each
// /api request it makes.
package admin

import (
	"bytes"
	"cmp"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/siplens/siplens/diag"
	"github.com/siplens/siplens/store"
	"github.com/siplens/siplens/trace"
	"github.com/siplens/siplens/web"
)

// Options configure the API.
type Options struct {
	// Traces holds the call records; nil (trace.enabled: false) makes the /api/calls
	// routes answer 503.
	Traces trace.Sink
	// Locations holds the registrations; nil makes /api/registrations answer 503.
	Locations store.Locations
	// Self lists siplens' own "ip:port" (or "ip") addresses, drawn as the "siplens"
	// column of ladders.
	Self []string
	// Token, when not empty, is required as "Authorization: Bearer TOKEN" on every /api
	// request.
	Token string
	// Now is the clock (for since=1h and the seconds left of a registration); default
	// time.Now.
	Now func() time.Time
	// Log receives refused tokens and store failures; default: nothing is logged.
	Log *slog.Logger
	// Metrics, when set, is served at GET /metrics under the same token rule as /api.
	Metrics http.Handler
	// Counters, when set, gives the calls and transactions in progress for
	// /api/overview; without it the overview estimates the calls from the records.
	Counters func() Counters
}

// MaxLimit is the largest limit a list of calls accepts.
const MaxLimit = 1000

// CallDetail is the answer of GET /api/calls/{callid}: everything about one call.
type CallDetail struct {
	Summary   trace.Summary  `json:"summary"`
	Diagnosis diag.Diagnosis `json:"diagnosis"`
	Ladder    *diag.Ladder   `json:"ladder"`
	// Messages are the call's SIP messages in time order; Index is the number the
	// diagnosis' evidence and the ladder's arrows use.
	Messages []Message `json:"messages"`
	// Events are siplens' decisions in time order.
	Events []trace.Event `json:"events"`
}

// Message is one SIP message of a call, as text.
type Message struct {
	Index     int             `json:"index"`
	Time      time.Time       `json:"time"`
	Direction trace.Direction `json:"direction"`
	Transport string          `json:"transport"`
	// Local is siplens' "ip:port", Remote the other end's; From and To say which way
	// the message went.
	Local  string `json:"local"`
	Remote string `json:"remote"`
	From   string `json:"from"`
	To     string `json:"to"`
	// Label is the method, or the code and reason phrase ("180 Ringing").
	Label string `json:"label"`
	// Text is the message exactly as on the wire (bytes that are not UTF-8 show as
	// U+FFFD).
	Text string `json:"text"`
}

// Registration is one registered contact, as GET /api/registrations lists it.
type Registration struct {
	AOR     string `json:"aor"`
	Contact string `json:"contact"`
	// Source is where the REGISTER came from; with NAT, requests go there.
	Source    string    `json:"source"`
	Transport string    `json:"transport"`
	NAT       bool      `json:"nat"`
	Q         float64   `json:"q"`
	ExpiresAt time.Time `json:"expires_at"`
	// SecondsLeft is ExpiresAt - now, rounded up.
	SecondsLeft int64     `json:"seconds_left"`
	UserAgent   string    `json:"user_agent"`
	CallID      string    `json:"call_id"`
	CSeq        uint32    `json:"cseq"`
	Updated     time.Time `json:"updated"`
}

// Error is the body of every error answer.
type Error struct {
	Error string `json:"error"`
}

// Ladder formats and their Content-Types. Mermaid has no registered media type: it is
// served as plain text, which browsers show and curl prints.
var ladderTypes = map[string]string{
	"text":    "text/plain; charset=utf-8",
	"mermaid": "text/plain; charset=utf-8",
	"svg":     "image/svg+xml",
	"json":    "application/json",
}

// LadderFormats lists the values of ?format=, in the order help texts show them.
var LadderFormats = []string{"text", "mermaid", "svg", "json"}

type api struct {
	o         Options
	tokenHash [sha256.Size]byte
}

// New returns the API's handler.
func New(o Options) http.Handler {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	a := &api{o: o, tokenHash: sha256.Sum256([]byte(o.Token))}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = w.Write([]byte("ok\n"))
	})
	routes := []struct {
		path string
		h    func(http.ResponseWriter, *http.Request)
	}{
		{"/api/calls", a.calls},
		{"/api/calls/{callid}", a.call},
		{"/api/calls/{callid}/ladder", a.ladder},
		{"/api/calls/{callid}/pcap", a.pcap},
		{"/api/registrations", a.registrations},
		{"/api/overview", a.overview},
		{"/api/codes", a.codeList},
	}
	for _, r := range routes {
		mux.Handle("GET "+r.path, a.guard(r.h))
		mux.Handle(r.path, a.guard(methodNotAllowed))
	}
	mux.Handle("/api/", a.guard(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "no API route %s (see GET /api/calls, /api/calls/{callid}, /api/calls/{callid}/ladder, /api/calls/{callid}/pcap, /api/registrations, /api/overview, /api/codes)", r.URL.Path)
	}))
	metrics := func(w http.ResponseWriter, _ *http.Request) {
		writeError(w, http.StatusNotFound, "this server exports no metrics")
	}
	if o.Metrics != nil {
		metrics = o.Metrics.ServeHTTP
	}
	mux.Handle("GET /metrics", a.guard(metrics))
	mux.Handle("/metrics", a.guard(methodNotAllowed))
	mux.Handle("/", web.Handler())
	return mux
}

func methodNotAllowed(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Allow", "GET, HEAD")
	writeError(w, http.StatusMethodNotAllowed, "method %s: the admin API only reads (GET)", r.Method)
}

// guard checks the token (or, without one, the Host), marks the answer as not to be
// cached, and turns a panic into a 500.
func (a *api) guard(h func(http.ResponseWriter, *http.Request)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				a.o.Log.Error("admin API handler panicked", "path", r.URL.Path, "panic", v)
				writeError(w, http.StatusInternalServerError, "internal error; see the server log")
			}
		}()
		if !a.authorized(w, r) {
			return
		}
		h(w, r)
	})
}

func (a *api) authorized(w http.ResponseWriter, r *http.Request) bool {
	if a.o.Token == "" {
		if !loopbackHost(r.Host) {
			writeError(w, http.StatusForbidden, "Host %q refused: without admin.token the admin API answers only requests to a loopback address (127.0.0.1, [::1], localhost); set admin.token to reach it by another name", r.Host)
			return false
		}
		return true
	}
	scheme, given, ok := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		w.Header().Set("WWW-Authenticate", `Bearer realm="siplens"`)
		writeError(w, http.StatusUnauthorized, "this admin API needs a token: send \"Authorization: Bearer TOKEN\" (admin.token in the server's config; siplens commands take --token or $SIPLENS_TOKEN)")
		return false
	}
	// Hashing first makes the comparison's time independent of the lengths too.
	sum := sha256.Sum256([]byte(strings.TrimSpace(given)))
	if subtle.ConstantTimeCompare(sum[:], a.tokenHash[:]) != 1 {
		a.o.Log.Warn("admin API: wrong token", "remote", r.RemoteAddr, "path", r.URL.Path)
		w.Header().Set("WWW-Authenticate", `Bearer realm="siplens", error="invalid_token"`)
		writeError(w, http.StatusUnauthorized, "the token is not valid (compare it with admin.token in the server's config)")
		return false
	}
	return true
}

// loopbackHost reports whether a Host header names this machine's loopback: an IP
// literal in 127.0.0.0/8 or ::1, or "localhost", with or without a port.
func loopbackHost(hostport string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.Trim(host, "[]"), ".")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	addr, err := netip.ParseAddr(host)
	return err == nil && addr.Unmap().IsLoopback()
}

// calls: GET /api/calls.
func (a *api) calls(w http.ResponseWriter, r *http.Request) {
	if a.o.Traces == nil {
		writeError(w, http.StatusServiceUnavailable, "call recording is off (trace.enabled: false in the server's config)")
		return
	}
	values := r.URL.Query()
	if len(values["q"]) > 1 {
		writeError(w, http.StatusBadRequest, "q: given %d times; give it once", len(values["q"]))
		return
	}
	search := strings.TrimSpace(values.Get("q"))
	values.Del("q")
	if len(search) > 256 {
		writeError(w, http.StatusBadRequest, "q: longer than 256 characters")
		return
	}
	q, err := ParseQuery(values, a.o.Now())
	if err != nil {
		writeError(w, http.StatusBadRequest, "%v", err)
		return
	}
	list, err := a.searchCalls(r.Context(), q, search)
	if err != nil {
		a.storeError(w, r, "list calls", err)
		return
	}
	if list == nil {
		list = []trace.Summary{}
	}
	writeJSON(w, http.StatusOK, list)
}

// searchCalls lists the calls that match q and, when search is set, whose Call-ID is
// search or whose caller or callee is the user search ("bob", "1001", "bob@example.com").
// Both are exact matches the sinks answer from their indexes, so a search stays fast
// on a large store.
func (a *api) searchCalls(ctx context.Context, q trace.Query, search string) ([]trace.Summary, error) {
	if search == "" {
		return a.o.Traces.Calls(ctx, q)
	}
	byID := q
	byID.CallID = search
	list, err := a.o.Traces.Calls(ctx, byID)
	if err != nil {
		return nil, err
	}
	if checkUser(search) != nil || (q.User != "" && !strings.EqualFold(q.User, search)) {
		// Not a user name, or a user filter that already says whose calls: only the
		// Call-ID can match.
		return list, nil
	}
	byUser := q
	byUser.User = search
	more, err := a.o.Traces.Calls(ctx, byUser)
	if err != nil {
		return nil, err
	}
	for _, s := range more {
		if !slices.ContainsFunc(list, func(x trace.Summary) bool { return x.CallID == s.CallID }) {
			list = append(list, s)
		}
	}
	slices.SortStableFunc(list, func(x, y trace.Summary) int { return y.First.Compare(x.First) })
	if len(list) > q.Limit {
		list = list[:q.Limit]
	}
	return list, nil
}

// call: GET /api/calls/{callid}.
func (a *api) call(w http.ResponseWriter, r *http.Request) {
	params, err := checkParams(r.URL.Query(), "name", "verbose")
	if err != nil {
		writeError(w, http.StatusBadRequest, "%v", err)
		return
	}
	opts, err := a.ladderOptions(params)
	if err != nil {
		writeError(w, http.StatusBadRequest, "%v", err)
		return
	}
	c, ok := a.lookup(w, r)
	if !ok {
		return
	}
	d := CallDetail{
		Summary:   trace.Summarize(c),
		Diagnosis: diag.Diagnose(c),
		Ladder:    diag.BuildLadder(c, opts),
		Messages:  make([]Message, 0, len(c.Messages)),
		Events:    c.Events,
	}
	if d.Events == nil {
		d.Events = []trace.Event{}
	}
	for i := range c.Messages {
		m := &c.Messages[i]
		label := "(unreadable)"
		if p, err := m.Parse(); err == nil {
			label = p.Label()
		}
		d.Messages = append(d.Messages, Message{Index: i, Time: m.Time, Direction: m.Direction, Transport: m.Transport,
			Local: m.Local, Remote: m.Remote, From: m.From(), To: m.To(), Label: label, Text: string(m.Raw)})
	}
	writeJSON(w, http.StatusOK, d)
}

// ladder: GET /api/calls/{callid}/ladder.
func (a *api) ladder(w http.ResponseWriter, r *http.Request) {
	params, err := checkParams(r.URL.Query(), "format", "name", "verbose")
	if err != nil {
		writeError(w, http.StatusBadRequest, "%v", err)
		return
	}
	format := cmp.Or(params.Get("format"), "text")
	contentType, known := ladderTypes[format]
	if !known {
		writeError(w, http.StatusBadRequest, "format: %q is not one of %s", format, strings.Join(LadderFormats, ", "))
		return
	}
	opts, err := a.ladderOptions(params)
	if err != nil {
		writeError(w, http.StatusBadRequest, "%v", err)
		return
	}
	c, ok := a.lookup(w, r)
	if !ok {
		return
	}
	l := diag.BuildLadder(c, opts)
	var buf bytes.Buffer
	switch format {
	case "text":
		err = l.WriteText(&buf)
	case "mermaid":
		err = l.WriteMermaid(&buf)
	case "svg":
		err = l.WriteSVG(&buf)
		// The picture needs its inline style and nothing else.
		w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	case "json":
		err = l.WriteJSON(&buf)
	}
	if err != nil {
		a.o.Log.Error("admin API: draw ladder", "call_id", c.CallID, "format", format, "err", err)
		writeError(w, http.StatusInternalServerError, "draw the %s ladder of %q: %v", format, c.CallID, err)
		return
	}
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(buf.Bytes())
}

// registrations: GET /api/registrations.
func (a *api) registrations(w http.ResponseWriter, r *http.Request) {
	params, err := checkParams(r.URL.Query(), "user")
	if err != nil {
		writeError(w, http.StatusBadRequest, "%v", err)
		return
	}
	user := params.Get("user")
	if err := checkUser(user); err != nil {
		writeError(w, http.StatusBadRequest, "%v", err)
		return
	}
	if a.o.Locations == nil {
		writeError(w, http.StatusServiceUnavailable, "this server has no location store")
		return
	}
	now := a.o.Now()
	bindings, err := a.o.Locations.AllBindings(r.Context(), now)
	if err != nil {
		a.storeError(w, r, "list registrations", err)
		return
	}
	out := make([]Registration, 0, len(bindings))
	for _, b := range bindings {
		if user != "" && !(trace.Query{User: user}).Match(trace.Summary{From: b.AOR}) {
			continue
		}
		out = append(out, Registration{
			AOR: b.AOR, Contact: b.Contact, Source: b.Source, Transport: b.Transport, NAT: b.NAT, Q: b.Q,
			ExpiresAt: b.Expires, SecondsLeft: int64(math.Ceil(b.Expires.Sub(now).Seconds())),
			UserAgent: b.UserAgent, CallID: b.CallID, CSeq: b.CSeq, Updated: b.Updated,
		})
	}
	slices.SortStableFunc(out, func(x, y Registration) int {
		return cmp.Or(cmp.Compare(x.AOR, y.AOR), cmp.Compare(y.Q, x.Q), cmp.Compare(x.Contact, y.Contact))
	})
	writeJSON(w, http.StatusOK, out)
}

// lookup reads the call named in the path, or answers 404 or 503 itself.
func (a *api) lookup(w http.ResponseWriter, r *http.Request) (*trace.Call, bool) {
	if a.o.Traces == nil {
		writeError(w, http.StatusServiceUnavailable, "call recording is off (trace.enabled: false in the server's config)")
		return nil, false
	}
	id := r.PathValue("callid")
	c, err := a.o.Traces.Call(r.Context(), id)
	switch {
	case errors.Is(err, trace.ErrNotFound):
		writeError(w, http.StatusNotFound, "no call with Call-ID %q is recorded (it may be older than trace.max_age, or beyond trace.max_calls)", id)
		return nil, false
	case err != nil:
		a.storeError(w, r, "read call "+strconv.Quote(id), err)
		return nil, false
	}
	return c, true
}

func (a *api) ladderOptions(params url.Values) (diag.LadderOptions, error) {
	opts := diag.LadderOptions{Self: a.o.Self}
	if names := params["name"]; len(names) > 0 {
		m, err := diag.ParseNames(names)
		if err != nil {
			return opts, fmt.Errorf("name: %w", err)
		}
		opts.Names = m
	}
	if v := params.Get("verbose"); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return opts, fmt.Errorf("verbose: %q is not true or false", v)
		}
		opts.Verbose = b
	}
	return opts, nil
}

func (a *api) storeError(w http.ResponseWriter, r *http.Request, what string, err error) {
	if r.Context().Err() != nil {
		return // the client went away
	}
	a.o.Log.Error("admin API: "+what, "err", err)
	writeError(w, http.StatusInternalServerError, "%s: %v", what, err)
}

// ParseQuery reads the filter of GET /api/calls. Durations in since and until count
// back from now. An empty value is the same as no value; an unknown or repeated
// parameter is an error.
func ParseQuery(v url.Values, now time.Time) (trace.Query, error) {
	params, err := checkParams(v, "code", "class", "user", "since", "until", "outcome", "method", "limit")
	if err != nil {
		return trace.Query{}, err
	}
	var q trace.Query
	if s := params.Get("code"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 100 || n > 699 {
			return q, fmt.Errorf("code: %q is not a response code (100 to 699)", s)
		}
		q.Code = n
	}
	if s := params.Get("class"); s != "" {
		n, err := strconv.Atoi(strings.TrimSuffix(strings.ToLower(s), "xx"))
		if err != nil || n < 1 || n > 6 {
			return q, fmt.Errorf("class: %q is not a response class (1 to 6, e.g. 4 for 4xx)", s)
		}
		if q.Code != 0 && q.Code/100 != n {
			return q, fmt.Errorf("class: %d contradicts code %d, which is a %dxx", n, q.Code, q.Code/100)
		}
		q.Class = n
	}
	q.User = params.Get("user")
	if err := checkUser(q.User); err != nil {
		return q, err
	}
	if s := params.Get("since"); s != "" {
		if q.Since, err = parseTime(s, now); err != nil {
			return q, fmt.Errorf("since: %w", err)
		}
	}
	if s := params.Get("until"); s != "" {
		if q.Until, err = parseTime(s, now); err != nil {
			return q, fmt.Errorf("until: %w", err)
		}
		if !q.Since.IsZero() && !q.Until.After(q.Since) {
			return q, fmt.Errorf("until: %s is not after since (%s)", q.Until.Format(time.RFC3339), q.Since.Format(time.RFC3339))
		}
	}
	if s := params.Get("outcome"); s != "" {
		o := trace.Outcome(strings.ToLower(s))
		if !slices.Contains(trace.Outcomes, o) {
			names := make([]string, len(trace.Outcomes))
			for i, o := range trace.Outcomes {
				names[i] = string(o)
			}
			return q, fmt.Errorf("outcome: %q is not one of %s", s, strings.Join(names, ", "))
		}
		q.Outcome = o
	}
	if s := params.Get("method"); s != "" {
		if len(s) > 32 || strings.IndexFunc(s, func(r rune) bool { return !(r >= 'A' && r <= 'Z' || r >= 'a' && r <= 'z') }) >= 0 {
			return q, fmt.Errorf("method: %q is not a SIP method such as INVITE", s)
		}
		q.Method = strings.ToUpper(s)
	}
	q.Limit = trace.DefaultLimit
	if s := params.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > MaxLimit {
			return q, fmt.Errorf("limit: %q is not a number from 1 to %d", s, MaxLimit)
		}
		q.Limit = n
	}
	return q, nil
}

// checkParams refuses parameters not in known, and drops empty values.
func checkParams(v url.Values, known ...string) (url.Values, error) {
	out := url.Values{}
	for name, vals := range v {
		if !slices.Contains(known, name) {
			return nil, fmt.Errorf("%s: unknown parameter (this route takes: %s)", name, strings.Join(known, ", "))
		}
		for _, s := range vals {
			if s = strings.TrimSpace(s); s != "" {
				out.Add(name, s)
			}
		}
	}
	for name, vals := range out {
		if name != "name" && len(vals) > 1 {
			return nil, fmt.Errorf("%s: given %d times; give it once", name, len(vals))
		}
	}
	return out, nil
}

func checkUser(u string) error {
	if len(u) > 256 || strings.IndexFunc(u, func(r rune) bool { return r < 0x20 || r == 0x7f || r == ' ' }) >= 0 {
		return fmt.Errorf("user: %q is not a user name or user@domain", u)
	}
	return nil
}

// parseTime reads "1h" (that long before now) or an RFC 3339 time.
func parseTime(s string, now time.Time) (time.Time, error) {
	if d, err := time.ParseDuration(s); err == nil {
		if d < 0 {
			return time.Time{}, fmt.Errorf("%q is negative; give how long ago, such as 1h", s)
		}
		return now.Add(-d), nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("%q is neither a duration (30m, 1h, 24h) nor an RFC 3339 time (2026-03-01T12:00:00Z)", s)
	}
	return t, nil
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		status = http.StatusInternalServerError
		b, _ = json.Marshal(Error{Error: "encode the answer: " + err.Error()})
	}
	b = append(b, '\n')
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

func writeError(w http.ResponseWriter, status int, format string, args ...any) {
	writeJSON(w, status, Error{Error: fmt.Sprintf(format, args...)})
}

// ErrorText reads the message of an error answer, or describes the answer when it is
// not one of this API's (another server on the port, a proxy's page).
func ErrorText(status int, contentType string, body []byte) string {
	var e Error
	if strings.HasPrefix(contentType, "application/json") && json.Unmarshal(body, &e) == nil && e.Error != "" {
		return e.Error
	}
	text := strings.TrimSpace(string(body))
	if len(text) > 200 {
		text = text[:200] + "..."
	}
	return fmt.Sprintf("HTTP %d %s: %s", status, http.StatusText(status), text)
}
