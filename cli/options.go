package cli

import (
	"fmt"
	"io"
	"net"
	"strconv"
	"time"

	"github.com/siplens/siplens/ua"
)

func runOptions(args []string, stdout, stderr io.Writer) int {
	fs := newPhoneFlags("options", "options TARGET [--count N] [--interval 1s] [--timeout 5s] [--from USER] [--transport udp|tcp] [--json]", `
Sends OPTIONS to TARGET (HOST[:PORT] or a SIP URI such as sip:alice@example.com) and
prints the response code and the round-trip time, like "sipsak -s". With --count N it
sends N probes --interval apart and prints a summary: a simple monitor. The exit status
is that of the last probe that did not get a 2xx (0 when every probe got one).`, stderr)
	pf := addPhoneFlags(fs, false)
	count := fs.Int("count", 1, "number of probes (0: until Ctrl-C)")
	interval := fs.Duration("interval", time.Second, "time between probes")
	timeout := fs.Duration("timeout", 5*time.Second, "how long to wait for each answer")
	from := fs.String("from", "siplens", "user part of the From URI (its host is this machine's address)")
	pos, code, ok := parsePositional(fs, args, 1)
	if !ok {
		return code
	}
	if *count < 0 || *interval < 0 || *timeout <= 0 {
		return errorf(stderr, "--count must not be negative and --timeout must be positive")
	}
	target, err := ua.ParseHostTarget(pos[0])
	if err != nil {
		return errorf(stderr, "TARGET: %v", err)
	}
	port := target.Port
	if port == 0 {
		port = 5060
	}
	pr := &phonePrinter{w: stdout, json: *pf.jsonOut}
	near := net.JoinHostPort(target.Host, strconv.Itoa(port))
	aor, err := ua.ParseTarget(*from+"@invalid", "")
	if err != nil {
		return errorf(stderr, "--from: %v", err)
	}
	aor.Host = "" // the phone's own address
	phone, err := ua.New(ua.Config{AOR: aor, Near: near, Transport: *pf.transport, Listen: *pf.listen, OnEvent: func(e ua.Event) {
		// Only the results: the per-probe message events would repeat them.
		if e.Type == ua.EventResult || pr.json {
			pr.event(e)
		}
	}})
	if err != nil {
		return errorf(stderr, "%v", err)
	}
	defer phone.Close()
	ctx, stop := interruptContext()
	defer stop()

	prober := phone.NewProber(target)
	exit := ua.ExitOK
	var sent, answered, ok2xx int
	var rtts []time.Duration
	for i := 0; *count == 0 || i < *count; i++ {
		if i > 0 {
			select {
			case <-time.After(*interval):
			case <-ctx.Done():
			}
		}
		if ctx.Err() != nil {
			break
		}
		r := prober.Probe(ctx, *timeout)
		if r.Outcome == ua.OutcomeCancelled {
			break
		}
		sent++
		if r.Code != 0 {
			answered++
			rtts = append(rtts, r.RTT)
		}
		if r.Exit == ua.ExitOK {
			ok2xx++
		} else {
			exit = r.Exit
		}
	}
	if sent > 1 && !pr.json {
		fmt.Fprintf(stdout, "--- %s: %d sent, %d answered, %d with 2xx, %.0f%% unanswered", pos[0], sent, answered, ok2xx, 100*float64(sent-answered)/float64(sent))
		if len(rtts) > 0 {
			lo, hi, sum := rtts[0], rtts[0], time.Duration(0)
			for _, d := range rtts {
				lo, hi, sum = min(lo, d), max(hi, d), sum+d
			}
			fmt.Fprintf(stdout, "; rtt min/avg/max %.1f/%.1f/%.1f ms", millis(lo), millis(sum/time.Duration(len(rtts))), millis(hi))
		}
		fmt.Fprintln(stdout)
	}
	return exit
}

func millis(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
