// Package cli holds siplens' subcommands.
package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Version is set at build time with -ldflags "-X github.com/siplens/siplens/cli.Version=...".
var Version = "dev"

type command struct {
	summary string
	run     func(args []string, stdout, stderr io.Writer) int
}

func commands() map[string]command {
	return map[string]command{
		"serve":   {"run the registrar and proxy", runServe},
		"config":  {"check a config file: siplens config check FILE", runConfig},
		"user":    {"manage local users: siplens user add|set|list|remove", runUser},
		"explain": {"explain response codes: siplens explain 480 [486] | --list", runExplain},
		"version": {"print the version", func([]string, io.Writer, io.Writer) int { fmt.Println("siplens", Version); return 0 }},
		"calls":   {"list recorded calls from the admin API: siplens calls [--code 480] [--user bob] [--since 1h] [--json]", runCalls},
		"show":    {"one call's diagnosis and ladder: siplens show CALL-ID [--format text|mermaid|svg|json|pcap|trace]", runShow},
		"analyze": {"explain the calls in a pcap/pcapng/HEP file or a SIP log, offline: siplens analyze FILE [--failed] [--call CALL-ID]", runAnalyze},

		// The phone commands (package ua).
		"register": {"sign in as a phone (REGISTER): siplens register alice@example.com --password P [--keep]", runRegister},
		"call":     {"place a call and act on every response: siplens call alice@example.com bob", runCall},
		"answer":   {"answer calls as told (ring, then 200/486/...): siplens answer bob@example.com --password P", runAnswer},
		"options":  {"probe with OPTIONS, print code and RTT: siplens options example.com [--count N]", runOptions},
	}
}

// Main runs the command line and returns the exit status.
func Main(args []string, stdout, stderr io.Writer) int {
	cmds := commands()
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stdout, cmds)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	cmd, ok := cmds[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "siplens: unknown command %q\n\n", args[0])
		usage(stderr, cmds)
		return 2
	}
	return cmd.run(args[1:], stdout, stderr)
}

func usage(w io.Writer, cmds map[string]command) {
	fmt.Fprintln(w, "siplens: a SIP registrar and proxy that tells you why every call ended the way it did")
	fmt.Fprintln(w, "\nUsage: siplens COMMAND [flags]\n\nCommands:")
	names := make([]string, 0, len(cmds))
	for n := range cmds {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-8s %s\n", n, cmds[n].summary)
	}
	fmt.Fprintln(w, "\nRun 'siplens COMMAND --help' for the flags of a command.")
}

// newFlags makes a flag set that prints its usage to stderr and returns errors.
func newFlags(name, synopsis string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: siplens %s\n\n", synopsis)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses and maps -h to exit 0 and bad flags to exit 2.
func parseFlags(fs *flag.FlagSet, args []string) (int, bool) {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0, false
		}
		return 2, false
	}
	return 0, true
}

// DefaultDataDir is where state lives when --data-dir is not given: $SIPLENS_DATA_DIR, or
// $XDG_DATA_HOME/siplens, or ~/.local/share/siplens.
func DefaultDataDir() string {
	if d := os.Getenv("SIPLENS_DATA_DIR"); d != "" {
		return d
	}
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "siplens")
	}
	if home, err := os.UserHomeDir(); err == nil {
		return filepath.Join(home, ".local", "share", "siplens")
	}
	return "siplens-data"
}

func errorf(w io.Writer, format string, args ...any) int {
	msg := fmt.Sprintf(format, args...)
	fmt.Fprintln(w, "siplens: "+strings.TrimSuffix(msg, "\n"))
	return 1
}
