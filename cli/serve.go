package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"time"

	"github.com/siplens/siplens/admin"
	"github.com/siplens/siplens/config"
	"github.com/siplens/siplens/metrics"
	"github.com/siplens/siplens/server"
	"github.com/siplens/siplens/store/sqlite"
	"github.com/siplens/siplens/trace"
)

// TraceFileName is the call recorder's database inside the data directory.
const TraceFileName = "traces.db"

// loadConfig reads FILE or the defaults.
func loadConfig(path string) (config.Config, error) {
	if path == "" {
		return config.Default(), nil
	}
	return config.Load(path)
}

// dataDir picks the data directory: the flag, then the config, then the default.
func dataDir(flagValue string, cfg config.Config) string {
	switch {
	case flagValue != "":
		return flagValue
	case cfg.DataDir != "":
		return cfg.DataDir
	}
	return DefaultDataDir()
}

func runServe(args []string, stdout, stderr io.Writer) int {
	fs := newFlags("serve", "serve [--config FILE] [--address IP] [--udp-port N] [--tcp-port N] [--data-dir DIR] [--log-level L] [--log-format text|json]", stderr)
	cfgPath := fs.String("config", "", "YAML config file (see docs/config.md); without it siplens runs on its embedded defaults")
	address := fs.String("address", "", "IP address to listen on (default from config: 0.0.0.0)")
	udpPort := fs.Int("udp-port", -1, "UDP port, 0 to switch UDP off (default from config: 5060)")
	tcpPort := fs.Int("tcp-port", -1, "TCP port, 0 to switch TCP off (default from config: 5060)")
	dir := fs.String("data-dir", "", "directory of the SQLite store (default $SIPLENS_DATA_DIR or ~/.local/share/siplens)")
	level := fs.String("log-level", "", "debug, info, warn or error (default from config: info)")
	format := fs.String("log-format", "", "text or json (default from config: text)")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return errorf(stderr, "%v", err)
	}
	if *address != "" {
		cfg.Listen.Address = *address
	}
	if *udpPort >= 0 {
		cfg.Listen.UDP = *udpPort
	}
	if *tcpPort >= 0 {
		cfg.Listen.TCP = *tcpPort
	}
	if *level != "" {
		cfg.Log.Level = *level
	}
	if *format != "" {
		cfg.Log.Format = *format
	}
	if err := cfg.Validate(); err != nil {
		return errorf(stderr, "flags: %v", err)
	}
	log := newLogger(cfg.Log, stderr)

	data := dataDir(*dir, cfg)
	st, err := sqlite.Open(data)
	if err != nil {
		return errorf(stderr, "%v", err)
	}
	defer st.Close()

	// The call recorder writes to its own file, so that recording never waits on the
	// registrar's writes (and the other way round).
	var (
		traces     trace.Sink
		tracer     *trace.Tracer
		traceCalls func(context.Context) (int64, error)
	)
	if cfg.Trace.RecordingOn() {
		sink, err := trace.OpenSQLite(filepath.Join(data, TraceFileName))
		if err != nil {
			return errorf(stderr, "%v", err)
		}
		defer sink.Close()
		tracer, err = trace.NewTracer(trace.Options{
			Sink:      sink,
			Retention: trace.Retention{MaxCalls: cfg.Trace.MaxCalls, MaxAge: cfg.Trace.MaxAge.Duration},
			OnError:   func(err error) { log.Warn("call recording", "error", err) },
		})
		if err != nil {
			return errorf(stderr, "%v", err)
		}
		defer tracer.Close()
		traces = sink
		traceCalls = sink.CountCalls
	}

	// The metrics are served by the admin API only: without it nobody can scrape them,
	// and the request path does not pay for counting.
	var mets *metrics.Metrics
	if cfg.Admin.Listen != "" {
		mo := metrics.Options{Locations: st, Tracer: tracer, TraceCalls: traceCalls, Log: log.With("component", "metrics")}
		if tracer != nil {
			mo.TraceFile = filepath.Join(data, TraceFileName)
		}
		mets = metrics.New(mo)
	}

	srv, err := server.New(cfg, server.Options{Users: st, Locations: st, Log: log, Tracer: tracer, Metrics: mets})
	if err != nil {
		return errorf(stderr, "%v", err)
	}
	if err := srv.Start(); err != nil {
		return errorf(stderr, "%v", err)
	}
	defer srv.Close()

	adminAddr := ""
	if cfg.Admin.Listen != "" {
		ln, err := net.Listen("tcp", cfg.Admin.Listen)
		if err != nil {
			return errorf(stderr, "admin API: %v", err)
		}
		var self []string
		for _, a := range srv.Addrs() {
			self = append(self, a)
		}
		hs := &http.Server{
			Handler: admin.New(admin.Options{Traces: traces, Locations: st, Self: self, Token: cfg.Admin.Token,
				Log: log.With("component", "admin"), Metrics: mets.Handler(),
				Counters: func() admin.Counters {
					return admin.Counters{Calls: srv.ActiveCalls(), Transactions: int(srv.InProgress())}
				}}),
			ReadHeaderTimeout: 5 * time.Second, WriteTimeout: time.Minute, IdleTimeout: 2 * time.Minute,
		}
		go func() {
			if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				log.Error("admin API stopped", "error", err)
			}
		}()
		defer func() {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			hs.Shutdown(ctx)
		}()
		adminAddr = ln.Addr().String()
	}

	printBanner(stdout, srv, cfg, filepath.Join(data, sqlite.FileName), *cfgPath)
	if adminAddr != "" {
		fmt.Fprintf(stdout, "web page and admin API: http://%s/ (also siplens calls, siplens show CALL-ID; metrics at /metrics)\n", adminAddr)
	}
	if tracer == nil {
		fmt.Fprintln(stdout, "call recording: off (trace.enabled: false)")
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	log.Info("stopping")
	return 0
}

func printBanner(w io.Writer, srv *server.Server, cfg config.Config, dbPath, cfgPath string) {
	addrs := srv.Addrs()
	var listens []string
	for _, tp := range []string{"UDP", "TCP"} {
		if a, ok := addrs[tp]; ok {
			listens = append(listens, tp+" "+a)
		}
	}
	fmt.Fprintf(w, "siplens %s listening on %s\n", Version, strings.Join(listens, ", "))
	names := srv.Domains().Names()
	aliases := srv.Domains().Aliases()
	sort.Strings(aliases)
	fmt.Fprintf(w, "domains: %s (also answers to %s)\n", strings.Join(names, ", "), strings.Join(aliases, ", "))
	fmt.Fprintf(w, "store: %s\n", dbPath)
	cfgFlag := ""
	if cfgPath != "" {
		cfgFlag = " --config " + cfgPath
	}
	fmt.Fprintf(w, "add a user: siplens user add alice@%s --password SECRET%s\n", server.DefaultDomain(cfg), cfgFlag)
}

func newLogger(cfg config.Log, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.Level))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.Format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

func runConfig(args []string, stdout, stderr io.Writer) int {
	if len(args) != 2 || args[0] != "check" {
		fmt.Fprintln(stderr, "Usage: siplens config check FILE")
		if len(args) == 1 && (args[0] == "-h" || args[0] == "--help") {
			return 0
		}
		return 2
	}
	if _, err := config.Load(args[1]); err != nil {
		return errorf(stderr, "%v", err)
	}
	fmt.Fprintf(stdout, "%s: ok\n", args[1])
	return 0
}
