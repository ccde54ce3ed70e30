// Command siplens is a SIP registrar and proxy that explains every call.

package main

import (
	"fmt"
	"net"
	"net/http"
	_ "net/http/pprof" // served only when SIPLENS_PPROF names a loopback address
	"os"
	"runtime/debug"

	"github.com/siplens/siplens/cli"
)

// serveGCPercent is the garbage collector's target for `siplens serve` when GOGC is not
// set. The proxy allocates a few KB per message, so collecting when the heap has grown
// 4x instead of 2x saves most of the collector's CPU (marking was ~12% of it at the
// default); the memory that costs is bounded by serveMemoryLimit. See bench/README.md.
const serveGCPercent = 400

func main() {
	if len(os.Args) > 1 && os.Args[1] == "serve" {
		if os.Getenv("GOGC") == "" {
			debug.SetGCPercent(serveGCPercent)
		}
		if limit := serveMemoryLimit(); limit > 0 && os.Getenv("GOMEMLIMIT") == "" {
			debug.SetMemoryLimit(limit)
		}
	}
	if addr := os.Getenv("SIPLENS_PPROF"); addr != "" {
		if err := servePprof(addr); err != nil {
			fmt.Fprintln(os.Stderr, "siplens:", err)
			os.Exit(2)
		}
	}
	os.Exit(cli.Main(os.Args[1:], os.Stdout, os.Stderr))
}

// servePprof starts Go's profiler endpoints (/debug/pprof/) for performance work. They
// reveal memory contents, so only a loopback address is accepted.
func servePprof(addr string) error {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("SIPLENS_PPROF=%q: want IP:PORT: %w", addr, err)
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return fmt.Errorf("SIPLENS_PPROF=%q: the profiler is only served on a loopback address", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("SIPLENS_PPROF: %w", err)
	}
	go func() { _ = http.Serve(ln, http.DefaultServeMux) }()
	return nil
}
