package ua

import (
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/emiago/sipgo/sip"
)

// ParseAOR parses an address-of-record as a user types it: "alice@example.com",
// "sip:alice@example.com" or "sips:alice@example.com". A bad value gets an error that
// names what is wrong with it.
func ParseAOR(s string) (sip.Uri, error) {
	u, err := parseSIP(s, true)
	if err != nil {
		return sip.Uri{}, err
	}
	if u.Port != 0 || len(u.UriParams) > 0 {
		// An AOR names a user, not a device: RFC 3261 10.2 (the To of a REGISTER).
		return sip.Uri{}, fmt.Errorf("%q: an address-of-record is USER@DOMAIN without a port or parameters (give the server with --server)", s)
	}
	return u, nil
}

// ParseTarget parses the callee of a call: "bob@example.com", "sip:bob@10.0.0.7:5070;transport=tcp",
// or a bare user name ("bob"), which means that user in defaultDomain.
func ParseTarget(s, defaultDomain string) (sip.Uri, error) {
	t := strings.TrimSpace(s)
	if t != "" && !strings.ContainsAny(t, "@:") && defaultDomain != "" {
		t = t + "@" + defaultDomain
	}
	return parseSIP(t, true)
}

// ParseHostTarget parses the target of an OPTIONS probe: "example.com", "10.0.0.1:5070",
// "sip:example.com" or "sip:alice@example.com:5070". The user part is optional.
func ParseHostTarget(s string) (sip.Uri, error) {
	return parseSIP(s, false)
}

// ParseHostPort checks a "HOST:PORT" or "HOST" value (an outbound proxy, a listen
// address) and returns it with the port filled in (defaultPort when missing).
func ParseHostPort(s string, defaultPort int) (string, error) {
	if s == "" {
		return "", fmt.Errorf("empty address: want HOST:PORT, e.g. 192.0.2.10:5060")
	}
	if strings.Contains(s, "://") || strings.HasPrefix(strings.ToLower(s), "sip:") {
		return "", fmt.Errorf("%q: want HOST:PORT (no scheme), e.g. 192.0.2.10:5060", s)
	}
	host, portStr, err := net.SplitHostPort(s)
	if err != nil {
		// No port (or an IPv6 literal without brackets).
		if strings.Count(s, ":") > 1 && !strings.HasPrefix(s, "[") {
			return "", fmt.Errorf("%q: write an IPv6 address in brackets, e.g. [2001:db8::1]:5060", s)
		}
		if strings.Contains(s, ":") {
			return "", fmt.Errorf("%q: %v", s, err)
		}
		host, portStr = s, strconv.Itoa(defaultPort)
	}
	if err := checkHost(host); err != nil {
		return "", fmt.Errorf("%q: %v", s, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil || port < 0 || port > 65535 {
		return "", fmt.Errorf("%q: port %q is not a number from 0 to 65535", s, portStr)
	}
	return net.JoinHostPort(strings.Trim(host, "[]"), strconv.Itoa(port)), nil
}

// parseSIP checks the parts of a SIP URI one by one, so that the error says which part
// is wrong, and then lets sipgo build the value.
func parseSIP(s string, needUser bool) (sip.Uri, error) {
	raw := strings.TrimSpace(s)
	example := "USER@DOMAIN, e.g. alice@example.com"
	if !needUser {
		example = "HOST[:PORT] or a SIP URI, e.g. example.com:5060 or sip:alice@example.com"
	}
	if raw == "" {
		return sip.Uri{}, fmt.Errorf("empty address: want %s", example)
	}
	if strings.ContainsAny(raw, " \t\r\n<>\"") {
		return sip.Uri{}, fmt.Errorf("%q contains a space, quote or angle bracket: want %s", s, example)
	}
	rest := raw
	scheme := "sip"
	// A colon before any @ starts a scheme ("sip:"), unless what follows is a port
	// ("host:5060") or a password ("alice:secret@host", refused below).
	if i := strings.Index(rest, ":"); i > 0 && !strings.Contains(rest[:i], "@") && !isAllDigits(afterColon(rest[i+1:])) &&
		(isSIPScheme(rest[:i]) || !strings.Contains(rest[i+1:], "@") || strings.HasPrefix(rest[i+1:], "//")) {
		scheme = strings.ToLower(rest[:i])
		rest = rest[i+1:]
		if scheme != "sip" && scheme != "sips" {
			return sip.Uri{}, fmt.Errorf("%q: scheme %q is not sip or sips", s, scheme)
		}
		if strings.HasPrefix(rest, "//") {
			return sip.Uri{}, fmt.Errorf("%q: a SIP URI has no // after %q", s, scheme+":")
		}
	}
	// Split off URI parameters and headers (;transport=tcp, ?Subject=x).
	hostPart := rest
	var params string
	if i := strings.IndexAny(rest, ";?"); i >= 0 {
		hostPart, params = rest[:i], rest[i:]
	}
	user, hostport, hasAt := strings.Cut(hostPart, "@")
	if !hasAt {
		user, hostport = "", hostPart
	}
	switch {
	case hasAt && user == "":
		return sip.Uri{}, fmt.Errorf("%q has no user before the @: want %s", s, example)
	case hasAt && hostport == "":
		return sip.Uri{}, fmt.Errorf("%q has no domain after the @: want %s", s, example)
	case needUser && !hasAt:
		return sip.Uri{}, fmt.Errorf("%q has no @DOMAIN: want %s", s, example)
	case strings.Contains(hostport, "@"):
		return sip.Uri{}, fmt.Errorf("%q has more than one @", s)
	}
	if hasAt {
		if u, _, hasPw := strings.Cut(user, ":"); hasPw {
			return sip.Uri{}, fmt.Errorf("%q puts a password in the URI (user %q): give it with --password instead", s, u)
		}
		if err := checkUser(user); err != nil {
			return sip.Uri{}, fmt.Errorf("%q: %v", s, err)
		}
	}
	host, port, err := splitHostPortOpt(hostport)
	if err != nil {
		return sip.Uri{}, fmt.Errorf("%q: %v", s, err)
	}
	if err := checkHost(host); err != nil {
		return sip.Uri{}, fmt.Errorf("%q: %v", s, err)
	}
	if params != "" {
		for _, p := range strings.Split(strings.TrimPrefix(strings.SplitN(params, "?", 2)[0], ";"), ";") {
			if p == "" {
				continue
			}
			k, v, _ := strings.Cut(p, "=")
			if k == "" {
				return sip.Uri{}, fmt.Errorf("%q: an empty URI parameter name in %q", s, params)
			}
			if strings.EqualFold(k, "transport") {
				switch strings.ToLower(v) {
				case "udp", "tcp", "tls", "sctp", "ws", "wss":
				default:
					return sip.Uri{}, fmt.Errorf("%q: transport=%q is not a SIP transport (udp, tcp, tls)", s, v)
				}
			}
		}
	}
	hostText := host
	if strings.Contains(host, ":") {
		hostText = "[" + host + "]"
	}
	text := scheme + ":"
	if hasAt {
		text += user + "@"
	}
	text += hostText
	if port > 0 {
		text += ":" + strconv.Itoa(port)
	}
	text += params
	var u sip.Uri
	if err := sip.ParseUri(text, &u); err != nil {
		return sip.Uri{}, fmt.Errorf("%q is not a valid SIP URI: %v", s, err)
	}
	return u, nil
}

func isSIPScheme(s string) bool { return strings.EqualFold(s, "sip") || strings.EqualFold(s, "sips") }

func afterColon(s string) string {
	// "host:5060" must not be read as scheme "host": the text after the colon is a port.
	if i := strings.IndexAny(s, ";?"); i >= 0 {
		s = s[:i]
	}
	return s
}

func isAllDigits(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// splitHostPortOpt splits "host", "host:port", "[v6]" or "[v6]:port".
func splitHostPortOpt(hp string) (string, int, error) {
	if hp == "" {
		return "", 0, fmt.Errorf("no host")
	}
	host, portStr := hp, ""
	if strings.HasPrefix(hp, "[") {
		end := strings.Index(hp, "]")
		if end < 0 {
			return "", 0, fmt.Errorf("IPv6 address %q has no closing ]", hp)
		}
		host = hp[1:end]
		rest := hp[end+1:]
		if rest != "" {
			if !strings.HasPrefix(rest, ":") {
				return "", 0, fmt.Errorf("unexpected %q after the IPv6 address", rest)
			}
			portStr = rest[1:]
		}
	} else if strings.Count(hp, ":") > 1 {
		return "", 0, fmt.Errorf("write an IPv6 address in brackets, e.g. [2001:db8::1]")
	} else if h, p, ok := strings.Cut(hp, ":"); ok {
		host, portStr = h, p
	}
	if portStr == "" && strings.HasSuffix(hp, ":") {
		return "", 0, fmt.Errorf("empty port after the colon")
	}
	port := 0
	if portStr != "" {
		n, err := strconv.Atoi(portStr)
		if err != nil || n < 1 || n > 65535 {
			return "", 0, fmt.Errorf("port %q is not a number from 1 to 65535", portStr)
		}
		port = n
	}
	return host, port, nil
}

// checkHost accepts an IP address or a host name (RFC 3261 25.1 hostname).
func checkHost(host string) error {
	h := strings.Trim(host, "[]")
	if h == "" {
		return fmt.Errorf("no host")
	}
	if net.ParseIP(h) != nil {
		return nil
	}
	if len(h) > 253 {
		return fmt.Errorf("host name is longer than 253 characters")
	}
	for _, label := range strings.Split(strings.TrimSuffix(h, "."), ".") {
		if label == "" {
			return fmt.Errorf("host %q has an empty label (two dots in a row?)", h)
		}
		for i, c := range label {
			ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-'
			if !ok {
				return fmt.Errorf("host %q contains %q, which is not allowed in a host name", h, c)
			}
			if c == '-' && (i == 0 || i == len(label)-1) {
				return fmt.Errorf("host %q has a label starting or ending with '-'", h)
			}
		}
	}
	return nil
}

// checkUser accepts the unreserved and user-unreserved characters of RFC 3261 25.1 and
// %-escapes.
func checkUser(u string) error {
	for i := 0; i < len(u); i++ {
		c := u[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("-_.!~*'()&=+$,;?/", c) >= 0:
		case c == '%':
			if i+2 >= len(u) || !isHex(u[i+1]) || !isHex(u[i+2]) {
				return fmt.Errorf("user %q has a %% that is not followed by two hex digits", u)
			}
			i += 2
		default:
			return fmt.Errorf("user %q contains %q, which must be %%-escaped in a SIP URI", u, c)
		}
	}
	return nil
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}

// uriKey is the form of a URI used to detect a redirect loop: scheme, user, host and port
// (with the default port made explicit), lower-cased host.
func uriKey(u sip.Uri) string {
	port := u.Port
	if port == 0 {
		port = 5060
		if u.Scheme == "sips" {
			port = 5061
		}
	}
	tr := ""
	if u.UriParams != nil {
		if v, ok := u.UriParams.Get("transport"); ok {
			tr = strings.ToLower(v)
		}
	}
	return fmt.Sprintf("%s:%s@%s:%d;%s", strings.ToLower(u.Scheme), u.User, strings.ToLower(u.Host), port, tr)
}
