package codes

import (
	"slices"
	"strings"
	"testing"
)

// ianaCodes is the IANA "Response Codes" registry (sip-parameters-7), written
// out independently of the data files so that a missing, extra or duplicated
// entry shows up as a test failure.
var ianaCodes = []int{
	100, 180, 181, 182, 183, 199,
	200, 202, 204,
	300, 301, 302, 305, 380,
	400, 401, 402, 403, 404, 405, 406, 407, 408, 410, 412, 413, 414, 415, 416, 417,
	420, 421, 422, 423, 424, 425, 428, 429, 430, 433, 436, 437, 438, 439, 440,
	469, 470, 480, 481, 482, 483, 484, 485, 486, 487, 488, 489, 491, 493, 494,
	500, 501, 502, 503, 504, 505, 513, 555, 580,
	600, 603, 604, 606, 607, 608,
}

func TestRegistryHasEveryCodeExactlyOnce(t *testing.T) {
	// Count in the raw data files, not in the index: a map would hide a
	// duplicate entry.
	seen := map[int]int{}
	for _, group := range [][]Info{provisionalToRedirection, clientErrors, serverAndGlobalFailures} {
		for _, info := range group {
			seen[info.Code]++
		}
	}
	for _, code := range ianaCodes {
		switch n := seen[code]; n {
		case 1:
		case 0:
			t.Errorf("code %d from the IANA registry is missing", code)
		default:
			t.Errorf("code %d appears %d times", code, n)
		}
	}
	for code := range seen {
		if !slices.Contains(ianaCodes, code) {
			t.Errorf("code %d is not in the IANA registry", code)
		}
	}

	var got []int
	for _, info := range All() {
		got = append(got, info.Code)
	}
	if !slices.Equal(got, ianaCodes) {
		t.Errorf("All() codes =\n%v\nwant (sorted, once each)\n%v", got, ianaCodes)
	}
}

func TestReasonPhrases(t *testing.T) {
	tests := []struct {
		code   int
		reason string
	}{
		{100, "Trying"},
		{183, "Session Progress"},
		{199, "Early Dialog Terminated"},
		{200, "OK"},
		{302, "Moved Temporarily"},
		{401, "Unauthorized"},
		{407, "Proxy Authentication Required"},
		{408, "Request Timeout"},
		{423, "Interval Too Brief"},
		{437, "Unsupported Credential"},
		{480, "Temporarily Unavailable"},
		{481, "Call/Transaction Does Not Exist"},
		{486, "Busy Here"},
		{487, "Request Terminated"},
		{488, "Not Acceptable Here"},
		{500, "Server Internal Error"},
		{503, "Service Unavailable"},
		{504, "Server Time-out"},
		{600, "Busy Everywhere"},
		{603, "Decline"},
		{604, "Does Not Exist Anywhere"},
		{606, "Not Acceptable"},
		{608, "Rejected"},
	}
	for _, tt := range tests {
		if got := Lookup(tt.code).Reason; got != tt.reason {
			t.Errorf("Lookup(%d).Reason = %q, want %q", tt.code, got, tt.reason)
		}
	}
}

func TestKnownEntriesAreComplete(t *testing.T) {
	for _, info := range All() {
		name := info.String()
		if !info.Known {
			t.Errorf("%s: Known = false", name)
		}
		if info.Class != info.Code/100 {
			t.Errorf("%s: Class = %d", name, info.Class)
		}
		if info.Reason == "" || info.RFC == "" {
			t.Errorf("%s: empty Reason or RFC", name)
		}
		for field, text := range map[string]string{"Meaning": info.Meaning, "Retry": info.Retry} {
			checkProse(t, name+" "+field, text)
		}
		if len(info.Causes) == 0 {
			t.Errorf("%s: no Causes", name)
		}
		if len(info.Checks) == 0 {
			t.Errorf("%s: no Checks", name)
		}
		for _, c := range info.Causes {
			checkProse(t, name+" cause", c)
		}
		for _, c := range info.Checks {
			checkProse(t, name+" check", c)
		}
	}
}

// checkProse keeps the texts presentable: non-empty, trimmed, single-spaced
// sentences.
func checkProse(t *testing.T, where, text string) {
	t.Helper()
	switch {
	case text == "":
		t.Errorf("%s: empty", where)
	case strings.TrimSpace(text) != text:
		t.Errorf("%s: leading or trailing space in %q", where, text)
	case strings.Contains(text, "  "):
		t.Errorf("%s: double space in %q", where, text)
	case !strings.ContainsAny(text[len(text)-1:], ".?)"):
		t.Errorf("%s: does not end a sentence: %q", where, text)
	}
}

func TestRFC3261SectionsMatchClass(t *testing.T) {
	// RFC 3261 §21.N lists the codes of class N, so a section that
	// disagrees with the code is a typo.
	for _, info := range All() {
		rest, ok := strings.CutPrefix(info.RFC, "RFC 3261 ")
		if !ok {
			continue
		}
		want := "§21." + string(rune('0'+info.Class)) + "."
		if !strings.HasPrefix(rest, want) {
			t.Errorf("%s: RFC = %q, want a section under %s", info, info.RFC, want)
		}
	}
}

func TestLookupUnregisteredCode(t *testing.T) {
	tests := []struct {
		code      int
		class     int
		treatedAs string
	}{
		{499, 4, "400 Bad Request"},
		{431, 4, "400 Bad Request"},
		{150, 1, "183 Session Progress"}, // §8.1.3.2: unknown provisional counts as 183
		{299, 2, "200 OK"},
		{399, 3, "300 Multiple Choices"},
		{599, 5, "500 Server Internal Error"},
		{699, 6, "600 Busy Everywhere"},
	}
	for _, tt := range tests {
		info := Lookup(tt.code)
		if info.Known {
			t.Errorf("Lookup(%d).Known = true", tt.code)
		}
		if info.Code != tt.code || info.Class != tt.class {
			t.Errorf("Lookup(%d) = code %d class %d, want class %d", tt.code, info.Code, info.Class, tt.class)
		}
		if info.Reason != "" {
			t.Errorf("Lookup(%d).Reason = %q, want empty", tt.code, info.Reason)
		}
		if !strings.Contains(info.Meaning, "treat it as "+tt.treatedAs) {
			t.Errorf("Lookup(%d).Meaning does not say it is treated as %s: %q", tt.code, tt.treatedAs, info.Meaning)
		}
		if !strings.Contains(info.Meaning, ClassMeaning(tt.class)) {
			t.Errorf("Lookup(%d).Meaning does not give the class meaning", tt.code)
		}
		if len(info.Causes) == 0 || len(info.Checks) == 0 || info.Retry == "" {
			t.Errorf("Lookup(%d) has empty advice", tt.code)
		}
	}
}

func TestLookupInvalidCode(t *testing.T) {
	for _, code := range []int{-1, 0, 16, 99, 700, 999, 1000} {
		info := Lookup(code)
		if info.Known || info.Class != 0 || info.Code != code {
			t.Errorf("Lookup(%d) = %+v, want unknown class 0", code, info)
		}
		if !strings.Contains(info.Meaning, "not a valid SIP response code") {
			t.Errorf("Lookup(%d).Meaning = %q", code, info.Meaning)
		}
	}
}

func TestLookupReturnsACopy(t *testing.T) {
	info := Lookup(480)
	want := info.Causes[0]
	info.Causes[0] = "changed"
	All()[0].Checks[0] = "changed"
	if got := Lookup(480).Causes[0]; got != want {
		t.Errorf("editing a returned Info changed the table: %q", got)
	}
	if got := Lookup(100).Checks[0]; got == "changed" {
		t.Error("editing All() changed the table")
	}
}

func TestClassNameAndMeaning(t *testing.T) {
	tests := []struct {
		class int
		name  string
	}{
		{1, "Provisional"},
		{2, "Success"},
		{3, "Redirection"},
		{4, "Client error"},
		{5, "Server error"},
		{6, "Global failure"},
		{0, "Invalid"},
		{7, "Invalid"},
	}
	meanings := map[string]bool{}
	for _, tt := range tests {
		if got := ClassName(tt.class); got != tt.name {
			t.Errorf("ClassName(%d) = %q, want %q", tt.class, got, tt.name)
		}
		m := ClassMeaning(tt.class)
		if m == "" {
			t.Errorf("ClassMeaning(%d) is empty", tt.class)
		}
		if tt.class >= 1 && tt.class <= 6 {
			if meanings[m] {
				t.Errorf("ClassMeaning(%d) repeats another class", tt.class)
			}
			meanings[m] = true
		}
	}
}

func TestString(t *testing.T) {
	if got := Lookup(480).String(); got != "480 Temporarily Unavailable" {
		t.Errorf("String() = %q", got)
	}
	if got := Lookup(499).String(); got != "499" {
		t.Errorf("String() for an unregistered code = %q", got)
	}
}

func TestSearch(t *testing.T) {
	tests := []struct {
		query   string
		include []int
		exclude []int
	}{
		{"486", []int{486}, []int{480}},
		{"busy", []int{486, 600}, []int{404}},
		{"BUSY here", []int{486}, []int{404, 603}},
		{"temporarily", []int{302, 480}, []int{404}},
		{"codec", []int{488, 606}, []int{401}},
		{"registration", []int{480}, []int{604}},
		{"  loop  ", []int{482, 483}, []int{100}},
	}
	for _, tt := range tests {
		got := codesOf(Search(tt.query))
		for _, c := range tt.include {
			if !slices.Contains(got, c) {
				t.Errorf("Search(%q) = %v, missing %d", tt.query, got, c)
			}
		}
		for _, c := range tt.exclude {
			if slices.Contains(got, c) {
				t.Errorf("Search(%q) = %v, should not contain %d", tt.query, got, c)
			}
		}
		if !slices.IsSorted(got) {
			t.Errorf("Search(%q) is not sorted: %v", tt.query, got)
		}
	}
	if got := Search("no such words anywhere xyzzy"); len(got) != 0 {
		t.Errorf("Search(nonsense) = %v", codesOf(got))
	}
	if got := Search(""); len(got) != len(ianaCodes) {
		t.Errorf("Search(\"\") returned %d codes, want all %d", len(got), len(ianaCodes))
	}
}

func codesOf(infos []Info) []int {
	var out []int
	for _, info := range infos {
		out = append(out, info.Code)
	}
	return out
}
