package server

import (
	"net"
	"os"
	"strings"

	"github.com/emiago/sipgo/sip"

	"github.com/siplens/siplens/chain"
	"github.com/siplens/siplens/config"
)

// selfAddrs is how siplens recognises itself: the host it advertises, every address and
// name it answers to, and its ports.
type selfAddrs struct {
	advertise string
	hosts     map[string]bool
	ports     map[string]int // "UDP" -> port
}

func newSelfAddrs(cfg config.Config, ports map[string]int) selfAddrs {
	s := selfAddrs{hosts: map[string]bool{}, ports: ports}
	add := func(h string) {
		if h != "" {
			s.hosts[strings.ToLower(strings.Trim(h, "[]"))] = true
		}
	}
	add("localhost")
	if hn, err := os.Hostname(); err == nil {
		add(hn)
	}
	ip := net.ParseIP(cfg.Listen.Address)
	all := ip == nil || ip.IsUnspecified()
	if !all {
		add(ip.String())
	}
	for _, a := range interfaceAddrs() {
		add(a)
	}
	add(cfg.Listen.Advertise)
	s.advertise = cfg.Listen.Advertise
	if s.advertise == "" {
		if !all {
			s.advertise = ip.String()
		} else {
			s.advertise = firstRoutable(interfaceAddrs())
		}
	}
	return s
}

func interfaceAddrs() []string {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil
	}
	var out []string
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok {
			out = append(out, n.IP.String())
		}
	}
	return out
}

// firstRoutable picks the first non-loopback IPv4 address, else loopback.
func firstRoutable(addrs []string) string {
	for _, a := range addrs {
		ip := net.ParseIP(a)
		if ip != nil && ip.To4() != nil && !ip.IsLoopback() && !ip.IsLinkLocalUnicast() {
			return a
		}
	}
	return "127.0.0.1"
}

func (s selfAddrs) hasPort(port int) bool {
	if port == 0 {
		port = 5060
	}
	for _, p := range s.ports {
		if p == port {
			return true
		}
	}
	return false
}

// isOwnVia reports whether a Via sent-by is siplens.
func (s selfAddrs) isOwnVia(host string, port int) bool {
	return s.hosts[strings.ToLower(host)] && s.hasPort(port)
}

// isSelfURI reports whether a URI (a Route entry, a Request-URI) points at siplens.
func (s selfAddrs) isSelfURI(u sip.Uri, domains *chain.Domains) bool {
	host := strings.ToLower(strings.Trim(u.Host, "[]"))
	if s.hosts[host] {
		return s.hasPort(u.Port)
	}
	if _, ok := domains.Canonical(host); ok {
		return u.Port == 0 || s.hasPort(u.Port)
	}
	return false
}

// buildDomains: the configured domains, the first of which also answers to every name and
// address of the machine; with none configured, one domain "localhost" does.
func buildDomains(cfg config.Config, self selfAddrs) *chain.Domains {
	names := cfg.Domains
	if len(names) == 0 {
		names = []string{"localhost"}
	}
	first := []string{names[0]}
	for h := range self.hosts {
		first = append(first, h)
	}
	groups := [][]string{first}
	for _, n := range names[1:] {
		groups = append(groups, []string{n})
	}
	return chain.NewDomains(groups...)
}

// ServedDomains is the set of domains the config serves, as the server will see it (the
// CLI uses it to put users in the right domain).
func ServedDomains(cfg config.Config) *chain.Domains {
	return buildDomains(cfg, newSelfAddrs(cfg, nil))
}
