package cli

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"

	"github.com/siplens/siplens/ua"
)

// exitStatusHelp is the exit-status section of the phone commands' --help.
const exitStatusHelp = `
Exit status (by outcome):
  0  success: answered (2xx), registered, or every probe got a 2xx
  1  error: a bad argument, a network or local error
  2  bad flags
  3  the final answer was a redirection (3xx) the phone could not follow
  4  client error (4xx), e.g. 486 Busy Here, 404, or a wrong password (401/407 twice)
  5  server error (5xx), e.g. 503 without a usable Retry-After
  6  global failure (6xx), e.g. 603 Decline
  7  timeout: no final response, or no answer within --ring-timeout (CANCEL, 487)
  8  cancelled by you (Ctrl-C) before an answer
`

// phoneFlags are the flags every phone command takes.
type phoneFlags struct {
	transport *string
	jsonOut   *bool
	server    *string
	password  *string
	authUser  *string
	listen    *string
}

func addPhoneFlags(fs *flag.FlagSet, withServer bool) *phoneFlags {
	f := &phoneFlags{
		transport: fs.String("transport", "udp", "udp or tcp"),
		jsonOut:   fs.Bool("json", false, "print one JSON object per event and result instead of text"),
		listen:    fs.String("listen", "", "local IP[:PORT] to bind (default: the address that reaches the server, a free port)"),
	}
	if withServer {
		f.server = fs.String("server", "", "outbound proxy HOST[:PORT] every request goes through (default: the AOR's domain, port 5060; \"direct\": send each request to the host of its Request-URI)")
		f.password = fs.String("password", "", "password for digest authentication (401/407)")
		f.authUser = fs.String("auth-user", "", "digest user name (default: the user of the AOR)")
	}
	return f
}

// newPhoneFlags makes a flag set whose --help ends with the exit statuses.
func newPhoneFlags(name, synopsis, about string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: siplens %s\n\n%s\n\nFlags:\n", synopsis, strings.TrimSpace(about))
		fs.PrintDefaults()
		fmt.Fprint(stderr, exitStatusHelp)
		fmt.Fprintln(stderr, "\nSee docs/phone.md for the --json format and examples.")
	}
	return fs
}

// parseInterleaved parses flags that may come before, between or after the positional
// arguments, and returns the positionals.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, int, bool) {
	var positional []string
	rest := args
	for {
		if code, ok := parseFlags(fs, rest); !ok {
			return nil, code, false
		}
		rest = fs.Args()
		if len(rest) == 0 {
			return positional, 0, true
		}
		positional = append(positional, rest[0])
		rest = rest[1:]
	}
}

// parsePositional is parseInterleaved for a command that takes exactly n positional
// arguments: any other number prints the usage.
func parsePositional(fs *flag.FlagSet, args []string, n int) ([]string, int, bool) {
	pos, code, ok := parseInterleaved(fs, args)
	if !ok {
		return nil, code, false
	}
	if len(pos) != n {
		fs.Usage()
		return nil, ua.ExitUsage, false
	}
	return pos, 0, true
}

// proxyFor turns --server into the phone's outbound proxy.
func proxyFor(server string, aor string) (string, error) {
	switch strings.ToLower(server) {
	case "":
		return ua.ParseHostPort(aor, 5060)
	case "direct", "none":
		return "", nil
	}
	hp, err := ua.ParseHostPort(server, 5060)
	if err != nil {
		return "", fmt.Errorf("--server: %v", err)
	}
	return hp, nil
}

// phonePrinter writes events as text lines or JSON objects, one at a time.
type phonePrinter struct {
	mu   sync.Mutex
	w    io.Writer
	json bool
}

func (p *phonePrinter) event(e ua.Event) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.json {
		b, _ := json.Marshal(e)
		fmt.Fprintf(p.w, "%s\n", b)
		return
	}
	fmt.Fprintln(p.w, e.Line())
}

// text prints a plain line in text mode only.
func (p *phonePrinter) text(format string, args ...any) {
	if p.json {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	fmt.Fprintf(p.w, format, args...)
}

// interruptContext ends on the first Ctrl-C or SIGTERM; a second one kills the process the
// usual way.
func interruptContext() (context.Context, context.CancelFunc) {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		<-ctx.Done()
		stop()
	}()
	return ctx, stop
}

// openPhone builds the phone of a command from its flags, with the printer of its
// events on stdout (text, or JSON with --json).
func openPhone(f *phoneFlags, aorText string, stdout io.Writer) (*ua.Phone, *phonePrinter, error) {
	pr := &phonePrinter{w: stdout, json: *f.jsonOut}
	phone, err := newCLIPhone(f, aorText, pr)
	return phone, pr, err
}

// newCLIPhone builds the phone of a command from its flags.
func newCLIPhone(f *phoneFlags, aorText string, pr *phonePrinter) (*ua.Phone, error) {
	aor, err := ua.ParseAOR(aorText)
	if err != nil {
		return nil, err
	}
	cfg := ua.Config{AOR: aor, Transport: *f.transport, Listen: *f.listen, OnEvent: pr.event}
	switch strings.ToLower(cfg.Transport) {
	case "udp", "tcp":
	default:
		return nil, fmt.Errorf("--transport %q: use udp or tcp", cfg.Transport)
	}
	if f.server != nil {
		hostport := aor.Host
		if cfg.Proxy, err = proxyFor(*f.server, hostport); err != nil {
			return nil, err
		}
		cfg.Password, cfg.AuthUser = *f.password, *f.authUser
	}
	return ua.New(cfg)
}

func runRegister(args []string, stdout, stderr io.Writer) int {
	fs := newPhoneFlags("register", "register USER@DOMAIN --password P [--server HOST:PORT] [--expires N] [--keep] [--transport udp|tcp] [--json]", `
Registers this machine as a phone for USER@DOMAIN (RFC 3261 10.2), answering the
registrar's digest challenge once, and prints the bindings the registrar lists in its
200 with their lifetimes. With --keep it refreshes the binding before it expires until
Ctrl-C, then unregisters (Expires: 0). Without --keep the binding stays until it expires.`, stderr)
	pf := addPhoneFlags(fs, true)
	expires := fs.Int("expires", 3600, "requested lifetime of the binding in seconds")
	keep := fs.Bool("keep", false, "stay registered (refresh before expiry) until Ctrl-C, then unregister")
	pos, code, ok := parsePositional(fs, args, 1)
	if !ok {
		return code
	}
	if *expires < 1 {
		return errorf(stderr, "--expires %d: give a positive number of seconds", *expires)
	}
	phone, pr, err := openPhone(pf, pos[0], stdout)
	if err != nil {
		return errorf(stderr, "%v", err)
	}
	defer phone.Close()
	ctx, stop := interruptContext()
	defer stop()
	if !*keep {
		r := phone.Register(ctx, *expires)
		return r.Exit
	}
	r := phone.KeepRegistered(ctx, *expires, func(r *ua.RegisterResult) {
		if r.OK() {
			pr.text("staying registered; Ctrl-C unregisters and stops\n")
		}
	})
	return r.Exit
}
