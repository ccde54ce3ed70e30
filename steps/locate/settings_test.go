package locate_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo/sip"

	"github.com/siplens/siplens/chain"
	"github.com/siplens/siplens/dialogs"
	"github.com/siplens/siplens/steps/locate"
	"github.com/siplens/siplens/store"
	"github.com/siplens/siplens/store/memory"
)

// settingsStep: example.com with users whose settings exercise each rule; only "phone"
// has a registered contact.
func settingsStep(t *testing.T) *locate.Step {
	t.Helper()
	ctx := context.Background()
	users := memory.NewUsers()
	add := func(name string, set store.Settings) {
		if err := users.PutUser(ctx, store.User{Name: name, Domain: "example.com", Realm: "example.com", Settings: set}); err != nil {
			t.Fatal(err)
		}
	}
	add("phone", store.Settings{MaxCalls: 1})
	add("quiet", store.Settings{DND: 480})
	add("busy", store.Settings{DND: 486})
	add("nope", store.Settings{DND: 603})
	add("away", store.Settings{ForwardTo: "sip:someone@elsewhere.net", ForwardMode: "redirect"})
	add("desk", store.Settings{ForwardTo: "sip:phone@example.com", ForwardMode: "proxy"})
	add("out", store.Settings{ForwardTo: "sip:mobile@carrier.example:5070", ForwardMode: "proxy"})
	add("ping", store.Settings{ForwardTo: "sip:pong@example.com", ForwardMode: "proxy"})
	add("pong", store.Settings{ForwardTo: "sip:ping@example.com", ForwardMode: "proxy"})
	loc := memory.NewLocations()
	if _, err := loc.Update(ctx, "phone@example.com", now, func([]store.Binding) ([]store.Binding, error) {
		return []store.Binding{{AOR: "phone@example.com", Contact: "sip:phone@192.0.2.10:5060", Q: 1, Expires: now.Add(time.Hour)}}, nil
	}); err != nil {
		t.Fatal(err)
	}
	var gw sip.Uri
	if err := sip.ParseUri("sip:gw.example.net:5080", &gw); err != nil {
		t.Fatal(err)
	}
	return &locate.Step{
		Users: users, Locations: loc, Domains: chain.NewDomains([]string{"example.com"}),
		Dialogs: dialogs.New(time.Hour), Now: func() time.Time { return now },
		Routes: []locate.Route{{Prefix: "+1", Gateway: gw}, {Domain: "partner.example.org", Gateway: gw}},
	}
}

func runLocate(t *testing.T, s *locate.Step, uri, authUser string) (*chain.Request, error) {
	t.Helper()
	var u sip.Uri
	if err := sip.ParseUri(uri, &u); err != nil {
		t.Fatal(err)
	}
	req := parse(t, "INVITE "+uri+" SIP/2.0\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKx\nFrom: <sip:caller@example.com>;tag=1\nTo: <"+uri+">\nCall-ID: call-"+u.User+"\nCSeq: 1 INVITE\nContent-Length: 0\n\n")
	domain := ""
	if u.Host == "example.com" {
		domain = "example.com"
	}
	r := &chain.Request{SIP: req, Domain: domain, AuthUser: authUser}
	return r, s.Handle(context.Background(), chain.NewWriter(req, &chain.Recorder{}), r)
}

func TestUserSettings(t *testing.T) {
	s := settingsStep(t)
	tests := []struct {
		uri, auth string
		code      int
		reason    string
		target    string // when code is 0
		callee    string
	}{
		{uri: "sip:quiet@example.com", code: 480, reason: "do-not-disturb"},
		{uri: "sip:busy@example.com", code: 486, reason: "do-not-disturb"},
		{uri: "sip:nope@example.com", code: 603, reason: "do-not-disturb"},
		{uri: "sip:away@example.com", code: 302, reason: "redirect"},
		{uri: "sip:desk@example.com", target: "sip:phone@192.0.2.10:5060", callee: "phone@example.com"},
		{uri: "sip:out@example.com", target: "sip:mobile@carrier.example:5070", callee: "out@example.com"},
		{uri: "sip:ping@example.com", code: 482, reason: "loop"},
		{uri: "sip:+15551234@example.com", code: 403, reason: "only for authenticated"},
		{uri: "sip:+15551234@example.com", auth: "caller@example.com", target: "sip:+15551234@gw.example.net:5080"},
		{uri: "sip:+445551234@example.com", auth: "caller@example.com", code: 404, reason: "not a user"},
		{uri: "sip:x@partner.example.org", code: 403, reason: "only for authenticated"},
		{uri: "sip:x@partner.example.org", auth: "caller@example.com", target: "sip:x@gw.example.net:5080"},
		{uri: "sip:x@nowhere.example", auth: "caller@example.com", code: 403, reason: "does not relay"},
	}
	for _, tt := range tests {
		t.Run(tt.uri+" "+tt.auth, func(t *testing.T) {
			r, err := runLocate(t, s, tt.uri, tt.auth)
			if tt.code == 0 {
				if err != nil {
					t.Fatalf("want a target, got %v", err)
				}
				if len(r.Targets) != 1 || r.Targets[0].URI.String() != tt.target || r.Callee != tt.callee {
					t.Fatalf("targets %v callee %q, want %s callee %q", r.Targets, r.Callee, tt.target, tt.callee)
				}
				return
			}
			var rej *chain.Error
			if !errors.As(err, &rej) || rej.Code != tt.code || !strings.Contains(rej.Reason, tt.reason) {
				t.Fatalf("got %v, want %d with %q", err, tt.code, tt.reason)
			}
			if tt.code == 302 {
				if len(rej.Headers) != 1 || rej.Headers[0].Name() != "Contact" || !strings.Contains(rej.Headers[0].Value(), "sip:someone@elsewhere.net") {
					t.Fatalf("302 headers %v", rej.Headers)
				}
			}
		})
	}
}

func TestMaxCalls(t *testing.T) {
	s := settingsStep(t)
	if _, err := runLocate(t, s, "sip:phone@example.com", ""); err != nil {
		t.Fatal(err)
	}
	s.Dialogs.Start("phone@example.com", "call-1", now) // the forward step counts the first call
	_, err := runLocate(t, s, "sip:phone@example.com", "")
	var rej *chain.Error
	if !errors.As(err, &rej) || rej.Code != 486 || !strings.Contains(rej.Reason, "already in 1 calls") {
		t.Fatalf("second call: %v, want 486", err)
	}
	s.Dialogs.End("call-1")
	if _, err := runLocate(t, s, "sip:phone@example.com", ""); err != nil {
		t.Fatalf("after the first call ended: %v", err)
	}
}

// slowUsers never answers within the timeout; brokenUsers fails.
type slowUsers struct{ *memory.Users }

func (slowUsers) GetUser(ctx context.Context, name, domain string) (store.User, error) {
	<-ctx.Done()
	return store.User{}, ctx.Err()
}

type brokenUsers struct{ *memory.Users }

func (brokenUsers) GetUser(context.Context, string, string) (store.User, error) {
	return store.User{}, errors.New("disk I/O error")
}

func TestStoreFailures(t *testing.T) {
	for _, tt := range []struct {
		users store.Users
		code  int
		want  string
	}{
		{slowUsers{memory.NewUsers()}, 504, "did not answer"},
		{brokenUsers{memory.NewUsers()}, 500, "disk I/O error"},
	} {
		s := settingsStep(t)
		s.Users, s.StoreTimeout = tt.users, 20*time.Millisecond
		_, err := runLocate(t, s, "sip:phone@example.com", "")
		var rej *chain.Error
		if !errors.As(err, &rej) || rej.Code != tt.code || !strings.Contains(rej.Reason, tt.want) {
			t.Fatalf("got %v, want %d with %q", err, tt.code, tt.want)
		}
		if tt.code == 500 && (len(rej.Headers) != 1 || rej.Headers[0].Name() != "Retry-After") {
			t.Fatalf("500 without Retry-After: %v", rej.Headers)
		}
	}
}
