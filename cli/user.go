package cli

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/siplens/siplens/config"
	"github.com/siplens/siplens/server"
	"github.com/siplens/siplens/store"
	"github.com/siplens/siplens/store/sqlite"
)

func runUser(args []string, stdout, stderr io.Writer) int {
	const synopsis = "user add USER[@DOMAIN] --password P | user set USER[@DOMAIN] [--dnd 0|480|486|603] [--forward URI] [--forward-mode redirect|proxy] [--max-calls N] | user list | user remove USER[@DOMAIN]  [--config FILE] [--data-dir DIR]"
	if len(args) == 0 {
		fmt.Fprintln(stderr, "Usage: siplens "+synopsis)
		return 2
	}
	sub, rest := args[0], args[1:]
	fs := newFlags("user "+sub, synopsis, stderr)
	cfgPath := fs.String("config", "", "config file (for the realm and default domain)")
	dir := fs.String("data-dir", "", "directory of the SQLite store (default as for serve)")
	password := fs.String("password", "", "the user's password (add); only its digest HA1 values are stored")
	dnd := fs.Int("dnd", 0, "set: do-not-disturb, 0 (off), or the code calls get: 480, 486 or 603")
	forward := fs.String("forward", "", "set: forward every call to this SIP URI (\"\" to stop forwarding)")
	forwardMode := fs.String("forward-mode", "redirect", "set: redirect (answer 302) or proxy (siplens sends the call there)")
	maxCalls := fs.Int("max-calls", 0, "set: most simultaneous calls, 0 for no limit")
	// Flags may come before or after the user name.
	var positional []string
	for len(rest) > 0 {
		if code, ok := parseFlags(fs, rest); !ok {
			return code
		}
		rest = fs.Args()
		if len(rest) > 0 {
			positional = append(positional, rest[0])
			rest = rest[1:]
		}
	}
	cfg, err := loadConfig(*cfgPath)
	if err != nil {
		return errorf(stderr, "%v", err)
	}
	st, err := sqlite.Open(dataDir(*dir, cfg))
	if err != nil {
		return errorf(stderr, "%v", err)
	}
	defer st.Close()
	ctx := context.Background()

	switch sub {
	case "set":
		if len(positional) != 1 {
			return errorf(stderr, "user set needs exactly one USER[@DOMAIN]")
		}
		name, domain, err := splitAOR(positional[0], cfg)
		if err != nil {
			return errorf(stderr, "%v", err)
		}
		u, err := st.GetUser(ctx, name, domain)
		if errors.Is(err, store.ErrNotFound) {
			return errorf(stderr, "no user %s@%s in the store (users from the config file are set there)", name, domain)
		} else if err != nil {
			return errorf(stderr, "%v", err)
		}
		changed := false
		fs.Visit(func(f *flag.Flag) {
			switch f.Name {
			case "dnd":
				u.DND, changed = *dnd, true
			case "forward":
				u.ForwardTo, changed = *forward, true
				if u.ForwardMode == "" {
					u.ForwardMode = *forwardMode
				}
			case "forward-mode":
				u.ForwardMode, changed = *forwardMode, true
			case "max-calls":
				u.MaxCalls, changed = *maxCalls, true
			}
		})
		if !changed {
			return errorf(stderr, "user set needs at least one of --dnd, --forward, --forward-mode, --max-calls")
		}
		check := config.Default()
		check.Domains = []string{domain}
		check.Users = []config.User{{User: name, Password: "x", DND: u.DND, ForwardTo: u.ForwardTo, ForwardMode: u.ForwardMode, MaxCalls: u.MaxCalls}}
		if err := check.Validate(); err != nil {
			return errorf(stderr, "%v", strings.Replace(err.Error(), "users[0].", "", 1))
		}
		if err := st.PutUser(ctx, u); err != nil {
			return errorf(stderr, "%v", err)
		}
		fmt.Fprintf(stdout, "%s: dnd %d, forward %q (%s), max calls %d\n", u.AOR(), u.DND, u.ForwardTo, u.ForwardMode, u.MaxCalls)
		return 0
	case "add", "remove":
		if len(positional) != 1 {
			return errorf(stderr, "user %s needs exactly one USER[@DOMAIN]", sub)
		}
		name, domain, err := splitAOR(positional[0], cfg)
		if err != nil {
			return errorf(stderr, "%v", err)
		}
		if sub == "remove" {
			if err := st.DeleteUser(ctx, name, domain); errors.Is(err, store.ErrNotFound) {
				return errorf(stderr, "no user %s@%s", name, domain)
			} else if err != nil {
				return errorf(stderr, "%v", err)
			}
			fmt.Fprintf(stdout, "removed %s@%s\n", name, domain)
			return 0
		}
		if *password == "" {
			return errorf(stderr, "user add needs --password")
		}
		u := server.NewUser(cfg, name, domain, *password)
		if err := st.PutUser(ctx, u); err != nil {
			return errorf(stderr, "%v", err)
		}
		fmt.Fprintf(stdout, "added %s (realm %q)\n", u.AOR(), u.Realm)
		return 0
	case "list":
		users, err := st.ListUsers(ctx)
		if err != nil {
			return errorf(stderr, "%v", err)
		}
		cfgUsers, err := server.ConfigUsers(cfg)
		if err != nil {
			return errorf(stderr, "%v", err)
		}
		fromCfg, _ := cfgUsers.ListUsers(ctx)
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "USER\tREALM\tSOURCE\tDND\tFORWARD\tMAX CALLS")
		row := func(u store.User, source string) {
			fwd := "-"
			if u.ForwardTo != "" {
				fwd = u.ForwardTo + " (" + u.ForwardMode + ")"
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%d\n", u.AOR(), u.Realm, source, u.DND, fwd, u.MaxCalls)
		}
		for _, u := range fromCfg {
			row(u, "config")
		}
		for _, u := range users {
			row(u, "store")
		}
		tw.Flush()
		return 0
	}
	return errorf(stderr, "unknown user command %q (add, list, remove)", sub)
}

// splitAOR splits "alice@example.com"; without a domain the default domain is used. The
// domain must be one siplens serves (an alias such as the machine's address stands for
// its domain), or the user could never register.
func splitAOR(s string, cfg config.Config) (string, string, error) {
	s = strings.TrimPrefix(s, "sip:")
	name, domain, found := strings.Cut(s, "@")
	if !found {
		domain = server.DefaultDomain(cfg)
	}
	if err := config.CheckUserName(name); err != nil {
		return "", "", err
	}
	canonical, ok := server.ServedDomains(cfg).Canonical(domain)
	if !ok {
		return "", "", fmt.Errorf("siplens does not serve the domain %q (served: %s; add it to domains in the config)",
			domain, strings.Join(server.ServedDomains(cfg).Names(), ", "))
	}
	return name, canonical, nil
}
