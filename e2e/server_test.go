// Package e2e drives a running siplens with real SIP software (SIPp, baresip, sipsak) over
// loopback, once per transport.
package e2e

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/siplens/siplens/config"
	"github.com/siplens/siplens/server"
	"github.com/siplens/siplens/siptest"
	"github.com/siplens/siplens/store"
	"github.com/siplens/siplens/store/sqlite"
	"github.com/siplens/siplens/trace"
)

// Passwords of the users every test server knows.
var passwords = map[string]string{"alice": "alicepw", "bob": "bobpw", "carol": "carolpw", "dave": "davepw"}

// testServer is a siplens running in-process on a free loopback port (UDP and TCP).
type testServer struct {
	*server.Server
	Port   int
	Addr   string // "127.0.0.1:PORT"
	Dir    string
	logs   *syncBuffer
	loc    store.Locations
	traces trace.Sink
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startServer runs siplens with the test users; edit may change the config. dir is the data
// directory ("" for a fresh one), so a test can restart a server on the same store.
func startServer(t *testing.T, dir string, edit func(*config.Config)) *testServer {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	port := siptest.FreePort(t)
	cfg := config.Default()
	cfg.Listen = config.Listen{Address: "127.0.0.1", UDP: port, TCP: port}
	cfg.Log.Level = "debug"
	for _, name := range []string{"alice", "bob", "carol", "dave"} {
		cfg.Users = append(cfg.Users, config.User{User: name, Password: passwords[name]})
	}
	if edit != nil {
		edit(&cfg)
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("test config: %v", err)
	}
	st, err := sqlite.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	// Every test server records its calls, so every test also exercises the recorder.
	traces := trace.NewMemorySink()
	tracer, err := trace.NewTracer(trace.Options{Sink: traces, FlushInterval: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.New(cfg, server.Options{
		Users: st, Locations: st,
		Log:          slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		ForwardGuard: loopbackOnly,
		Tracer:       tracer,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	ts := &testServer{Server: srv, Port: port, Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), Dir: dir, logs: logs, loc: st, traces: traces}
	t.Cleanup(func() {
		srv.Close()
		tracer.Close()
		st.Close()
		if t.Failed() {
			t.Logf("siplens log:\n%s", logs.String())
		}
	})
	return ts
}

// loopbackOnly keeps every forwarded request on this machine, whatever a test sends.
func loopbackOnly(host string) bool {
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback() || host == "localhost"
}

// logHas waits up to a second for a log line containing every part.
func (s *testServer) logHas(parts ...string) bool {
	deadline := time.Now().Add(time.Second)
	for {
		for _, line := range strings.Split(s.logs.String(), "\n") {
			ok := true
			for _, p := range parts {
				if !strings.Contains(line, p) {
					ok = false
					break
				}
			}
			if ok {
				return true
			}
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Bindings lists the registrations in the server's store.
func (s *testServer) Bindings(t *testing.T) ([]store.Binding, error) {
	t.Helper()
	return s.loc.AllBindings(context.Background(), time.Now())
}

// call returns the recorded call whose initial request matches method and whose callee is
// user, after the recorder has written everything down.
func (s *testServer) call(t *testing.T, method, toUser string) *trace.Call {
	t.Helper()
	ctx := context.Background()
	deadline := time.Now().Add(5 * time.Second)
	for {
		if err := s.Tracer().Flush(ctx); err != nil {
			t.Fatal(err)
		}
		sums, err := s.traces.Calls(ctx, trace.Query{Method: method, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		for _, sum := range sums {
			if strings.HasPrefix(sum.To, toUser+"@") && sum.Code >= 200 {
				c, err := s.traces.Call(ctx, sum.CallID)
				if err != nil {
					t.Fatal(err)
				}
				return c
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no finished %s call to %s was recorded (%d calls: %+v)", method, toUser, len(sums), sums)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
