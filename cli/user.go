package cli

import (
	"context"
	"errors"
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
	const synopsis = "user add USER[@DOMAIN] --password P | user list | user remove USER[@DOMAIN]  [--config FILE] [--data-dir DIR]"
	if len(args) == 0 {
		fmt.Fprintln(stderr, "Usage: siplens "+synopsis)
		return 2
	}
	sub, rest := args[0], args[1:]
	fs := newFlags("user "+sub, synopsis, stderr)
	cfgPath := fs.String("config", "", "config file (for the realm and default domain)")
	dir := fs.String("data-dir", "", "directory of the SQLite store (default as for serve)")
	password := fs.String("password", "", "the user's password (add); only its digest HA1 values are stored")
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
		fmt.Fprintln(tw, "USER\tREALM\tSOURCE")
		for _, u := range fromCfg {
			fmt.Fprintf(tw, "%s\t%s\tconfig\n", u.AOR(), u.Realm)
		}
		for _, u := range users {
			fmt.Fprintf(tw, "%s\t%s\tstore\n", u.AOR(), u.Realm)
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
