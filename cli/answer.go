package cli

import (
	"context"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/siplens/siplens/ua"
)

func runAnswer(args []string, stdout, stderr io.Writer) int {
	fs := newPhoneFlags("answer", "answer USER@DOMAIN --password P [--ring 2s] [--then 200|486|480|603|600|noanswer] [--script FILE] [--server HOST:PORT] [--transport udp|tcp] [--json]", `
Registers as USER@DOMAIN and answers incoming calls, several at once: each rings for
--ring (180 Ringing), then gets --then: 200 answers with SDP, waits for the ACK and
answers the caller's BYE (or hangs up after --hangup); a code from 300 to 699 rejects;
noanswer rings until the caller gives up (CANCEL: 200, then 487). --script FILE gives
a behaviour per caller or per call number (see docs/phone.md):
  call 1        ring=1s then=486
  from alice    then=603
  *             ring=2s then=200 hangup=5s
Ctrl-C (or --calls N) ends the calls in progress, unregisters and stops.
Exit status: 0 after a clean stop; otherwise that of the failed registration.`, stderr)
	pf := addPhoneFlags(fs, true)
	ring := fs.Duration("ring", 2*time.Second, "how long to ring (180) before the final answer; 0: answer at once")
	then := fs.String("then", "200", "final answer: 200, a code from 300 to 699, or noanswer")
	hangup := fs.Duration("hangup", 0, "hang up an answered call after this long (0: wait for the caller's BYE)")
	retryAfter := fs.Int("retry-after", 0, "add Retry-After: N to rejections (e.g. with --then 503)")
	contact := fs.String("contact", "", "where a 3xx redirects the caller (with --then 302)")
	early := fs.Bool("early", false, "ring with 183 Session Progress carrying the SDP answer (early media) instead of 180")
	script := fs.String("script", "", "file with a behaviour per caller or per call number")
	codecs := fs.String("codecs", ua.DefaultCodecs, "codecs to accept")
	expires := fs.Int("expires", 3600, "requested lifetime of the registration in seconds")
	calls := fs.Int("calls", 0, "stop after this many calls have ended (0: until Ctrl-C)")
	pos, code, ok := parsePositional(fs, args, 1)
	if !ok {
		return code
	}
	final, err := ua.ParseFinal(*then)
	if err != nil {
		return errorf(stderr, "--then: %v", err)
	}
	def := ua.Behaviour{Ring: *ring, Final: final, Hangup: *hangup, RetryAfter: *retryAfter, Contact: *contact, Early: *early}
	if err := def.Validate(); err != nil {
		return errorf(stderr, "%v", err)
	}
	var sc *ua.Script
	if *script != "" {
		f, err := os.Open(*script)
		if err != nil {
			return errorf(stderr, "--script: %v", err)
		}
		sc, err = ua.ParseScript(f, *script)
		f.Close()
		if err != nil {
			return errorf(stderr, "--script: %v", err)
		}
	}
	cs, err := ua.ParseCodecs(*codecs)
	if err != nil {
		return errorf(stderr, "--codecs: %v", err)
	}
	if *expires < 1 || *calls < 0 {
		return errorf(stderr, "--expires must be positive and --calls not negative")
	}
	phone, pr, err := openPhone(pf, pos[0], stdout)
	if err != nil {
		return errorf(stderr, "%v", err)
	}
	defer phone.Close()
	ctx, stop := interruptContext()
	defer stop()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()

	var mu sync.Mutex
	ended := 0
	err = phone.Answer(ua.AnswerOptions{Default: def, Script: sc, Codecs: cs, OnCall: func(r *ua.AnswerResult) {
		if !pr.json {
			pr.text("\nLadder of call %d (%s):\n", r.Call, r.CallID)
			pr.mu.Lock()
			_ = ua.WriteLadder(pr.w, r.Events)
			pr.mu.Unlock()
		}
		mu.Lock()
		ended++
		if *calls > 0 && ended >= *calls {
			cancel()
		}
		mu.Unlock()
	}})
	if err != nil {
		return errorf(stderr, "%v", err)
	}
	var regFailed *ua.RegisterResult
	r := phone.KeepRegistered(ctx, *expires, func(r *ua.RegisterResult) {
		if r.OK() {
			pr.text("answering calls to %s at %s (%s); Ctrl-C stops\n", pos[0], phone.Addr(), phone.Transport())
		} else {
			regFailed = r
		}
	})
	if regFailed != nil {
		return regFailed.Exit
	}
	// KeepRegistered returned because ctx ended and it unregistered; Close (deferred)
	// ends the calls in progress.
	if !r.OK() {
		fmt.Fprintf(stderr, "siplens: unregistering failed: %s\n", r.Text)
	}
	return ua.ExitOK
}
