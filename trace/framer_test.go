package trace_test

import (
	"strings"
	"testing"

	"github.com/siplens/siplens/trace"
)

func TestStreamFramerCutsChunksIntoMessages(t *testing.T) {
	a := "INVITE sip:b@h SIP/2.0\r\nCall-ID: a\r\nContent-Length: 5\r\n\r\nhello"
	b := "SIP/2.0 200 OK\r\nCall-ID: b\r\nl: 0\r\n\r\n"
	c := "BYE sip:b@h SIP/2.0\r\nCall-ID: c\r\n\r\n" // no Content-Length: empty body
	stream := "\r\n\r\n" + a + "\r\n" + b + c        // keep-alives before and between

	// Every way of cutting the stream in two gives the same three messages.
	for cut := 0; cut <= len(stream); cut++ {
		var f trace.StreamFramer
		var got []string
		for _, m := range f.Write([]byte(stream[:cut])) {
			got = append(got, string(m))
		}
		for _, m := range f.Write([]byte(stream[cut:])) {
			got = append(got, string(m))
		}
		if strings.Join(got, "|") != a+"|"+b+"|"+c || f.Pending() {
			t.Fatalf("cut at %d: got %q (pending %v)", cut, got, f.Pending())
		}
	}
}

func TestStreamFramerWaitsForTheBody(t *testing.T) {
	var f trace.StreamFramer
	if got := f.Write([]byte("MESSAGE sip:b@h SIP/2.0\r\nContent-Length: 10\r\n\r\n12345")); len(got) != 0 || !f.Pending() {
		t.Fatalf("got %q before the body was complete", got)
	}
	if got := f.Write([]byte("67890")); len(got) != 1 || !strings.HasSuffix(string(got[0]), "1234567890") {
		t.Fatalf("got %q", got)
	}
}

func TestStreamFramerGivesUpOnEndlessHeaders(t *testing.T) {
	var f trace.StreamFramer
	f.Write([]byte("INVITE sip:b@h SIP/2.0\r\n"))
	junk := []byte("X-Junk: " + strings.Repeat("a", 1000) + "\r\n")
	for i := 0; i < trace.MaxFrame/len(junk)-1; i++ {
		f.Write(junk)
	}
	if !f.Pending() {
		t.Fatal("dropped a header block below the limit")
	}
	f.Write(junk)
	f.Write(junk)
	if f.Pending() {
		t.Fatal("the framer still holds a header block past MaxFrame")
	}
}
