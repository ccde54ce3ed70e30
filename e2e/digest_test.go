package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/emiago/sipgo"
	"github.com/emiago/sipgo/sip"

	"github.com/siplens/siplens/config"
)

// sipgoRegister sends one REGISTER for user from a sipgo client (whose digest code is
// github.com/icholy/digest, not ours) and answers the challenge it gets.
func sipgoRegister(t *testing.T, srv *testServer, user, password string) (*sip.Response, *sip.Response) {
	t.Helper()
	ua, err := sipgo.NewUA(sipgo.WithUserAgent(user))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ua.Close() })
	client, err := sipgo.NewClient(ua, sipgo.WithClientHostname("127.0.0.1"))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req := sip.NewRequest(sip.REGISTER, sip.Uri{Scheme: "sip", Host: "localhost"})
	req.SetDestination(srv.Addr)
	aor := sip.Uri{Scheme: "sip", User: user, Host: "localhost"}
	from := &sip.FromHeader{Address: aor, Params: sip.NewParams()}
	from.Params.Add("tag", sip.GenerateTagN(8))
	req.AppendHeader(from)
	req.AppendHeader(&sip.ToHeader{Address: aor})
	req.AppendHeader(sip.NewHeader("Contact", "<sip:"+user+"@127.0.0.1:40999>"))
	req.AppendHeader(sip.NewHeader("Expires", "600"))
	first, err := client.Do(ctx, req)
	if err != nil {
		t.Fatalf("REGISTER: %v", err)
	}
	if first.StatusCode != 401 {
		return first, nil
	}
	second, err := client.DoDigestAuth(ctx, req, first, sipgo.DigestAuth{Username: user, Password: password})
	if err != nil {
		t.Fatalf("REGISTER with credentials: %v", err)
	}
	return first, second
}

// TestDigestSHA256: with SHA-256 offered first (RFC 8760), a client that supports it
// answers with SHA-256 and is registered; with MD5 alone it answers with MD5.
func TestDigestSHA256(t *testing.T) {
	for _, algs := range [][]string{{"SHA-256", "MD5"}, {"MD5"}} {
		t.Run(strings.Join(algs, ","), func(t *testing.T) {
			srv := startServer(t, "", func(c *config.Config) { c.Auth.Algorithms = algs })
			challenge, ok := sipgoRegister(t, srv, "bob", passwords["bob"])
			got := challenge.GetHeaders("WWW-Authenticate")
			if len(got) != len(algs) || !strings.Contains(got[0].Value(), "algorithm="+algs[0]) {
				t.Fatalf("challenges %v, want one per algorithm, %s first", got, algs[0])
			}
			if ok == nil || ok.StatusCode != 200 {
				t.Fatalf("answer to the %s challenge: %v", algs[0], ok)
			}
			if !srv.logHas("method=REGISTER", "code=200", "by=registrar") {
				t.Fatal("no 200 in the log")
			}
		})
	}
	t.Run("wrong password", func(t *testing.T) {
		srv := startServer(t, "", func(c *config.Config) { c.Auth.Algorithms = []string{"SHA-256"} })
		_, res := sipgoRegister(t, srv, "bob", "not-bobs")
		if res == nil || res.StatusCode != 401 {
			t.Fatalf("wrong SHA-256 password: %v, want a new 401", res)
		}
	})
}
