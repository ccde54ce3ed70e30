package config

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/siplens/siplens/digest"
)

const (
	examplePath = "../siplens.example.yaml"
	docPath     = "../docs/config.md"
)

// sameConfig compares two configs through their YAML form, so that a nil list and an
// empty one (the file says `trusted: []`) are equal, as they are to siplens.
func sameConfig(t *testing.T, got, want Config) {
	t.Helper()
	g, err := yaml.Marshal(got)
	if err != nil {
		t.Fatal(err)
	}
	w, err := yaml.Marshal(want)
	if err != nil {
		t.Fatal(err)
	}
	if string(g) != string(w) {
		t.Errorf("config differs\n--- got\n%s\n--- want\n%s", g, w)
	}
}

// keyPaths lists every key of the Config struct tree, read from the yaml tags:
// "listen", "listen.address", ..., "users", "users[].user", ...
func keyPaths() []string {
	var out []string
	var walk func(t reflect.Type, prefix string)
	walk = func(t reflect.Type, prefix string) {
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if name == "" || name == "-" {
				panic(fmt.Sprintf("field %s.%s has no yaml tag", t.Name(), f.Name))
			}
			path := prefix + name
			out = append(out, path)
			ft := f.Type
			switch {
			case ft == reflect.TypeOf(Duration{}):
			case ft.Kind() == reflect.Struct:
				walk(ft, path+".")
			case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct:
				walk(ft.Elem(), path+"[].")
			}
		}
	}
	walk(reflect.TypeOf(Config{}), "")
	return out
}

// isLeaf reports whether path is a key with a value of its own (not a section).
func isLeaf(path string) bool {
	for _, p := range keyPaths() {
		if strings.HasPrefix(p, path+".") || strings.HasPrefix(p, path+"[].") {
			return false
		}
	}
	return true
}

// fileKeyPaths lists the keys present in a YAML file, list indexes written as "[]".
func fileKeyPaths(t *testing.T, data []byte) map[string]bool {
	t.Helper()
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, e := range walkNodes(&root) {
		p := regexp.MustCompile(`\[\d+\]`).ReplaceAllString(e.path, "[]")
		seen[p] = true
	}
	return seen
}

func TestExampleFileLoads(t *testing.T) {
	cfg, err := Load(examplePath)
	if err != nil {
		t.Fatalf("the example does not load: %v", err)
	}
	// The example shows every default; only domains, users and routes (empty by default)
	// are set.
	want := Default()
	want.Domains = []string{"example.com"}
	want.Users = []User{
		{User: "alice", Password: "alice-secret"},
		{User: "bob", Domain: "example.com",
			HA1MD5:      "ede4211a900d51d7799431a9b031f433",
			HA1SHA256:   "ec2f43ed00c65e2fefa7519a79f4ae6d204d34d45c4e30fd9a8048691cfd017f",
			ForwardMode: "redirect"},
	}
	want.Routes = []Route{
		{Prefix: "+", Gateway: "sip:pstn-gw.example.net:5060"},
		{Domain: "partner.example.org", Gateway: "sip:sbc.partner.example.org"},
	}
	sameConfig(t, cfg, want)

	// Values the comments promise.
	checks := []struct {
		name string
		got  any
		want any
	}{
		{"listen.address", cfg.Listen.Address, "0.0.0.0"},
		{"listen.udp", cfg.Listen.UDP, 5060},
		{"listen.tcp", cfg.Listen.TCP, 5060},
		{"listen.advertise", cfg.Listen.Advertise, ""},
		{"data_dir", cfg.DataDir, ""},
		{"registrar.min_expires", cfg.Registrar.MinExpires, 60},
		{"registrar.max_expires", cfg.Registrar.MaxExpires, 7200},
		{"registrar.default_expires", cfg.Registrar.DefaultExpires, 3600},
		{"registrar.max_contacts", cfg.Registrar.MaxContacts, 10},
		{"auth.realm", cfg.Auth.Realm, ""},
		{"auth.algorithms", strings.Join(cfg.Auth.Algorithms, ","), "MD5"},
		{"auth.nonce_lifetime", cfg.Auth.NonceLifetime.Duration, 5 * time.Minute},
		{"auth.register", cfg.Auth.RegisterAuthOn(), true},
		{"auth.trusted", len(cfg.Auth.Trusted), 0},
		{"proxy.record_route", cfg.Proxy.RecordRouteOn(), true},
		{"proxy.no_answer_timeout", cfg.Proxy.NoAnswerTimeout.Duration, 180 * time.Second},
		{"proxy.max_message_size", cfg.Proxy.MaxMessageSize, 16384},
		{"log.level", cfg.Log.Level, "info"},
		{"log.format", cfg.Log.Format, "text"},
		{"admin.listen", cfg.Admin.Listen, "127.0.0.1:5065"},
		{"admin.token", cfg.Admin.Token, ""},
		{"admin loopback", cfg.Admin.Loopback(), true},
		{"trace.enabled", cfg.Trace.RecordingOn(), true},
		{"trace.max_calls", cfg.Trace.MaxCalls, 10000},
		{"trace.max_age", cfg.Trace.MaxAge.Duration, 24 * time.Hour},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}

	// bob's HA1 values are those of the password the comment gives, in realm example.com.
	bob := cfg.Users[1]
	if want := digest.HA1(digest.MD5, "bob", "example.com", "bob-secret"); bob.HA1MD5 != want {
		t.Errorf("bob's ha1_md5 = %s, but MD5(bob:example.com:bob-secret) = %s", bob.HA1MD5, want)
	}
	if want := digest.HA1(digest.SHA256, "bob", "example.com", "bob-secret"); bob.HA1SHA256 != want {
		t.Errorf("bob's ha1_sha256 = %s, but SHA-256(bob:example.com:bob-secret) = %s", bob.HA1SHA256, want)
	}
}

// The example promises every key; a new key must be added to it.
func TestExampleFileShowsEveryKey(t *testing.T) {
	data, err := os.ReadFile(examplePath)
	if err != nil {
		t.Fatal(err)
	}
	present := fileKeyPaths(t, data)
	for _, p := range keyPaths() {
		if !present[p] {
			t.Errorf("%s does not show the key %s", examplePath, p)
		}
	}
}

func TestDefaultValidates(t *testing.T) {
	cfg := Default()
	if err := cfg.Validate(); err != nil {
		t.Fatalf("Default() does not validate: %v", err)
	}
	if !cfg.Auth.RegisterAuthOn() || !cfg.Proxy.RecordRouteOn() {
		t.Error("register auth and record-route must be on by default")
	}
	// A zero Config is not valid (no ports, no expiry limits): Default is needed.
	var zero Config
	if zero.Validate() == nil {
		t.Error("a zero Config validates; expected an error")
	}
}

func TestEmptyFileGivesDefaults(t *testing.T) {
	for name, data := range map[string]string{
		"empty":              "",
		"newlines":           "\n\n",
		"comments only":      "# nothing to change\n# at all\n",
		"document start":     "---\n",
		"empty document":     "--- {}\n",
		"keys with no value": "listen:\n  udp:\nregistrar:\nauth:\n  nonce_lifetime:\n  register:\nproxy:\n  record_route:\nlog:\nadmin:\n  listen:\ntrace:\n  enabled:\n  max_age:\n",
	} {
		t.Run(name, func(t *testing.T) {
			cfg, err := Parse("empty.yaml", []byte(data))
			if err != nil {
				t.Fatal(err)
			}
			sameConfig(t, cfg, Default())
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := Load("does-not-exist.yaml")
	if err == nil || !strings.Contains(err.Error(), "does-not-exist.yaml") {
		t.Fatalf("err = %v, want one naming the file", err)
	}
}

func TestUnknownKeysRefused(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want string // the start of the error
		hint string // the list of keys that would have been right
	}{
		{
			name: "top level",
			yaml: "listen:\n  udp: 5070\nlistn:\n  tcp: 5070\n",
			want: `bad.yaml: line 3: unknown key "listn"`,
			hint: "(the top level has: listen, domains, data_dir, registrar, acl, ratelimit, auth, proxy, media, users, routes, log, admin, trace)",
		},
		{
			name: "nested",
			yaml: "listen:\n  address: 127.0.0.1\n  udpp: 5070\n",
			want: `bad.yaml: line 3: unknown key "udpp"`,
			hint: "(listen has: address, udp, tcp, advertise)",
		},
		{
			name: "nested in flow style",
			yaml: "auth: {realm: lab, algorithm: MD5}\n",
			want: `bad.yaml: line 1: unknown key "algorithm"`,
			hint: "(auth has: realm, algorithms, nonce_lifetime, register, calls, lockout, trusted)",
		},
		{
			name: "in a user entry",
			yaml: "users:\n  - user: alice\n    passwd: secret\n",
			want: `bad.yaml: line 3: unknown key "passwd"`,
			hint: "(each entry of users has: user, domain, password, ha1_md5, ha1_sha256, dnd, forward_to, forward_mode, max_calls)",
		},
		{
			name: "in admin",
			yaml: "admin:\n  address: 0.0.0.0:5065\n",
			want: `bad.yaml: line 2: unknown key "address"`,
			hint: "(admin has: listen, token)",
		},
		{
			name: "in trace",
			yaml: "trace:\n  max_size: 100\n",
			want: `bad.yaml: line 2: unknown key "max_size"`,
			hint: "(trace has: enabled, max_calls, max_age)",
		},
		{
			name: "key given twice",
			yaml: "listen:\n  udp: 5070\n  udp: 5080\n",
			want: `bad.yaml: line 3: mapping key "udp" already defined at line 2`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("bad.yaml", []byte(tt.yaml))
			if err == nil {
				t.Fatal("accepted")
			}
			if !strings.HasPrefix(err.Error(), tt.want) {
				t.Errorf("err = %q\nwant it to start with %q", err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.hint) {
				t.Errorf("err = %q\nwant it to list the known keys %q", err, tt.hint)
			}
		})
	}
}

func TestBadValuesRefused(t *testing.T) {
	const hexMD5 = "0123456789abcdef0123456789abcdef"
	tests := []struct {
		name string
		yaml string
		line int
		key  string // the key path the error names
		msg  string // part of the explanation
	}{
		// listen
		{"port too high", "listen:\n  udp: 70000\n", 2, "listen.udp", "port 70000 is out of range 0-65535"},
		{"negative tcp port", "listen:\n  tcp: -1\n", 2, "listen.tcp", "out of range"},
		{"both transports off", "listen:\n  udp: 0\n  tcp: 0\n", 1, "listen", "nothing to listen on"},
		{"address not an IP", "listen:\n  address: eth0\n", 2, "listen.address", `"eth0" is not an IP address`},
		{"advertise with a space", "listen:\n  advertise: my host\n", 2, "listen.advertise", "contains a space"},
		{"port not a number", "listen:\n  udp: abc\n", 2, "listen.udp", `"abc" is not a whole number`},
		{"port not a number, flow style", "listen: {tcp: 5060, udp: five}\n", 1, "listen.udp", `"five" is not a whole number`},
		{"port a list", "listen:\n  udp: [5060]\n", 2, "listen.udp", "expected a whole number, got a list"},
		{"section a scalar", "listen: 5060\n", 1, "listen", "expected a mapping of keys, got a single value"},
		// domains
		{"domains not a list", "domains: example.com\n", 1, "domains", "expected a list, got a single value"},
		{"domain with a port", "domains: [example.com, 'lab.example.com:5080']\n", 1, "domains[1]", "no port"},
		{"domain with sip:", "domains:\n  - example.com\n  - sip:lab.example.com\n", 3, "domains[1]", "not a domain name or address"},
		{"empty domain", "domains:\n  - ''\n", 2, "domains[0]", "empty domain"},
		{"domain twice", "domains:\n  - example.com\n  - Example.COM\n", 3, "domains[1]", "listed twice"},
		// registrar
		{"min_expires 0", "registrar:\n  min_expires: 0\n", 2, "registrar.min_expires", "must be at least 1 second, got 0"},
		{"max_expires below min", "registrar:\n  min_expires: 600\n  max_expires: 300\n", 3, "registrar.max_expires", "300 is below min_expires 600"},
		{"max_expires below default min", "registrar:\n  max_expires: 30\n", 2, "registrar.max_expires", "30 is below min_expires 60"},
		{"default_expires above max", "registrar:\n  default_expires: 9000\n", 2, "registrar.default_expires", "9000 is outside min_expires..max_expires (60..7200)"},
		{"default_expires below min", "registrar:\n  default_expires: 30\n", 2, "registrar.default_expires", "outside min_expires..max_expires"},
		{"max_contacts 0", "registrar:\n  max_contacts: 0\n", 2, "registrar.max_contacts", "must be at least 1, got 0"},
		{"rule on a key the file does not give", "registrar:\n  min_expires: 10000\n", 1, "registrar.max_expires", "7200 is below min_expires 10000"},
		// auth
		{"algorithm SHA-1", "auth:\n  algorithms: [SHA-256, SHA-1]\n", 2, "auth.algorithms[1]", `"SHA-1" is not supported (SHA-256 or MD5)`},
		{"algorithm in lower case", "auth:\n  algorithms:\n    - md5\n", 3, "auth.algorithms[0]", `"md5" is not supported`},
		{"no algorithm", "auth:\n  algorithms: []\n", 2, "auth.algorithms", "give at least one of SHA-256, MD5"},
		{"algorithm twice", "auth:\n  algorithms: [MD5, MD5]\n", 2, "auth.algorithms[1]", `"MD5" is listed twice`},
		{"nonce_lifetime not a duration", "auth:\n  nonce_lifetime: fast\n", 2, "auth.nonce_lifetime", `"fast" is not a duration (use 30s, 5m, 1h)`},
		{"nonce_lifetime without unit", "auth:\n  nonce_lifetime: 300\n", 2, "auth.nonce_lifetime", `"300" is not a duration`},
		{"nonce_lifetime a mapping", "auth:\n  nonce_lifetime: {minutes: 5}\n", 2, "auth.nonce_lifetime", "expected a duration such as 30s, got a mapping"},
		{"nonce_lifetime too short", "auth:\n  nonce_lifetime: 1s\n", 2, "auth.nonce_lifetime", "1s is too short (at least 5s)"},
		{"register not a boolean", "auth:\n  register: maybe\n", 2, "auth.register", `"maybe" is not true or false`},
		{"realm with a space", "auth:\n  realm: my realm\n", 2, "auth.realm", "contains a space"},
		{"trusted prefix /33", "auth:\n  trusted:\n    - 10.0.0.0/8\n    - 10.0.0.0/33\n", 4, "auth.trusted[1]", `"10.0.0.0/33" is not an address prefix`},
		{"trusted host name", "auth:\n  trusted: [gw.example.com]\n", 2, "auth.trusted[0]", `"gw.example.com" is not an address or prefix`},
		// proxy
		{"no_answer_timeout 500ms", "proxy:\n  no_answer_timeout: 500ms\n", 2, "proxy.no_answer_timeout", "500ms is below the minimum of 1s"},
		{"no_answer_timeout not a duration", "proxy:\n  no_answer_timeout: 3 minutes\n", 2, "proxy.no_answer_timeout", `"3 minutes" is not a duration`},
		{"max_message_size too small", "proxy:\n  max_message_size: 100\n", 2, "proxy.max_message_size", "100 is outside 1024..65535"},
		{"max_message_size too large", "proxy:\n  max_message_size: 70000\n", 2, "proxy.max_message_size", "70000 is outside 1024..65535"},
		{"record_route not a boolean", "proxy:\n  record_route: sometimes\n", 2, "proxy.record_route", `"sometimes" is not true or false`},
		// users
		{"user without password", "users:\n  - user: alice\n    password: a\n  - user: bob\n", 4, "users[1]", `user "bob" needs a password or ha1_md5/ha1_sha256`},
		{"user name with a space", "users:\n  - user: alice smith\n    password: a\n", 2, "users[0].user", `contains ' ', which is not allowed`},
		{"empty user name", "users:\n  - password: a\n", 2, "users[0].user", "empty user name"},
		{"user name too long", "users:\n  - user: " + strings.Repeat("a", 65) + "\n    password: a\n", 2, "users[0].user", "longer than 64 characters"},
		{"duplicate user", "users:\n  - user: alice\n    password: a\n  - user: alice\n    password: b\n", 4, "users[1].user", "user alice@localhost is declared twice"},
		{"duplicate user via the default domain", "domains: [example.com]\nusers:\n  - user: alice\n    password: a\n  - user: alice\n    domain: Example.com\n    password: b\n", 5, "users[1].user", "user alice@example.com is declared twice"},
		{"ha1_md5 too short", "users:\n  - user: alice\n    ha1_md5: 0123abcd\n", 3, "users[0].ha1_md5", "must be 32 hex digits"},
		{"ha1_md5 not hex", "users:\n  - user: alice\n    ha1_md5: " + strings.Repeat("g", 32) + "\n", 3, "users[0].ha1_md5", "must be 32 hex digits"},
		{"ha1_sha256 given an MD5", "users:\n  - user: alice\n    ha1_sha256: " + hexMD5 + "\n", 3, "users[0].ha1_sha256", "must be 64 hex digits"},
		{"password and ha1", "users:\n  - user: alice\n    password: a\n    ha1_md5: " + hexMD5 + "\n", 3, "users[0].password", "give one or the other"},
		{"ha1 for an algorithm not offered", "auth:\n  algorithms: [SHA-256]\nusers:\n  - user: alice\n    ha1_md5: " + hexMD5 + "\n", 4, "users[0]", "no ha1 value for the offered algorithms SHA-256"},
		{"user in a domain not served", "domains: [example.com]\nusers:\n  - user: alice\n    domain: other.org\n    password: a\n", 4, "users[0].domain", `"other.org" is not a served domain (domains: example.com)`},
		{"user domain with no domains", "users:\n  - {user: alice, domain: example.com, password: a}\n", 2, "users[0].domain", "is not a served domain"},
		{"users a mapping", "users:\n  user: alice\n  password: a\n", 2, "users", "expected a list, got a mapping"},
		// log
		{"log level loud", "log:\n  level: loud\n", 2, "log.level", `"loud" is not one of debug, info, warn, error`},
		{"log level in capitals", "log:\n  level: INFO\n", 2, "log.level", "is not one of"},
		{"log format xml", "log:\n  format: xml\n", 2, "log.format", `"xml" is not one of text, json`},
		// admin
		{"admin on every address without a token", "admin:\n  listen: 0.0.0.0:5065\n", 1, "admin.token", `required because admin.listen "0.0.0.0:5065" is not a loopback address`},
		{"admin on all addresses, no host", "admin:\n  listen: \":5065\"\n", 1, "admin.token", "is not a loopback address"},
		{"admin on a LAN address, token empty", "admin:\n  listen: 192.168.1.10:5065\n  token: \"\"\n", 3, "admin.token", "set a token or listen on 127.0.0.1"},
		{"admin without a port", "admin:\n  listen: 127.0.0.1\n", 2, "admin.listen", `"127.0.0.1" is not IP:PORT, such as 127.0.0.1:5065`},
		{"admin port too high", "admin:\n  listen: 127.0.0.1:70000\n", 2, "admin.listen", `port "70000" is not a number from 0 to 65535`},
		{"admin on a host name", "admin:\n  listen: admin.example.com:5065\n  token: 0123456789abcdef0123\n", 2, "admin.listen", `"admin.example.com" is not an IP address`},
		{"admin token too short", "admin:\n  token: secret\n", 2, "admin.token", "6 characters is too short; use at least 16"},
		{"admin token with a space", "admin:\n  token: \"0123456789 abcdef\"\n", 2, "admin.token", "printable ASCII without spaces"},
		{"admin listen a list", "admin:\n  listen: [127.0.0.1:5065]\n", 2, "admin.listen", "expected a single value, got a list"},
		// trace
		{"trace max_calls negative", "trace:\n  max_calls: -1\n", 2, "trace.max_calls", "must be 0 (no bound) or more, got -1"},
		{"trace max_age negative", "trace:\n  max_age: -1h\n", 2, "trace.max_age", "must be 0 (no bound) or more, got -1h0m0s"},
		{"trace max_age too short", "trace:\n  max_age: 30s\n", 2, "trace.max_age", "30s is too short (at least 1m"},
		{"trace max_age not a duration", "trace:\n  max_age: 1 day\n", 2, "trace.max_age", `"1 day" is not a duration`},
		{"trace unbounded", "trace:\n  max_calls: 0\n  max_age: 0s\n", 1, "trace", "both 0, so the record would grow without bound"},
		{"trace enabled not a boolean", "trace:\n  enabled: yes please\n", 2, "trace.enabled", `"yes please" is not true or false`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse("bad.yaml", []byte(tt.yaml))
			if err == nil {
				t.Fatalf("accepted:\n%s", tt.yaml)
			}
			prefix := fmt.Sprintf("bad.yaml: line %d: %s: ", tt.line, tt.key)
			if !strings.HasPrefix(err.Error(), prefix) {
				t.Errorf("err = %q\nwant it to start with %q", err, prefix)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("err = %q\nwant it to contain %q", err, tt.msg)
			}
		})
	}
}

// Type errors are all reported, each with its own line and key.
func TestSeveralTypeErrorsReportedTogether(t *testing.T) {
	_, err := Parse("bad.yaml", []byte("auth:\n  nonce_lifetime: soon\nlisten:\n  udp: a-very-long-port-value\n"))
	want := `bad.yaml: line 2: auth.nonce_lifetime: "soon" is not a duration (use 30s, 5m, 1h); ` +
		`line 4: listen.udp: "a-very-long-port-value" is not a whole number`
	if err == nil || err.Error() != want {
		t.Fatalf("err = %v\nwant   %s", err, want)
	}
}

func TestFieldErrorCarriesPathAndLine(t *testing.T) {
	_, err := Parse("bad.yaml", []byte("# a comment\nregistrar:\n  min_expires: 0\n"))
	var fe *FieldError
	if !errors.As(err, &fe) {
		t.Fatalf("err = %v (%T), want a *FieldError inside", err, err)
	}
	if fe.Path != "registrar.min_expires" || fe.Line != 3 {
		t.Errorf("FieldError = %+v, want path registrar.min_expires on line 3", fe)
	}

	// Validate on its own (as serve does after applying flags) has no line.
	cfg := Default()
	cfg.Listen.UDP = 70000
	err = cfg.Validate()
	if !errors.As(err, &fe) || fe.Line != 0 || err.Error() != "listen.udp: port 70000 is out of range 0-65535" {
		t.Errorf("Validate() = %v, want a line-less FieldError for listen.udp", err)
	}
}

func TestSecondDocumentRefused(t *testing.T) {
	_, err := Parse("bad.yaml", []byte("listen:\n  udp: 5070\n---\nlog:\n  level: debug\n"))
	want := "bad.yaml: line 4: a second YAML document"
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Fatalf("err = %v, want it to start with %q", err, want)
	}
	// A trailing "---" with nothing after it is harmless.
	if _, err := Parse("ok.yaml", []byte("listen:\n  udp: 5070\n---\n")); err != nil {
		t.Errorf("trailing ---: %v", err)
	}
}

func TestSyntaxErrorNamesFileAndLine(t *testing.T) {
	_, err := Parse("bad.yaml", []byte("listen:\n  udp: 5060\n tcp: 5060\n"))
	if err == nil || !strings.HasPrefix(err.Error(), "bad.yaml: line ") {
		t.Fatalf("err = %v, want it to name the file and a line", err)
	}
	_, err = Parse("bad.yaml", []byte("- listen\n"))
	if err == nil || !strings.Contains(err.Error(), "the file must be a mapping of keys") {
		t.Fatalf("err = %v, want the file to be a mapping", err)
	}
}

func TestGoodValuesAccepted(t *testing.T) {
	tests := []struct {
		name  string
		yaml  string
		check func(t *testing.T, c Config)
	}{
		{"file overrides only what it names", "listen:\n  udp: 5070\n", func(t *testing.T, c Config) {
			want := Default()
			want.Listen.UDP = 5070
			sameConfig(t, c, want)
		}},
		{"udp only", "listen: {tcp: 0}\n", func(t *testing.T, c Config) {
			if c.Listen.TCP != 0 || c.Listen.UDP != 5060 {
				t.Errorf("listen = %+v", c.Listen)
			}
		}},
		{"IPv6 address", "listen: {address: '::1'}\n", nil},
		{"durations", "auth: {nonce_lifetime: 30s}\nproxy: {no_answer_timeout: 1m30s}\n", func(t *testing.T, c Config) {
			if c.Auth.NonceLifetime.Duration != 30*time.Second || c.Proxy.NoAnswerTimeout.Duration != 90*time.Second {
				t.Errorf("durations = %v, %v", c.Auth.NonceLifetime, c.Proxy.NoAnswerTimeout)
			}
		}},
		{"register and record_route off", "auth: {register: false}\nproxy: {record_route: false}\n", func(t *testing.T, c Config) {
			if c.Auth.RegisterAuthOn() || c.Proxy.RecordRouteOn() {
				t.Error("still on")
			}
		}},
		{"trusted addresses and prefixes", "auth: {trusted: [10.0.0.0/8, 192.0.2.7, '2001:db8::/32', '::1']}\n", nil},
		{"SHA-256 only with a SHA-256 user", "auth: {algorithms: [SHA-256]}\nusers:\n  - {user: a, ha1_sha256: " + strings.Repeat("ab", 32) + "}\n", nil},
		{"upper-case hex", "users:\n  - {user: a, ha1_md5: " + strings.Repeat("AB", 16) + "}\n", nil},
		{"domains are lower-cased", "domains: [Example.COM, lab.example.com]\nusers:\n  - {user: alice, domain: EXAMPLE.com, password: a}\n  - {user: bob, domain: Lab.Example.Com, password: b}\n", func(t *testing.T, c Config) {
			if c.Domains[0] != "example.com" || c.Users[0].Domain != "example.com" || c.Users[1].Domain != "lab.example.com" {
				t.Errorf("domains = %v, users = %+v", c.Domains, c.Users)
			}
		}},
		{"same name in two domains", "domains: [a.example, b.example]\nusers:\n  - {user: alice, password: a}\n  - {user: alice, domain: b.example, password: b}\n", nil},
		{"user in localhost when no domains", "users:\n  - {user: alice, domain: localhost, password: a}\n", nil},
		{"user name with allowed punctuation", "users:\n  - {user: \"+4930123_x.y\", password: a}\n", nil},
		{"IPv6 domain", "domains: ['::1']\n", nil},
		{"admin off", "admin: {listen: \"\"}\n", func(t *testing.T, c Config) {
			if c.Admin.Listen != "" || c.Admin.Loopback() {
				t.Errorf("admin = %+v", c.Admin)
			}
		}},
		{"admin on IPv6 loopback and localhost", "admin: {listen: \"[::1]:5065\"}\n", func(t *testing.T, c Config) {
			if !c.Admin.Loopback() {
				t.Errorf("[::1]:5065 is not loopback")
			}
			if !(Admin{Listen: "localhost:5065"}).Loopback() || !(Admin{Listen: "127.0.0.2:0"}).Loopback() {
				t.Errorf("localhost or 127.0.0.2 not loopback")
			}
		}},
		{"admin on every address with a token", "admin: {listen: \"0.0.0.0:5065\", token: 0123456789abcdef0123}\n", func(t *testing.T, c Config) {
			if c.Admin.Loopback() || c.Admin.Token != "0123456789abcdef0123" {
				t.Errorf("admin = %+v", c.Admin)
			}
		}},
		{"admin on a free port", "admin: {listen: \"127.0.0.1:0\"}\n", nil},
		{"trace off, one bound", "trace: {enabled: false, max_calls: 0, max_age: 1h}\n", func(t *testing.T, c Config) {
			if c.Trace.RecordingOn() || c.Trace.MaxCalls != 0 || c.Trace.MaxAge.Duration != time.Hour {
				t.Errorf("trace = %+v", c.Trace)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Parse("good.yaml", []byte(tt.yaml))
			if err != nil {
				t.Fatal(err)
			}
			if tt.check != nil {
				tt.check(t, c)
			}
		})
	}
}

// Marshalling a config and loading it back gives the same config (Duration's MarshalYAML
// and UnmarshalYAML agree, and nothing is lost).
func TestRoundTrip(t *testing.T) {
	cfg, err := Load(examplePath)
	if err != nil {
		t.Fatal(err)
	}
	data, err := yaml.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	back, err := Parse("roundtrip.yaml", data)
	if err != nil {
		t.Fatalf("%v\n%s", err, data)
	}
	sameConfig(t, back, cfg)
}

// docs/config.md must name every key as `path`, so adding a key without documenting it
// fails here.
func TestDocsNameEveryKey(t *testing.T) {
	doc := readDoc(t)
	for _, p := range keyPaths() {
		if !strings.Contains(doc, "`"+p+"`") {
			t.Errorf("%s does not mention the key `%s`", docPath, p)
		}
	}
}

// Every key heading in docs/config.md is a real key, so a removed or renamed key does not
// stay documented.
func TestDocsHeadingsAreKeys(t *testing.T) {
	doc := readDoc(t)
	known := map[string]bool{}
	for _, p := range keyPaths() {
		known[p] = true
	}
	headings := regexp.MustCompile("(?m)^#{2,5} `([^`]+)`\\s*$").FindAllStringSubmatch(doc, -1)
	if len(headings) == 0 {
		t.Fatal("no key headings found in the doc")
	}
	var documented []string
	for _, h := range headings {
		documented = append(documented, h[1])
		if !known[h[1]] {
			t.Errorf("%s has a heading for `%s`, which is not a key", docPath, h[1])
		}
	}
	for _, p := range keyPaths() {
		found := false
		for _, d := range documented {
			found = found || d == p
		}
		if !found {
			t.Errorf("%s has no heading for the key `%s`", docPath, p)
		}
	}
}

// The summary table's Default column matches Default(): every leaf key has a row, and its
// default, read as YAML into the key's type, equals the real default.
func TestDocsDefaultsMatch(t *testing.T) {
	doc := readDoc(t)
	rows := map[string]string{}
	for _, m := range regexp.MustCompile("(?m)^\\| `([a-z0-9_.\\[\\]]+)` \\| [^|]+ \\| (.+?) \\|$").FindAllStringSubmatch(doc, -1) {
		rows[m[1]] = m[2]
	}
	def := reflect.ValueOf(Default())
	var leaves []string
	for _, p := range keyPaths() {
		if isLeaf(p) {
			leaves = append(leaves, p)
		}
	}
	sort.Strings(leaves)
	for _, p := range leaves {
		cell, ok := rows[p]
		if !ok {
			t.Errorf("%s: the summary table has no row for `%s`", docPath, p)
			continue
		}
		if strings.Contains(p, "[]") {
			continue // per-user keys have no default
		}
		field := fieldByPath(def, p)
		if !strings.HasPrefix(cell, "`") || !strings.HasSuffix(cell, "`") {
			t.Errorf("%s: default of `%s` is %s, want a `value`", docPath, p, cell)
			continue
		}
		ptr := reflect.New(field.Type())
		if err := yaml.Unmarshal([]byte(strings.Trim(cell, "`")), ptr.Interface()); err != nil {
			t.Errorf("%s: default of `%s`: %v", docPath, p, err)
			continue
		}
		got, _ := yaml.Marshal(ptr.Elem().Interface())
		want, _ := yaml.Marshal(field.Interface())
		if string(got) != string(want) {
			t.Errorf("%s: default of `%s` is %s; Default() has %s", docPath, p, cell, strings.TrimSpace(string(want)))
		}
	}
	for p := range rows {
		if !isLeaf(p) || !slicesContains(keyPaths(), p) {
			t.Errorf("%s: the summary table has a row for `%s`, which is not a key with a value", docPath, p)
		}
	}
}

func readDoc(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile(docPath)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// fieldByPath finds "auth.nonce_lifetime" in a Config value by yaml tags.
func fieldByPath(v reflect.Value, path string) reflect.Value {
	for _, name := range strings.Split(path, ".") {
		t := v.Type()
		found := false
		for i := 0; i < t.NumField(); i++ {
			if n, _, _ := strings.Cut(t.Field(i).Tag.Get("yaml"), ","); n == name {
				v, found = v.Field(i), true
				break
			}
		}
		if !found {
			panic("no field " + path)
		}
	}
	return v
}

func slicesContains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestParsePrefix(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"10.0.0.0/8", "10.0.0.0/8", true},
		{"10.1.2.3/8", "10.0.0.0/8", true}, // host bits are masked off
		{"192.0.2.7", "192.0.2.7/32", true},
		{"::1", "::1/128", true},
		{"2001:db8::/32", "2001:db8::/32", true},
		{"10.0.0.0/33", "", false},
		{"gw.example.com", "", false},
		{"", "", false},
	}
	for _, tt := range tests {
		p, err := ParsePrefix(tt.in)
		if (err == nil) != tt.ok || tt.ok && p.String() != tt.want {
			t.Errorf("ParsePrefix(%q) = %v, %v; want %s, ok=%v", tt.in, p, err, tt.want, tt.ok)
		}
	}
}

func TestCheckUserName(t *testing.T) {
	for _, ok := range []string{"alice", "Alice.Smith", "+4930123456", "a-b_c!~*'()", "x&y=z$,;?/"} {
		if err := CheckUserName(ok); err != nil {
			t.Errorf("CheckUserName(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"", "a b", "a@b", "a:b", "a<b", "a\"b", "a\r\nVia: x", "ä", strings.Repeat("a", 65)} {
		if CheckUserName(bad) == nil {
			t.Errorf("CheckUserName(%q) accepted", bad)
		}
	}
}

// TestBooleansAreIndependent: switching one optional boolean off leaves the others on
// (they once shared one pointer, so trace.enabled: false also turned Record-Route and
// authentication off).
func TestBooleansAreIndependent(t *testing.T) {
	for _, tt := range []struct {
		yaml  string
		check func(Config) bool
	}{
		{"trace: {enabled: false}\n", func(c Config) bool {
			return !c.Trace.RecordingOn() && c.Proxy.RecordRouteOn() && c.Auth.RegisterAuthOn() && c.Auth.CallsAuthOn()
		}},
		{"proxy: {record_route: false}\n", func(c Config) bool {
			return !c.Proxy.RecordRouteOn() && c.Trace.RecordingOn() && c.Auth.RegisterAuthOn() && c.Auth.CallsAuthOn()
		}},
		{"auth: {calls: false}\n", func(c Config) bool {
			return !c.Auth.CallsAuthOn() && c.Auth.RegisterAuthOn() && c.Proxy.RecordRouteOn() && c.Trace.RecordingOn()
		}},
	} {
		cfg, err := Parse("t.yaml", []byte(tt.yaml))
		if err != nil {
			t.Fatal(err)
		}
		if !tt.check(cfg) {
			t.Errorf("%q switched another option too: %+v %+v %+v", tt.yaml, cfg.Auth, cfg.Proxy, cfg.Trace)
		}
		if !Default().Proxy.RecordRouteOn() {
			t.Fatalf("parsing %q changed the defaults", tt.yaml)
		}
	}
}
