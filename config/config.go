// Package config is siplens' configuration file: its types, strict decoding (an unknown key
// or a bad value is an error that names the file, the line and the key), the embedded
// defaults, and Validate.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Config is the whole file. Every key is documented in docs/config.md.
type Config struct {
	Listen    Listen    `yaml:"listen"`
	Domains   []string  `yaml:"domains"`
	DataDir   string    `yaml:"data_dir"`
	Registrar Registrar `yaml:"registrar"`
	ACL       ACL       `yaml:"acl"`
	RateLimit RateLimit `yaml:"ratelimit"`
	Auth      Auth      `yaml:"auth"`
	Proxy     Proxy     `yaml:"proxy"`
	Media     Media     `yaml:"media"`
	Users     []User    `yaml:"users"`
	Routes    []Route   `yaml:"routes"`
	Log       Log       `yaml:"log"`
	Admin     Admin     `yaml:"admin"`
	Trace     Trace     `yaml:"trace"`
}

// Listen says where the SIP listeners are.
type Listen struct {
	// Address is the IP to bind; "0.0.0.0" for all IPv4 addresses.
	Address string `yaml:"address"`
	// UDP and TCP are the ports; 0 switches that transport off.
	UDP int `yaml:"udp"`
	TCP int `yaml:"tcp"`
	// Advertise is the host put in Via and Record-Route; default: the bound address, or
	// the first non-loopback address when bound to all.
	Advertise string `yaml:"advertise"`
}

// Registrar tunes REGISTER handling (RFC 3261 10.3).
type Registrar struct {
	MinExpires     int `yaml:"min_expires"`
	MaxExpires     int `yaml:"max_expires"`
	DefaultExpires int `yaml:"default_expires"`
	// MaxContacts is the most bindings one address-of-record may hold.
	MaxContacts int `yaml:"max_contacts"`
}

// ACL says which sources may send requests (steps/acl).
type ACL struct {
	// Allow, when not empty, lets only these sources in; Deny refuses sources with 403.
	Allow []string `yaml:"allow"`
	Deny  []string `yaml:"deny"`
	// Drop lists sources whose requests are dropped without an answer (scanners).
	Drop []string `yaml:"drop"`
	// DropUserAgents are User-Agent substrings dropped without an answer.
	DropUserAgents []string `yaml:"drop_user_agents"`
	// Domains narrows allow/deny for requests into one served domain.
	Domains map[string]ACLRules `yaml:"domains"`
}

// ACLRules is an allow/deny pair for one domain.
type ACLRules struct {
	Allow []string `yaml:"allow"`
	Deny  []string `yaml:"deny"`
}

// RateLimit bounds request rates and the requests in progress (steps/ratelimit).
type RateLimit struct {
	// PerSource is requests per second per source address (0: no limit), with a burst.
	PerSource      float64 `yaml:"per_source"`
	PerSourceBurst int     `yaml:"per_source_burst"`
	// Total is requests per second for the whole server (0: no limit), with a burst.
	Total      float64 `yaml:"total"`
	TotalBurst int     `yaml:"total_burst"`
	// MaxInProgress bounds the requests being handled at once (0: no bound).
	MaxInProgress int `yaml:"max_in_progress"`
	// RetryAfter is the Retry-After, in seconds, of the 503s.
	RetryAfter int `yaml:"retry_after"`
	// Exempt sources are never limited.
	Exempt []string `yaml:"exempt"`
}

// Auth tunes digest authentication.
type Auth struct {
	// Realm is the digest realm; default: the first served domain.
	Realm string `yaml:"realm"`
	// Algorithms offered, in order of preference (RFC 8760 2.3). The default is MD5 alone:
	// older phones (Debian's baresip 1.0 among them) fail outright on a challenge whose
	// algorithm they do not know, and SIPp and sipsak only do MD5. Add SHA-256 (first)
	// when every phone supports RFC 8760.
	Algorithms []string `yaml:"algorithms"`
	// NonceLifetime is how long a nonce is accepted before it is re-challenged as stale.
	NonceLifetime Duration `yaml:"nonce_lifetime"`
	// Register requires authentication for REGISTER (default true).
	Register *bool `yaml:"register"`
	// Calls requires proxy authentication (407) for out-of-dialog requests that claim to
	// come from a user of a served domain (default true).
	Calls *bool `yaml:"calls"`
	// Lockout locks a source or a user out after repeated failed authentications.
	Lockout Lockout `yaml:"lockout"`
	// Trusted source prefixes are exempt from authentication (load generators, gateways).
	Trusted []string `yaml:"trusted"`
}

// Lockout: max_failures failed authentications within window lock the source address, or
// the user, out for cooldown. max_failures 0 switches it off.
type Lockout struct {
	MaxFailures int      `yaml:"max_failures"`
	Window      Duration `yaml:"window"`
	Cooldown    Duration `yaml:"cooldown"`
}

// Media is the SDP policy checked before an INVITE is forwarded (steps/media).
type Media struct {
	// Codecs allowed (encoding names as in rtpmap: PCMU, PCMA, G722, opus, ...); empty
	// allows any codec.
	Codecs []string `yaml:"codecs"`
	// Global answers 606 instead of 488 when no offered codec is allowed.
	Global bool `yaml:"global"`
}

// Proxy tunes forwarding.
type Proxy struct {
	// RecordRoute keeps siplens on the path of in-dialog requests (default true).
	RecordRoute *bool `yaml:"record_route"`
	// Forking is "parallel" (every contact rings at once) or "sequential" (contacts ring
	// in groups of equal q, highest first, each group for up to no_answer_timeout).
	Forking string `yaml:"forking"`
	// NoAnswerTimeout is Timer C: how long a branch may ring without a final answer.
	NoAnswerTimeout Duration `yaml:"no_answer_timeout"`
	// MaxMessageSize bounds a request's size; larger ones get 513.
	MaxMessageSize int `yaml:"max_message_size"`
	// StoreTimeout bounds each user or location lookup; past it the caller gets 504.
	StoreTimeout Duration `yaml:"store_timeout"`
}

// User is a local user declared in the file. Give either a password (hashed at load time,
// never stored) or the HA1 values.
type User struct {
	User      string `yaml:"user"`
	Domain    string `yaml:"domain"`
	Password  string `yaml:"password"`
	HA1MD5    string `yaml:"ha1_md5"`
	HA1SHA256 string `yaml:"ha1_sha256"`
	// DND: 0 (off), or the code a call gets while do-not-disturb is on: 480, 486 or 603.
	DND int `yaml:"dnd"`
	// ForwardTo forwards every call to this SIP URI; ForwardMode is redirect (302) or proxy.
	ForwardTo   string `yaml:"forward_to"`
	ForwardMode string `yaml:"forward_mode"`
	// MaxCalls bounds the user's simultaneous calls (0: no limit); one more gets 486.
	MaxCalls int `yaml:"max_calls"`
}

// Route is a static route: requests for numbers with a prefix, or for a foreign domain,
// go to a gateway. Only authenticated local users may use it.
type Route struct {
	Prefix  string `yaml:"prefix"`
	Domain  string `yaml:"domain"`
	Gateway string `yaml:"gateway"`
}

// Log says how to log.
type Log struct {
	Level  string `yaml:"level"`
	Format string `yaml:"format"`
}

// Admin is the admin HTTP API (package admin), the control plane that `siplens calls`,
// `siplens show` and the web page read.
type Admin struct {
	// Listen is the "ip:port" of the API; "" switches it off. An address other than a
	// loopback one needs Token.
	Listen string `yaml:"listen"`
	// Token, when set, is required as "Authorization: Bearer TOKEN" on every /api
	// request.
	Token string `yaml:"token"`
}

// MinTokenLength is the shortest admin.token accepted.
const MinTokenLength = 16

// Trace is the call recorder (package trace): every SIP message and decision of a call,
// kept for the admin API, with a retention bound.
type Trace struct {
	// Enabled records calls (default true).
	Enabled *bool `yaml:"enabled"`
	// MaxCalls keeps at most this many calls, the calls recorded first go first; 0 is
	// no bound of that kind.
	MaxCalls int `yaml:"max_calls"`
	// MaxAge removes calls whose last message is older than this; 0 is no bound of that
	// kind.
	MaxAge Duration `yaml:"max_age"`
}

// Duration is a time.Duration written as "30s" or "5m" in the file.
type Duration struct{ time.Duration }

// UnmarshalYAML reports a bad value as a *yaml.TypeError, so the decoder goes on and Parse
// can name the key (cleanYAMLError adds the path from the line).
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind != yaml.ScalarNode {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: expected a duration such as 30s, got %s", n.Line, kindName(n.Kind))}}
	}
	v, err := time.ParseDuration(n.Value)
	if err != nil {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: %q is not a duration (use 30s, 5m, 1h)", n.Line, n.Value)}}
	}
	d.Duration = v
	return nil
}

func kindName(k yaml.Kind) string {
	switch k {
	case yaml.SequenceNode:
		return "a list"
	case yaml.MappingNode:
		return "a mapping"
	}
	return "a single value"
}

func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

// on returns a new pointer to true. Every optional boolean gets its own: decoding
// "enabled: false" into one shared pointer would switch every other option off with it.
func on() *bool {
	v := true
	return &v
}

// Default returns the embedded defaults: what `siplens serve` runs with and no file.
func Default() Config {
	return Config{
		Listen:    Listen{Address: "0.0.0.0", UDP: 5060, TCP: 5060},
		Registrar: Registrar{MinExpires: 60, MaxExpires: 7200, DefaultExpires: 3600, MaxContacts: 10},
		Auth: Auth{
			Algorithms:    []string{"MD5"},
			NonceLifetime: Duration{5 * time.Minute},
			Register:      on(),
			Calls:         on(),
			Lockout:       Lockout{MaxFailures: 10, Window: Duration{time.Minute}, Cooldown: Duration{5 * time.Minute}},
		},
		RateLimit: RateLimit{MaxInProgress: 20000, RetryAfter: 5},
		Proxy: Proxy{
			RecordRoute:     on(),
			Forking:         "parallel",
			NoAnswerTimeout: Duration{180 * time.Second},
			MaxMessageSize:  16384,
			StoreTimeout:    Duration{2 * time.Second},
		},
		Log:   Log{Level: "info", Format: "text"},
		Admin: Admin{Listen: "127.0.0.1:5065"},
		Trace: Trace{Enabled: on(), MaxCalls: 10000, MaxAge: Duration{24 * time.Hour}},
	}
}

// Load reads a file over the defaults. Keys the file does not mention keep their default.
func Load(path string) (Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Config{}, fmt.Errorf("read config: %w", err)
	}
	return Parse(path, data)
}

// Parse decodes data (named path in errors) over the defaults and validates it.
func Parse(path string, data []byte) (Config, error) {
	cfg := Default()
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return Config{}, fmt.Errorf("%s: %w", path, cleanYAMLError(err, nil))
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	// io.EOF: an empty file means "all defaults".
	if err := dec.Decode(&cfg); err != nil && !errors.Is(err, io.EOF) {
		return Config{}, fmt.Errorf("%s: %w", path, cleanYAMLError(err, &root))
	}
	// A second document would be ignored without a word; refuse it instead.
	var extra yaml.Node
	if err := dec.Decode(&extra); err == nil && len(extra.Content) > 0 && extra.Content[0].Tag != "!!null" {
		return Config{}, fmt.Errorf("%s: line %d: a second YAML document (after ---) is not supported; put every key in one document", path, extra.Content[0].Line)
	}
	cfg.normalize()
	if err := cfg.Validate(); err != nil {
		var fe *FieldError
		if errors.As(err, &fe) {
			fe.Line = lineOf(&root, fe.Path)
			return Config{}, fmt.Errorf("%s: %w", path, fe)
		}
		return Config{}, fmt.Errorf("%s: %w", path, err)
	}
	return cfg, nil
}

// normalize lower-cases domain names (host names are case-insensitive, and users, bindings
// and realms are keyed by the lower-case canonical domain) and puts the default back into
// a boolean given with no value ("register:").
func (c *Config) normalize() {
	if c.Auth.Register == nil {
		c.Auth.Register = on()
	}
	if c.Auth.Calls == nil {
		c.Auth.Calls = on()
	}
	if c.Proxy.RecordRoute == nil {
		c.Proxy.RecordRoute = on()
	}
	if c.Trace.Enabled == nil {
		c.Trace.Enabled = on()
	}
	for i, d := range c.Domains {
		c.Domains[i] = strings.ToLower(d)
	}
	for i := range c.Users {
		c.Users[i].Domain = strings.ToLower(c.Users[i].Domain)
	}
}

var (
	unknownKeyRe = regexp.MustCompile(`^(line \d+): field (.+) not found in type (\S+)$`)
	typeErrRe    = regexp.MustCompile("^line (\\d+): cannot unmarshal !!(\\w+)(?: `(.*)`)? into (.+)$")
	lineMsgRe    = regexp.MustCompile(`^line (\d+): (.*)$`)
	// durationErrRe matches the two messages of Duration.UnmarshalYAML.
	durationErrRe = regexp.MustCompile(`^(?:(".*") is not a duration|expected a duration such as 30s, got (.*))`)
)

// cleanYAMLError turns yaml.v3's messages into ones that name the key:
//
//	line 3: field udpp not found in type config.Listen
//	  -> line 3: unknown key "udpp" (listen has: address, udp, tcp, advertise)
//	line 2: cannot unmarshal !!str `abc` into int
//	  -> line 2: listen.udp: "abc" is not a whole number
//
// root, when not nil, is the parsed file, used to find the key on a line.
func cleanYAMLError(err error, root *yaml.Node) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	msg = strings.TrimPrefix(msg, "unmarshal errors:\n")
	var entries []nodeEntry
	if root != nil {
		entries = walkNodes(root)
	}
	var lines []string
	for _, l := range strings.Split(msg, "\n") {
		l = strings.TrimSpace(l)
		if l == "" {
			continue
		}
		switch m := unknownKeyRe.FindStringSubmatch(l); {
		case m != nil:
			l = fmt.Sprintf("%s: unknown key %q", m[1], m[2])
			if where, keys := knownKeys(m[3]); keys != nil {
				l += fmt.Sprintf(" (%s has: %s)", where, strings.Join(keys, ", "))
			}
		case typeErrRe.MatchString(l):
			m := typeErrRe.FindStringSubmatch(l)
			line, _ := strconv.Atoi(m[1])
			key, value := "", m[3]
			if e := keyAt(entries, line, tagKind(m[2]), strings.TrimSuffix(m[3], "...")); e != nil {
				key, value = e.path, e.val.Value // the whole value, not yaml's first 7 characters
			}
			l = fmt.Sprintf("line %d: %s%s", line, keyPrefix(key), describeTypeError(m[2], value, m[4]))
		case lineMsgRe.MatchString(l):
			m := lineMsgRe.FindStringSubmatch(l)
			line, _ := strconv.Atoi(m[1])
			// Duration's own messages: add the key.
			if d := durationErrRe.FindStringSubmatch(m[2]); d != nil {
				kind, value := yaml.ScalarNode, ""
				switch {
				case d[2] == "a list":
					kind = yaml.SequenceNode
				case d[2] == "a mapping":
					kind = yaml.MappingNode
				default:
					value, _ = strconv.Unquote(d[1])
				}
				key := ""
				if e := keyAt(entries, line, kind, value); e != nil {
					key = e.path
				}
				l = fmt.Sprintf("line %d: %s%s", line, keyPrefix(key), m[2])
			}
		}
		lines = append(lines, l)
	}
	return errors.New(strings.Join(lines, "; "))
}

func keyPrefix(key string) string {
	if key == "" {
		return ""
	}
	return key + ": "
}

// describeTypeError words "cannot unmarshal !!tag `value` into type" for a person.
func describeTypeError(tag, value, into string) string {
	var want string
	scalar := true
	switch {
	case into == "int":
		want = "a whole number"
	case into == "bool":
		want = "true or false"
	case into == "string":
		want = "a single value"
	case strings.HasPrefix(into, "[]"):
		want, scalar = "a list", false
	case into == "config.Config":
		return fmt.Sprintf("the file must be a mapping of keys (listen:, domains:, ...), not %s", tagName(tag))
	case strings.HasPrefix(into, "config."):
		want, scalar = "a mapping of keys", false
	default:
		want = into
	}
	if !scalar || tag == "seq" || tag == "map" || tag == "null" {
		return fmt.Sprintf("expected %s, got %s", want, tagName(tag))
	}
	return fmt.Sprintf("%q is not %s", value, want)
}

func tagKind(tag string) yaml.Kind {
	switch tag {
	case "seq":
		return yaml.SequenceNode
	case "map":
		return yaml.MappingNode
	}
	return yaml.ScalarNode
}

func tagName(tag string) string {
	switch tag {
	case "seq":
		return "a list"
	case "map":
		return "a mapping"
	case "null":
		return "nothing"
	}
	return "a single value"
}

// nodeEntry is one value of the file and its key path ("users[1].password").
type nodeEntry struct {
	path    string
	keyLine int // line of the key; 0 for a list item
	val     *yaml.Node
}

func walkNodes(root *yaml.Node) []nodeEntry {
	var out []nodeEntry
	var walk func(n *yaml.Node, path string)
	walk = func(n *yaml.Node, path string) {
		switch n.Kind {
		case yaml.DocumentNode:
			for _, c := range n.Content {
				walk(c, path)
			}
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				p := n.Content[i].Value
				if path != "" {
					p = path + "." + p
				}
				out = append(out, nodeEntry{p, n.Content[i].Line, n.Content[i+1]})
				walk(n.Content[i+1], p)
			}
		case yaml.SequenceNode:
			for i, c := range n.Content {
				p := fmt.Sprintf("%s[%d]", path, i)
				out = append(out, nodeEntry{p, 0, c})
				walk(c, p)
			}
		}
	}
	walk(root, "")
	return out
}

// keyAt finds the key whose value of that kind is on line (and, for a scalar, starts with
// value); nil if none. A key on the same line as its value is preferred: a nested mapping
// starts on the line of its first key, so "auth:" itself is not what a line-2 error means.
func keyAt(entries []nodeEntry, line int, kind yaml.Kind, value string) *nodeEntry {
	var found *nodeEntry
	foundSameLine := false
	for i := range entries {
		e := &entries[i]
		if e.val.Line != line || e.val.Kind != kind {
			continue
		}
		if kind == yaml.ScalarNode && !strings.HasPrefix(e.val.Value, value) {
			continue
		}
		sameLine := e.keyLine == line || e.keyLine == 0
		if found == nil || sameLine && !foundSameLine {
			found, foundSameLine = e, sameLine
		}
	}
	return found
}

// knownKeys lists the keys of the config type named typeName ("config.Listen") and where
// they live ("listen", "the top level", "each entry of users").
func knownKeys(typeName string) (string, []string) {
	var where string
	var keys []string
	var visit func(t reflect.Type, path string, elem bool)
	visit = func(t reflect.Type, path string, elem bool) {
		if t.String() == typeName && keys == nil {
			switch {
			case path == "":
				where = "the top level"
			case elem:
				where = "each entry of " + path
			default:
				where = path
			}
			for i := 0; i < t.NumField(); i++ {
				keys = append(keys, yamlName(t.Field(i)))
			}
		}
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			p := yamlName(f)
			if path != "" {
				p = path + "." + p
			}
			ft := f.Type
			switch {
			case ft.Kind() == reflect.Struct && ft != reflect.TypeOf(Duration{}):
				visit(ft, p, false)
			case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct:
				visit(ft.Elem(), p, true)
			}
		}
	}
	visit(reflect.TypeOf(Config{}), "", false)
	return where, keys
}

func yamlName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	if name == "" {
		name = strings.ToLower(f.Name)
	}
	return name
}

// FieldError is a bad value, with the key's path ("registrar.min_expires") and, once the
// file has been consulted, its line.
type FieldError struct {
	Path string
	Line int
	Msg  string
}

func (e *FieldError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("line %d: %s: %s", e.Line, e.Path, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.Path, e.Msg)
}

func bad(path, format string, args ...any) error {
	return &FieldError{Path: path, Msg: fmt.Sprintf(format, args...)}
}

// Validate checks values; the first problem is returned as a *FieldError.
func (c *Config) Validate() error {
	if c.Listen.Address != "" {
		if _, err := netip.ParseAddr(c.Listen.Address); err != nil {
			return bad("listen.address", "%q is not an IP address", c.Listen.Address)
		}
	}
	for _, p := range []struct {
		path string
		v    int
	}{{"listen.udp", c.Listen.UDP}, {"listen.tcp", c.Listen.TCP}} {
		if p.v < 0 || p.v > 65535 {
			return bad(p.path, "port %d is out of range 0-65535", p.v)
		}
	}
	if c.Listen.UDP == 0 && c.Listen.TCP == 0 {
		return bad("listen", "both udp and tcp are off: nothing to listen on")
	}
	if err := checkToken(c.Listen.Advertise); err != nil && c.Listen.Advertise != "" {
		return bad("listen.advertise", "%v", err)
	}
	served := map[string]bool{}
	for i, d := range c.Domains {
		path := fmt.Sprintf("domains[%d]", i)
		if err := checkDomain(d); err != nil {
			return bad(path, "%v", err)
		}
		if served[strings.ToLower(d)] || served[strings.Trim(d, "[]")] {
			return bad(path, "%q is listed twice", d)
		}
		served[strings.ToLower(d)] = true
		served[strings.Trim(strings.ToLower(d), "[]")] = true
	}
	defaultDomain := "localhost"
	if len(c.Domains) > 0 {
		defaultDomain = strings.ToLower(c.Domains[0])
	} else {
		served[defaultDomain] = true
	}
	r := c.Registrar
	if r.MinExpires < 1 {
		return bad("registrar.min_expires", "must be at least 1 second, got %d", r.MinExpires)
	}
	if r.MaxExpires < r.MinExpires {
		return bad("registrar.max_expires", "%d is below min_expires %d", r.MaxExpires, r.MinExpires)
	}
	if r.DefaultExpires < r.MinExpires || r.DefaultExpires > r.MaxExpires {
		return bad("registrar.default_expires", "%d is outside min_expires..max_expires (%d..%d)", r.DefaultExpires, r.MinExpires, r.MaxExpires)
	}
	if r.MaxContacts < 1 {
		return bad("registrar.max_contacts", "must be at least 1, got %d", r.MaxContacts)
	}
	if c.Auth.Realm != "" {
		if err := checkToken(c.Auth.Realm); err != nil {
			return bad("auth.realm", "%v", err)
		}
	}
	if len(c.Auth.Algorithms) == 0 {
		return bad("auth.algorithms", "give at least one of SHA-256, MD5")
	}
	offered := map[string]bool{}
	for i, a := range c.Auth.Algorithms {
		if a != "SHA-256" && a != "MD5" {
			return bad(fmt.Sprintf("auth.algorithms[%d]", i), "%q is not supported (SHA-256 or MD5)", a)
		}
		if offered[a] {
			return bad(fmt.Sprintf("auth.algorithms[%d]", i), "%q is listed twice", a)
		}
		offered[a] = true
	}
	if c.Auth.NonceLifetime.Duration < 5*time.Second {
		return bad("auth.nonce_lifetime", "%s is too short (at least 5s)", c.Auth.NonceLifetime)
	}
	if lo := c.Auth.Lockout; lo.MaxFailures < 0 {
		return bad("auth.lockout.max_failures", "must be 0 (off) or more, got %d", lo.MaxFailures)
	} else if lo.MaxFailures > 0 && (lo.Window.Duration < time.Second || lo.Cooldown.Duration < time.Second) {
		return bad("auth.lockout", "window and cooldown must be at least 1s when max_failures is set")
	}
	prefixLists := []struct {
		path  string
		items []string
	}{{"acl.allow", c.ACL.Allow}, {"acl.deny", c.ACL.Deny}, {"acl.drop", c.ACL.Drop}, {"ratelimit.exempt", c.RateLimit.Exempt}}
	for d, rules := range c.ACL.Domains {
		prefixLists = append(prefixLists, struct {
			path  string
			items []string
		}{"acl.domains", append(append([]string(nil), rules.Allow...), rules.Deny...)})
		if !served[strings.ToLower(d)] {
			return bad("acl.domains", "%q is not one of the served domains (domains: %s)", d, strings.Join(servedList(c.Domains), ", "))
		}
	}
	for _, l := range prefixLists {
		for i, item := range l.items {
			if _, err := ParsePrefix(item); err != nil {
				return bad(fmt.Sprintf("%s[%d]", l.path, i), "%v", err)
			}
		}
	}
	for i, ua := range c.ACL.DropUserAgents {
		if strings.TrimSpace(ua) == "" {
			return bad(fmt.Sprintf("acl.drop_user_agents[%d]", i), "an empty pattern would drop everyone")
		}
	}
	rl := c.RateLimit
	switch {
	case rl.PerSource < 0:
		return bad("ratelimit.per_source", "must be 0 (off) or a positive rate, got %g", rl.PerSource)
	case rl.PerSource > 0 && rl.PerSourceBurst < 1:
		return bad("ratelimit.per_source_burst", "must be at least 1 when per_source is set")
	case rl.Total < 0:
		return bad("ratelimit.total", "must be 0 (off) or a positive rate, got %g", rl.Total)
	case rl.Total > 0 && rl.TotalBurst < 1:
		return bad("ratelimit.total_burst", "must be at least 1 when total is set")
	case rl.MaxInProgress < 0:
		return bad("ratelimit.max_in_progress", "must be 0 (off) or more, got %d", rl.MaxInProgress)
	case rl.RetryAfter < 1 || rl.RetryAfter > 3600:
		return bad("ratelimit.retry_after", "%d is outside 1..3600 seconds", rl.RetryAfter)
	}
	for i, t := range c.Auth.Trusted {
		if _, err := ParsePrefix(t); err != nil {
			return bad(fmt.Sprintf("auth.trusted[%d]", i), "%v", err)
		}
	}
	if c.Proxy.NoAnswerTimeout.Duration < time.Second {
		return bad("proxy.no_answer_timeout", "%s is below the minimum of 1s", c.Proxy.NoAnswerTimeout)
	}
	if c.Proxy.MaxMessageSize < 1024 || c.Proxy.MaxMessageSize > 65535 {
		return bad("proxy.max_message_size", "%d is outside 1024..65535", c.Proxy.MaxMessageSize)
	}
	seen := map[string]bool{}
	for i, u := range c.Users {
		path := fmt.Sprintf("users[%d]", i)
		if err := CheckUserName(u.User); err != nil {
			return bad(path+".user", "%v", err)
		}
		domain := strings.ToLower(u.Domain)
		if u.Domain != "" {
			if err := checkDomain(u.Domain); err != nil {
				return bad(path+".domain", "%v", err)
			}
			if !served[domain] {
				return bad(path+".domain", "%q is not a served domain (domains: %s); nobody could register as %s@%s",
					u.Domain, strings.Join(servedList(c.Domains), ", "), u.User, u.Domain)
			}
		} else {
			domain = defaultDomain
		}
		if u.Password == "" && u.HA1MD5 == "" && u.HA1SHA256 == "" {
			return bad(path, "user %q needs a password or ha1_md5/ha1_sha256", u.User)
		}
		if u.Password != "" && (u.HA1MD5 != "" || u.HA1SHA256 != "") {
			return bad(path+".password", "user %q has both a password and ha1 values; give one or the other", u.User)
		}
		switch u.DND {
		case 0, 480, 486, 603:
		default:
			return bad(path+".dnd", "%d is not 0 (off), 480, 486 or 603", u.DND)
		}
		if u.ForwardTo != "" {
			if err := checkSIPURI(u.ForwardTo); err != nil {
				return bad(path+".forward_to", "%v", err)
			}
		}
		switch u.ForwardMode {
		case "", "redirect", "proxy":
		default:
			return bad(path+".forward_mode", "%q is not redirect or proxy", u.ForwardMode)
		}
		if u.MaxCalls < 0 {
			return bad(path+".max_calls", "must be 0 (no limit) or more, got %d", u.MaxCalls)
		}
		if u.HA1MD5 != "" && !isHex(u.HA1MD5, 32) {
			return bad(path+".ha1_md5", "must be 32 hex digits")
		}
		if u.HA1SHA256 != "" && !isHex(u.HA1SHA256, 64) {
			return bad(path+".ha1_sha256", "must be 64 hex digits")
		}
		if u.Password == "" && !(u.HA1MD5 != "" && offered["MD5"] || u.HA1SHA256 != "" && offered["SHA-256"]) {
			return bad(path, "user %q has no ha1 value for the offered algorithms %s, so could never authenticate",
				u.User, strings.Join(c.Auth.Algorithms, ", "))
		}
		key := u.User + "@" + domain
		if seen[key] {
			return bad(path+".user", "user %s is declared twice", key)
		}
		seen[key] = true
	}
	for i, codec := range c.Media.Codecs {
		if codec == "" || strings.ContainsAny(codec, " \t\r\n/\"") {
			return bad(fmt.Sprintf("media.codecs[%d]", i), "%q is not a codec name such as PCMU or opus", codec)
		}
	}
	if c.Media.Global && len(c.Media.Codecs) == 0 {
		return bad("media.global", "needs media.codecs: with no codec list nothing is refused")
	}
	if c.Proxy.Forking != "parallel" && c.Proxy.Forking != "sequential" {
		return bad("proxy.forking", "%q is not parallel or sequential", c.Proxy.Forking)
	}
	if c.Proxy.StoreTimeout.Duration < 10*time.Millisecond {
		return bad("proxy.store_timeout", "%s is too short (at least 10ms)", c.Proxy.StoreTimeout)
	}
	for i, r := range c.Routes {
		path := fmt.Sprintf("routes[%d]", i)
		if (r.Prefix == "") == (r.Domain == "") {
			return bad(path, "give exactly one of prefix or domain")
		}
		if r.Domain != "" && served[strings.ToLower(r.Domain)] {
			return bad(path+".domain", "%q is served here; a route is for other domains", r.Domain)
		}
		if strings.ContainsAny(r.Prefix, " \t\r\n@:;<>\"") {
			return bad(path+".prefix", "%q is not a number prefix", r.Prefix)
		}
		if err := checkSIPURI(r.Gateway); err != nil {
			return bad(path+".gateway", "%v", err)
		}
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		return bad("log.level", "%q is not one of debug, info, warn, error", c.Log.Level)
	}
	switch c.Log.Format {
	case "text", "json":
	default:
		return bad("log.format", "%q is not one of text, json", c.Log.Format)
	}
	if err := c.Admin.validate(); err != nil {
		return err
	}
	return c.Trace.validate()
}

func (a Admin) validate() error {
	if a.Token != "" {
		if n := len(a.Token); n < MinTokenLength {
			return bad("admin.token", "%d characters is too short; use at least %d, such as the output of `openssl rand -hex 16`", n, MinTokenLength)
		}
		if strings.IndexFunc(a.Token, func(r rune) bool { return r <= ' ' || r > '~' }) >= 0 {
			return bad("admin.token", "use printable ASCII without spaces (it travels in an HTTP header)")
		}
	}
	if a.Listen == "" {
		return nil
	}
	host, port, err := net.SplitHostPort(a.Listen)
	if err != nil {
		return bad("admin.listen", "%q is not IP:PORT, such as 127.0.0.1:5065 (\"\" switches the admin API off)", a.Listen)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return bad("admin.listen", "%q: port %q is not a number from 0 to 65535", a.Listen, port)
	}
	if host != "" && !strings.EqualFold(host, "localhost") {
		if _, err := netip.ParseAddr(host); err != nil {
			return bad("admin.listen", "%q: %q is not an IP address (give one, such as 127.0.0.1, or localhost)", a.Listen, host)
		}
	}
	if a.Token == "" && !a.Loopback() {
		return bad("admin.token", "required because admin.listen %q is not a loopback address: without it anyone who reaches the port reads every call; set a token or listen on 127.0.0.1", a.Listen)
	}
	return nil
}

// Loopback reports whether the admin API listens on a loopback address only (127.0.0.0/8,
// ::1 or localhost), where it may run without a token.
func (a Admin) Loopback() bool {
	host, _, err := net.SplitHostPort(a.Listen)
	if err != nil {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	addr, err := netip.ParseAddr(host)
	return err == nil && addr.Unmap().IsLoopback()
}

func (t Trace) validate() error {
	switch {
	case t.MaxCalls < 0:
		return bad("trace.max_calls", "must be 0 (no bound) or more, got %d", t.MaxCalls)
	case t.MaxAge.Duration < 0:
		return bad("trace.max_age", "must be 0 (no bound) or more, got %s", t.MaxAge)
	case t.MaxAge.Duration > 0 && t.MaxAge.Duration < time.Minute:
		return bad("trace.max_age", "%s is too short (at least 1m: old calls are removed once a minute)", t.MaxAge)
	case t.MaxCalls == 0 && t.MaxAge.Duration == 0:
		return bad("trace", "max_calls and max_age are both 0, so the record would grow without bound; set at least one")
	}
	return nil
}

// RecordRouteOn reports the effective record_route setting.
func (p Proxy) RecordRouteOn() bool { return p.RecordRoute == nil || *p.RecordRoute }

// RegisterAuthOn reports whether REGISTER needs authentication.
func (a Auth) RegisterAuthOn() bool { return a.Register == nil || *a.Register }

// RecordingOn reports whether calls are recorded.
func (t Trace) RecordingOn() bool { return t.Enabled == nil || *t.Enabled }

// CallsAuthOn reports whether out-of-dialog requests from local users need authentication.
func (a Auth) CallsAuthOn() bool { return a.Calls == nil || *a.Calls }

// ParsePrefix accepts "10.0.0.0/8", "::1/128" or a single address.
func ParsePrefix(s string) (netip.Prefix, error) {
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("%q is not an address prefix", s)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%q is not an address or prefix", s)
	}
	return netip.PrefixFrom(a, a.BitLen()), nil
}

// CheckUserName refuses names that cannot be a SIP user part or would inject headers.
func CheckUserName(u string) error {
	if u == "" {
		return errors.New("empty user name")
	}
	if len(u) > 64 {
		return fmt.Errorf("user name %q is longer than 64 characters", u)
	}
	for _, r := range u {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_.!~*'()+&=$,;?/", r)) {
			return fmt.Errorf("user name %q contains %q, which is not allowed", u, r)
		}
	}
	return nil
}

// checkDomain accepts a host name or an IP address (IPv6 with or without brackets), and no
// port or scheme.
func checkDomain(d string) error {
	if d == "" {
		return errors.New("empty domain")
	}
	if err := checkToken(d); err != nil {
		return fmt.Errorf("%q is not a domain name or address", d)
	}
	if strings.Contains(d, ":") {
		if _, err := netip.ParseAddr(strings.Trim(d, "[]")); err != nil {
			return fmt.Errorf("%q is not a domain name or address (no port or sip: here; ports are listen.udp and listen.tcp)", d)
		}
	}
	return nil
}

func servedList(domains []string) []string {
	if len(domains) == 0 {
		return []string{"none, so only localhost"}
	}
	return domains
}

// checkSIPURI accepts "sip:" or "sips:" URIs with a host and nothing that could break a
// header they are copied into.
func checkSIPURI(s string) error {
	lower := strings.ToLower(s)
	if !strings.HasPrefix(lower, "sip:") && !strings.HasPrefix(lower, "sips:") {
		return fmt.Errorf("%q is not a sip: or sips: URI", s)
	}
	if strings.ContainsAny(s, " \t\r\n<>\"") {
		return fmt.Errorf("%q contains a space, quote or bracket", s)
	}
	rest := s[strings.Index(s, ":")+1:]
	if at := strings.LastIndex(rest, "@"); at >= 0 {
		rest = rest[at+1:]
	}
	if rest == "" || rest[0] == ';' || rest[0] == ':' {
		return fmt.Errorf("%q has no host", s)
	}
	return nil
}

// checkToken refuses values that would corrupt a header when copied into one.
func checkToken(s string) error {
	if strings.ContainsAny(s, " \t\r\n\"<>,;@") {
		return fmt.Errorf("%q contains a space, quote, bracket or separator", s)
	}
	return nil
}

func isHex(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for _, r := range s {
		if !(r >= '0' && r <= '9' || r >= 'a' && r <= 'f' || r >= 'A' && r <= 'F') {
			return false
		}
	}
	return true
}

// lineOf finds the line of a dotted path ("users[1].user") in the YAML tree; 0 if absent.
func lineOf(root *yaml.Node, path string) int {
	n := root
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	line := 0
	for _, part := range strings.Split(path, ".") {
		name, idx := part, -1
		if i := strings.Index(part, "["); i >= 0 {
			name = part[:i]
			fmt.Sscanf(part[i:], "[%d]", &idx)
		}
		if n == nil || n.Kind != yaml.MappingNode {
			return line
		}
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == name {
				line = n.Content[i].Line
				next = n.Content[i+1]
				break
			}
		}
		if next == nil {
			return line
		}
		n = next
		if idx >= 0 {
			if n.Kind != yaml.SequenceNode || idx >= len(n.Content) {
				return line
			}
			n = n.Content[idx]
			line = n.Line
		}
	}
	return line
}
