// Package docs holds the project's documentation; its test keeps docs/responses.md in
// agreement with the code.
package docs

import (
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
)

// sentLiterally finds the codes a Go file sends with a literal: chain.Reject(403, ...),
// chain.RejectPhrase(400, ...), w.Reply(200, ...), &chain.Error{Code: 408, ...},
// sip.NewResponseFromRequest(req, 200, ...), a code := 488 picked before rejecting, and the
// challenge kinds of the auth step (kind{401, ...}).
var sentLiterally = regexp.MustCompile(`(?:Reject|RejectPhrase|Reply)\(([1-6][0-9]{2})\b|Code: ([1-6][0-9]{2})\b|kind\{([1-6][0-9]{2}),|NewResponseFromRequest\(\w+, ([1-6][0-9]{2}),|code := ([1-6][0-9]{2})\b`)

// fromConfiguration are rows whose code is not a literal in the sender's code: the code is
// chosen by configuration or comes from a branch.
var fromConfiguration = map[string]bool{
	"480 locate":  true, // do-not-disturb code from the user's settings (also a literal)
	"486 locate":  true,
	"603 locate":  true, // do-not-disturb code from the user's settings
	"482 forward": true, // the branch code of a contact naming siplens, passed through
	"606 media":   true, // 488 or 606 by media.global
	"487 (sipgo)": true, // sent by the SIP library as it accepts a CANCEL
	"400 server":  true,
}

func TestResponsesTableMatchesCode(t *testing.T) {
	doc, err := os.ReadFile("responses.md")
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	for _, m := range regexp.MustCompile(`(?m)^\| ([1-6][0-9]{2}) \| ([a-z()]+) \|`).FindAllStringSubmatch(string(doc), -1) {
		documented[m[1]+" "+m[2]] = true
	}
	if len(documented) < 30 {
		t.Fatalf("only %d rows found in responses.md: has the table format changed?", len(documented))
	}

	sent := map[string]string{} // "code sender" -> file
	scan := func(sender, dir string) {
		files, _ := filepath.Glob(filepath.Join(dir, "*.go"))
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range sentLiterally.FindAllStringSubmatch(string(src), -1) {
				code := m[1] + m[2] + m[3] + m[4] + m[5]
				if code == "100" {
					continue // 100 Trying is not a rejection or an answer
				}
				sent[code+" "+sender] = f
			}
		}
	}
	steps, _ := filepath.Glob("../steps/*")
	for _, dir := range steps {
		scan(filepath.Base(dir), dir)
	}
	scan("server", "../server")

	var missing, stale []string
	for key, file := range sent {
		if !documented[key] {
			missing = append(missing, key+" (in "+file+")")
		}
	}
	for key := range documented {
		if _, ok := sent[key]; !ok && !fromConfiguration[key] {
			stale = append(stale, key)
		}
	}
	sort.Strings(missing)
	sort.Strings(stale)
	for _, m := range missing {
		t.Errorf("the code sends %s, but docs/responses.md has no row for it", m)
	}
	for _, s := range stale {
		t.Errorf("docs/responses.md lists %s, but that code does not send it", s)
	}
}
