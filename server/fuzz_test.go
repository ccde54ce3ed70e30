package server

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/siplens/siplens/config"
	"github.com/siplens/siplens/store"
	"github.com/siplens/siplens/store/memory"
)

// recordingTx is a server transaction that keeps the responses instead of sending them.
type recordingTx struct {
	mu        sync.Mutex
	responses []*sip.Response
	done      chan struct{}
}

func newRecordingTx() *recordingTx { return &recordingTx{done: make(chan struct{})} }

func (tx *recordingTx) Respond(res *sip.Response) error {
	tx.mu.Lock()
	tx.responses = append(tx.responses, res)
	tx.mu.Unlock()
	return nil
}
func (tx *recordingTx) Acks() <-chan *sip.Request          { return nil }
func (tx *recordingTx) OnCancel(sip.FnTxCancel) bool       { return true }
func (tx *recordingTx) Terminate()                         {}
func (tx *recordingTx) OnTerminate(sip.FnTxTerminate) bool { return true }
func (tx *recordingTx) Done() <-chan struct{}              { return tx.done }
func (tx *recordingTx) Err() error                         { return nil }

var (
	fuzzOnce   sync.Once
	fuzzServer *Server
	fuzzErr    error
)

// fuzzTarget is one server for the whole fuzzing process: listeners on loopback (so the
// forward step has a transport), bob registered at a loopback address where nothing
// listens, and a guard that keeps any forwarding on loopback whatever the input says.
func fuzzTarget(t testing.TB) *Server {
	fuzzOnce.Do(func() {
		cfg := config.Default()
		cfg.Listen = config.Listen{Address: "127.0.0.1", UDP: 0, TCP: 0}
		cfg.Listen.UDP = 0
		cfg.Listen.TCP = 0
		cfg.Proxy.NoAnswerTimeout = config.Duration{Duration: time.Second}
		cfg.Users = []config.User{{User: "alice", Password: "a"}, {User: "bob", Password: "b"}}
		loc := memory.NewLocations()
		_, fuzzErr = loc.Update(context.Background(), "bob@localhost", time.Now(), func([]store.Binding) ([]store.Binding, error) {
			return []store.Binding{{AOR: "bob@localhost", Contact: "sip:bob@127.0.0.1:9", Q: 1, Expires: time.Now().Add(time.Hour), Source: "127.0.0.1:9", Transport: "UDP"}}, nil
		})
		if fuzzErr != nil {
			return
		}
		fuzzServer, fuzzErr = New(cfg, Options{
			Users: memory.NewUsers(), Locations: loc,
			Log: slog.New(slog.NewTextHandler(io.Discard, nil)),
			ForwardGuard: func(host string) bool {
				ip := net.ParseIP(host)
				return ip != nil && ip.IsLoopback()
			},
		})
		if fuzzErr != nil {
			return
		}
		// Port 0 for UDP with TCP 0 means "off" in the config; bind UDP to a free port.
		fuzzServer.cfg.Listen.UDP = freeUDPPort()
		fuzzErr = fuzzServer.Start()
	})
	if fuzzErr != nil {
		t.Fatal(fuzzErr)
	}
	return fuzzServer
}

func freeUDPPort() int {
	c, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		return 0
	}
	defer c.Close()
	return c.LocalAddr().(*net.UDPAddr).Port
}

// FuzzRequestPath feeds bytes through what a datagram meets in siplens: the prefilter,
// sipgo's parser, and the frame with the whole chain. Whatever the input, nothing panics
// (a recovered step panic would show in the panic counter), and every answer has a valid
// status line, a routable Via, and header lines that an input cannot split or inject into.
// Headers such as From are echoed as received (RFC 3261 8.2.6.2), so their content is not
// judged here.
func FuzzRequestPath(f *testing.F) {
	seeds, _ := filepath.Glob("../e2e/testdata/torture/*.sip")
	for _, p := range seeds {
		b, err := os.ReadFile(p)
		if err != nil {
			f.Fatal(err)
		}
		r := strings.NewReplacer("{{local}}", "127.0.0.1:5999", "{{branch}}", "z9hG4bKseed", "{{call_id}}", "seed@x", "{{tag}}", "t1", "{{local_ip}}", "127.0.0.1", "{{local_port}}", "5999", "{{transport}}", "UDP")
		f.Add([]byte(r.Replace(string(b))))
	}
	srv := fuzzTarget(f)
	props := sip.TransportReadProps{Transport: "UDP", LocalAddr: srv.udp.LocalAddr(), RemoteAddr: &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 5999}}
	parser := sip.NewParser()
	f.Fuzz(func(t *testing.T, data []byte) {
		filtered, err := srv.prefilter(props, data)
		if err != nil || len(filtered) == 0 {
			return
		}
		msg, err := parser.ParseSIP(filtered)
		if err != nil {
			return
		}
		req, ok := msg.(*sip.Request)
		if !ok {
			return
		}
		req.SetSource("127.0.0.1:5999")
		req.SetTransport("UDP")
		tx := newRecordingTx()
		before := srv.Panics.Load()
		srv.handle(req, tx)
		if srv.Panics.Load() != before {
			t.Fatalf("a step panicked on:\n%q", data)
		}
		for _, res := range tx.responses {
			if res.StatusCode < 100 || res.StatusCode > 699 {
				t.Fatalf("answered with status %d", res.StatusCode)
			}
			var b bytes.Buffer
			res.StringWrite(&b)
			checkWellFormed(t, b.Bytes(), data)
		}
	})
}

// checkWellFormed: status line, every header line "Name: value" ending in CRLF, a Via that
// sipgo parses again.
func checkWellFormed(t *testing.T, res, input []byte) {
	head, _, ok := bytes.Cut(res, []byte("\r\n\r\n"))
	if !ok {
		t.Fatalf("answer has no end of headers:\n%q\ninput: %q", res, input)
	}
	lines := strings.Split(string(head), "\r\n")
	if !strings.HasPrefix(lines[0], "SIP/2.0 ") || len(lines[0]) < 12 {
		t.Fatalf("bad status line %q; input: %q", lines[0], input)
	}
	for _, l := range lines[1:] {
		if strings.ContainsAny(l, "\r\n") || !strings.Contains(l, ":") {
			t.Fatalf("malformed header line %q in answer:\n%s\ninput: %q", l, res, input)
		}
		name, value, _ := strings.Cut(l, ":")
		if strings.EqualFold(strings.TrimSpace(name), "Via") {
			probe := "OPTIONS sip:x SIP/2.0\r\nVia: " + strings.TrimSpace(value) + "\r\n\r\n"
			if _, err := sip.ParseMessage([]byte(probe)); err != nil {
				t.Fatalf("answer's Via %q does not parse: %v; input: %q", value, err, input)
			}
		}
	}
}
