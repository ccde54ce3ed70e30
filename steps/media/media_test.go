package media_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/emiago/sipgo/sip"

	"github.com/siplens/siplens/chain"
	"github.com/siplens/siplens/steps/media"
)

const offer = "v=0\r\no=- 1 1 IN IP4 192.0.2.1\r\ns=-\r\nc=IN IP4 192.0.2.1\r\nt=0 0\r\n"

func invite(t *testing.T, contentType, body string) *sip.Request {
	t.Helper()
	raw := "INVITE sip:bob@example.com SIP/2.0\r\nVia: SIP/2.0/UDP 192.0.2.1;branch=z9hG4bKx\r\nFrom: <sip:a@example.com>;tag=1\r\nTo: <sip:bob@example.com>\r\nCall-ID: c\r\nCSeq: 1 INVITE\r\n"
	if contentType != "" {
		raw += "Content-Type: " + contentType + "\r\n"
	}
	raw += "Content-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + body
	msg, err := sip.ParseMessage([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	return msg.(*sip.Request)
}

func TestMedia(t *testing.T) {
	allowed := []string{"PCMU", "PCMA", "opus"}
	tests := []struct {
		name        string
		codecs      []string
		global      bool
		contentType string
		body        string
		code        int
		reason      string
	}{
		{"no body: late offer", allowed, false, "", "", 0, ""},
		{"static PCMU", allowed, false, "application/sdp", offer + "m=audio 4000 RTP/AVP 0 101\r\na=rtpmap:101 telephone-event/8000\r\n", 0, ""},
		{"opus by rtpmap, any case", allowed, false, "application/sdp; charset=utf-8", offer + "m=audio 4000 RTP/AVP 111\r\na=rtpmap:111 OPUS/48000/2\r\n", 0, ""},
		{"only G729", allowed, false, "application/sdp", offer + "m=audio 4000 RTP/AVP 18\r\n", 488, "G729"},
		{"only telephone-event", allowed, false, "application/sdp", offer + "m=audio 4000 RTP/AVP 101\r\na=rtpmap:101 telephone-event/8000\r\n", 488, "TELEPHONE-EVENT"},
		{"allowed codec only in a disabled stream", allowed, false, "application/sdp", offer + "m=audio 0 RTP/AVP 0\r\nm=audio 4002 RTP/AVP 18\r\n", 488, ""},
		{"global policy", allowed, true, "application/sdp", offer + "m=audio 4000 RTP/AVP 18\r\n", 606, ""},
		{"no policy accepts anything", nil, false, "application/sdp", offer + "m=audio 4000 RTP/AVP 18\r\n", 0, ""},
		{"not SDP", allowed, false, "text/plain", "hello", 415, "text/plain"},
		{"broken SDP", allowed, false, "application/sdp", "this is not sdp", 400, "does not parse"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			step := &media.Step{Codecs: tt.codecs, Global: tt.global}
			req := invite(t, tt.contentType, tt.body)
			err := step.Handle(context.Background(), chain.NewWriter(req, &chain.Recorder{}), &chain.Request{SIP: req})
			if tt.code == 0 {
				if err != nil {
					t.Fatalf("want pass, got %v", err)
				}
				return
			}
			var rej *chain.Error
			if !errors.As(err, &rej) || rej.Code != tt.code || !strings.Contains(rej.Reason, tt.reason) {
				t.Fatalf("got %v, want %d with %q", err, tt.code, tt.reason)
			}
			switch tt.code {
			case 415:
				if len(rej.Headers) != 1 || rej.Headers[0].Name() != "Accept" {
					t.Fatalf("415 without Accept: %v", rej.Headers)
				}
			case 488, 606:
				if len(rej.Headers) != 1 || !strings.HasPrefix(rej.Headers[0].Value(), "305 ") {
					t.Fatalf("%d without Warning 305: %v", tt.code, rej.Headers)
				}
			}
		})
	}
}
