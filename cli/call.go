package cli

import (
	"fmt"
	"io"
	"time"

	"github.com/siplens/siplens/ua"
)

func runCall(args []string, stdout, stderr io.Writer) int {
	fs := newPhoneFlags("call", "call FROM TO [--password P] [--server HOST:PORT] [--codecs PCMU,PCMA,opus] [--duration 5s] [--ring-timeout 30s] [--transport udp|tcp] [--json]", `
Calls TO as FROM (USER@DOMAIN) with an SDP offer and shows every response as it
arrives, with what it means. TO is USER@DOMAIN, a SIP URI, or a bare USER of FROM's
domain. The phone acts on each response as a phone must (RFC 3261):
  401/407  retried once with --password; a second challenge means a wrong password or user
  3xx      the Contacts are tried in q order (at most --max-redirects, never twice)
  503      with Retry-After up to --max-retry-after: waits and retries once
  1xx      trying, ringing, session progress (early media when it carries SDP)
  2xx      ACK, hold the call for --duration, BYE
  Ctrl-C or --ring-timeout while ringing: CANCEL (the INVITE ends with 487)
At the end it prints the call's ladder and exits with the status of the outcome.`, stderr)
	pf := addPhoneFlags(fs, true)
	codecs := fs.String("codecs", ua.DefaultCodecs, "codecs to offer, in order of preference (PCMU, PCMA, G722, opus, telephone-event)")
	duration := fs.Duration("duration", 5*time.Second, "how long to hold an answered call before hanging up")
	ringTimeout := fs.Duration("ring-timeout", 30*time.Second, "CANCEL the call if it is not answered within this time (0: no limit)")
	maxRedirects := fs.Int("max-redirects", ua.DefaultMaxRedirects, "how many 3xx redirections to follow")
	maxRetryAfter := fs.Duration("max-retry-after", ua.DefaultMaxRetryAfter, "longest Retry-After of a 503 worth waiting for")
	pos, code, ok := parsePositional(fs, args, 2)
	if !ok {
		return code
	}
	cs, err := ua.ParseCodecs(*codecs)
	if err != nil {
		return errorf(stderr, "--codecs: %v", err)
	}
	if *duration < 0 || *ringTimeout < 0 || *maxRedirects < 0 || *maxRetryAfter < 0 {
		return errorf(stderr, "durations and limits must not be negative")
	}
	from, err := ua.ParseAOR(pos[0])
	if err != nil {
		return errorf(stderr, "FROM: %v", err)
	}
	to, err := ua.ParseTarget(pos[1], from.Host)
	if err != nil {
		return errorf(stderr, "TO: %v", err)
	}
	phone, pr, err := openPhone(pf, pos[0], stdout)
	if err != nil {
		return errorf(stderr, "%v", err)
	}
	defer phone.Close()
	ctx, stop := interruptContext()
	defer stop()
	res := phone.Call(ctx, ua.CallOptions{Target: to, Codecs: cs, Duration: *duration, RingTimeout: *ringTimeout,
		MaxRedirects: max(*maxRedirects, 0), MaxRetryAfter: *maxRetryAfter})
	if !pr.json {
		fmt.Fprintf(stdout, "\nLadder of call %s:\n", res.CallID)
		_ = ua.WriteLadder(stdout, res.Events)
		fmt.Fprintf(stdout, "\nOutcome: %s (exit %d): %s\n", res.Outcome, res.Exit, res.Text)
	}
	return res.Exit
}
