package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/siplens/siplens/admin"
	"github.com/siplens/siplens/codes"
	"github.com/siplens/siplens/trace"
)

// DefaultAdminURL is where the commands that read the admin API look for it when neither
// --admin nor $SIPLENS_ADMIN says otherwise (admin.listen's default).
const DefaultAdminURL = "http://127.0.0.1:5065"

// adminTimeout bounds one request to the admin API.
const adminTimeout = 30 * time.Second

func runCalls(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("calls", "calls [--code 480] [--class 4] [--user bob] [--since 1h] [--until TIME] [--outcome busy] [--method INVITE] [--limit 50] [--json] [--admin URL] [--token T]", stderr)
	code := fs.Int("code", 0, "only calls whose final code is this (480)")
	class := fs.Int("class", 0, "only calls whose final code is of this class (4 for 4xx)")
	user := fs.String("user", "", "only calls from or to this user (bob, or bob@example.com)")
	since := fs.String("since", "", "only calls that started within this long (1h) or since this RFC 3339 time")
	until := fs.String("until", "", "only calls that started before this RFC 3339 time (or this long ago: 30m)")
	outcome := fs.String("outcome", "", "only calls with this outcome: "+outcomeList())
	method := fs.String("method", "", "only calls whose first request is this method (INVITE, REGISTER, ...)")
	limit := fs.Int("limit", 50, fmt.Sprintf("show at most this many calls, newest first (1 to %d)", admin.MaxLimit))
	jsonOut := fs.Bool("json", false, "print the list as JSON (the admin API's answer) instead of a table")
	af := addAdminFlags(fs)
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	if fs.NArg() > 0 {
		return usageError(fs, stderr, "unexpected argument %q (filters are flags: --user %s)", fs.Arg(0), fs.Arg(0))
	}
	q := url.Values{}
	set := func(name, v string) {
		if v != "" {
			q.Set(name, v)
		}
	}
	if *code != 0 {
		set("code", strconv.Itoa(*code))
	}
	if *class != 0 {
		set("class", strconv.Itoa(*class))
	}
	set("user", *user)
	set("since", *since)
	set("until", *until)
	set("outcome", *outcome)
	set("method", *method)
	set("limit", strconv.Itoa(*limit))
	// The API checks every filter and says which one is wrong; checking here too would
	// only let the two drift apart.
	c, err := af.client()
	if err != nil {
		return usageError(fs, stderr, "%v", err)
	}
	body, err := c.get("/api/calls", q)
	if err != nil {
		return c.fail(stderr, err)
	}
	var list []trace.Summary
	if err := json.Unmarshal(body, &list); err != nil {
		return errorf(stderr, "the admin API at %s answered something that is not a list of calls: %v", c.base, err)
	}
	if *jsonOut {
		_, err = stdout.Write(body)
	} else {
		err = writeCallTable(stdout, list, time.Local)
	}
	if err != nil {
		return errorf(stderr, "%v", err)
	}
	return 0
}

func outcomeList() string {
	names := make([]string, len(trace.Outcomes))
	for i, o := range trace.Outcomes {
		names[i] = string(o)
	}
	return strings.Join(names, ", ")
}

// writeCallTable prints calls as a table, times in loc.
func writeCallTable(w io.Writer, list []trace.Summary, loc *time.Location) error {
	if len(list) == 0 {
		_, err := fmt.Fprintln(w, "No recorded call matches.")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tCALL-ID\tMETHOD\tFROM\tTO\tFINAL\tOUTCOME\tDURATION")
	for _, s := range list {
		final := "-"
		if s.Code != 0 {
			final = codes.Lookup(s.Code).String()
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", s.First.In(loc).Format("2006-01-02 15:04:05"),
			cell(s.CallID), cell(s.Method), cell(s.From), cell(s.To), final, cell(string(s.Outcome)), formatDuration(s.Duration))
	}
	return tw.Flush()
}

// cell keeps one value on one line of the table (a Call-ID may hold anything).
func cell(s string) string {
	if s == "" {
		return "-"
	}
	return strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return '?'
		}
		return r
	}, s)
}

// formatDuration writes 2ms, 3.04s, 1m5s: enough digits to tell calls apart.
func formatDuration(d time.Duration) string {
	switch {
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	case d < time.Minute:
		return d.Round(10 * time.Millisecond).String()
	}
	return d.Round(time.Second).String()
}

// usageError reports a bad argument or flag: exit status 2, as for flags the flag
// package refuses.
func usageError(fs *flag.FlagSet, stderr io.Writer, format string, args ...any) int {
	fmt.Fprintf(stderr, "siplens %s: %s\n", fs.Name(), fmt.Sprintf(format, args...))
	return 2
}

// adminFlags are the flags of the commands that read the admin API.
type adminFlags struct {
	url   *string
	token *string
}

func addAdminFlags(fs *flag.FlagSet) *adminFlags {
	return &adminFlags{
		url:   fs.String("admin", "", "URL of siplens' admin API (default $SIPLENS_ADMIN, else "+DefaultAdminURL+")"),
		token: fs.String("token", "", "the admin API's token, admin.token in the server's config (default $SIPLENS_TOKEN)"),
	}
}

// adminClient reads the admin API.
type adminClient struct {
	base  string // "http://127.0.0.1:5065", without a trailing slash
	host  string // what the "is siplens running" hint names
	token string
	http  *http.Client
}

// client makes the client: the flag, else the environment, else the default.
func (f *adminFlags) client() (*adminClient, error) {
	raw, from := *f.url, "--admin"
	if raw == "" {
		raw, from = os.Getenv("SIPLENS_ADMIN"), "$SIPLENS_ADMIN"
	}
	if raw == "" {
		raw, from = DefaultAdminURL, ""
	}
	if !strings.Contains(raw, "://") {
		raw = "http://" + raw // "127.0.0.1:5065" is what admin.listen says
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("%s %q is not the URL of the admin API, such as %s", from, raw, DefaultAdminURL)
	}
	token := *f.token
	if token == "" {
		token = os.Getenv("SIPLENS_TOKEN")
	}
	if strings.ContainsAny(token, " \t\r\n") {
		return nil, errors.New("the token holds a space or line break; give it as admin.token has it")
	}
	return &adminClient{base: strings.TrimSuffix(u.String(), "/"), host: u.Host, token: token,
		http: &http.Client{Timeout: adminTimeout}}, nil
}

// apiError is an error answer of the admin API.
type apiError struct {
	status int
	text   string
}

func (e *apiError) Error() string { return e.text }

// get fetches path with query q and returns the body of a 200 answer; any other answer
// is an *apiError.
func (c *adminClient) get(path string, q url.Values) ([]byte, error) {
	target := c.base + path
	if len(q) > 0 {
		target += "?" + q.Encode()
	}
	ctx, cancel := context.WithTimeout(context.Background(), adminTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return nil, err
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	res, err := c.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, 256<<20))
	if err != nil {
		return nil, fmt.Errorf("read the answer of %s: %w", c.base, err)
	}
	if res.StatusCode != http.StatusOK {
		return nil, &apiError{status: res.StatusCode, text: admin.ErrorText(res.StatusCode, res.Header.Get("Content-Type"), body)}
	}
	return body, nil
}

// fail reports an error of get with what to do about it, and returns the exit status:
// 2 for a request the API found wrong (a bad filter), 1 otherwise.
func (c *adminClient) fail(stderr io.Writer, err error) int {
	var ae *apiError
	if errors.As(err, &ae) {
		switch ae.status {
		case http.StatusBadRequest:
			fmt.Fprintf(stderr, "siplens: %s\n", ae.text)
			return 2
		case http.StatusUnauthorized:
			hint := "give the token of admin.token in the server's config with --token or $SIPLENS_TOKEN"
			if c.token != "" {
				hint = "the token given (--token or $SIPLENS_TOKEN) is not the server's admin.token"
			}
			return errorf(stderr, "the admin API at %s refused the request: %s\n(%s)", c.base, ae.text, hint)
		}
		return errorf(stderr, "the admin API at %s: %s", c.base, ae.text)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		var ne net.Error
		what := "cannot reach"
		if errors.As(err, &ne) && ne.Timeout() {
			what = "no answer in time from"
		}
		return errorf(stderr, "%s the admin API at %s: %v\nIs siplens serve running with its admin API on %s? (admin.listen in its config; --admin URL or $SIPLENS_ADMIN to look elsewhere)",
			what, c.base, unwrapURLError(ue), c.host)
	}
	return errorf(stderr, "%v", err)
}

// unwrapURLError drops the method and URL that *url.Error repeats.
func unwrapURLError(e *url.Error) error {
	var op *net.OpError
	if errors.As(e.Err, &op) {
		return op.Err
	}
	return e.Err
}
