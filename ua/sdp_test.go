package ua

import (
	"errors"
	"strings"
	"testing"
)

func TestParseCodecs(t *testing.T) {
	for _, c := range []struct {
		in, want, err string
	}{
		{in: "PCMU,PCMA,opus", want: "PCMU,PCMA,opus"},
		{in: "pcma, opus ,PCMU", want: "PCMA,opus,PCMU"},
		{in: "PCMU,PCMU", want: "PCMU"},
		{in: "G722,telephone-event", want: "G722,telephone-event"},
		{in: "G729", err: `unknown codec "G729"`},
		{in: "", err: "no codec given"},
		{in: "telephone-event", err: "carries no audio"},
	} {
		got, err := ParseCodecs(c.in)
		switch {
		case c.err != "":
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("ParseCodecs(%q) error %v, want %q", c.in, err, c.err)
			}
		case err != nil:
			t.Errorf("ParseCodecs(%q): %v", c.in, err)
		case CodecNames(got) != c.want:
			t.Errorf("ParseCodecs(%q) = %s, want %s", c.in, CodecNames(got), c.want)
		}
	}
}

func TestBuildOffer(t *testing.T) {
	cs, _ := ParseCodecs("PCMU,PCMA,opus,telephone-event")
	body, err := BuildOffer("192.0.2.7", 40000, cs)
	if err != nil {
		t.Fatal(err)
	}
	text := string(body)
	for _, want := range []string{
		"v=0\r\n", "c=IN IP4 192.0.2.7\r\n", "t=0 0\r\n",
		"m=audio 40000 RTP/AVP 0 8 111 101\r\n",
		"a=rtpmap:0 PCMU/8000\r\n", "a=rtpmap:8 PCMA/8000\r\n",
		"a=rtpmap:111 opus/48000/2\r\n", "a=fmtp:111 useinbandfec=1\r\n",
		"a=rtpmap:101 telephone-event/8000\r\n", "a=fmtp:101 0-16\r\n", "a=sendrecv\r\n",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("offer lacks %q:\n%s", want, text)
		}
	}
	st, err := ParseAudio(body)
	if err != nil || st.Addr != "192.0.2.7:40000" || CodecNames(st.Codecs) != "PCMU,PCMA,opus,telephone-event" || st.Direction != "sendrecv" {
		t.Fatalf("our own offer reads back as %+v, %v", st, err)
	}
	if _, err := BuildOffer("192.0.2.7", 1, nil); err == nil {
		t.Fatal("an offer without codecs was built")
	}
	v6, _ := BuildOffer("2001:db8::1", 4000, cs[:1])
	if !strings.Contains(string(v6), "c=IN IP6 2001:db8::1") {
		t.Fatalf("IPv6 offer:\n%s", v6)
	}
}

// offer builds an SDP text from lines.
func offer(lines ...string) []byte {
	return []byte(strings.Join(lines, "\r\n") + "\r\n")
}

var baseOffer = []string{"v=0", "o=- 1 1 IN IP4 198.51.100.1", "s=-", "c=IN IP4 198.51.100.1", "t=0 0"}

func TestAnswer(t *testing.T) {
	ours, _ := ParseCodecs("PCMU,PCMA,opus")
	for _, c := range []struct {
		name    string
		offer   []string
		chosen  string // accepted codecs, "" for an error
		err     error
		contain []string
		lacks   []string
	}{
		{
			name:    "static types without rtpmap, offerer's order kept",
			offer:   []string{"m=audio 5000 RTP/AVP 8 0 18"},
			chosen:  "PCMA,PCMU",
			contain: []string{"m=audio 6000 RTP/AVP 8 0\r\n", "a=rtpmap:8 PCMA/8000", "a=sendrecv"},
			lacks:   []string{"G729"},
		},
		{
			name:    "dynamic opus keeps the offerer's payload type",
			offer:   []string{"m=audio 5000 RTP/AVP 96 101", "a=rtpmap:96 opus/48000/2", "a=fmtp:96 useinbandfec=1", "a=rtpmap:101 telephone-event/8000"},
			chosen:  "opus",
			contain: []string{"m=audio 6000 RTP/AVP 96\r\n", "a=rtpmap:96 opus/48000/2", "a=fmtp:96 useinbandfec=1"},
			lacks:   []string{"telephone-event"},
		},
		{
			name:    "sendonly offer gets recvonly",
			offer:   []string{"m=audio 5000 RTP/AVP 0", "a=sendonly"},
			chosen:  "PCMU",
			contain: []string{"a=recvonly"},
		},
		{
			name:    "video refused with port 0, audio accepted",
			offer:   []string{"m=video 5002 RTP/AVP 96", "a=rtpmap:96 H264/90000", "m=audio 5000 RTP/AVP 0"},
			chosen:  "PCMU",
			contain: []string{"m=video 0 RTP/AVP 96\r\n", "m=audio 6000 RTP/AVP 0\r\n"},
		},
		{
			name:  "no common codec",
			offer: []string{"m=audio 5000 RTP/AVP 18 9", "a=rtpmap:18 G729/8000"},
			err:   ErrNoCommonCodec,
		},
		{
			name:  "only telephone-event in common",
			offer: []string{"m=audio 5000 RTP/AVP 101", "a=rtpmap:101 telephone-event/8000"},
			err:   ErrNoCommonCodec,
		},
		{
			name:  "SRTP profile is not plain RTP",
			offer: []string{"m=audio 5000 RTP/SAVP 0"},
			err:   ErrNoCommonCodec,
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			body, chosen, err := Answer(offer(append(append([]string{}, baseOffer...), c.offer...)...), "192.0.2.9", 6000, ours)
			if c.err != nil {
				if !errors.Is(err, c.err) {
					t.Fatalf("error %v, want %v", err, c.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if CodecNames(chosen) != c.chosen {
				t.Errorf("chosen %s, want %s", CodecNames(chosen), c.chosen)
			}
			for _, w := range c.contain {
				if !strings.Contains(string(body), w) {
					t.Errorf("answer lacks %q:\n%s", w, body)
				}
			}
			for _, w := range c.lacks {
				if strings.Contains(string(body), w) {
					t.Errorf("answer has %q:\n%s", w, body)
				}
			}
			if !strings.Contains(string(body), "c=IN IP4 192.0.2.9") {
				t.Errorf("answer does not name our address:\n%s", body)
			}
		})
	}
	if _, _, err := Answer([]byte("not sdp"), "192.0.2.9", 6000, ours); err == nil {
		t.Fatal("garbage accepted as an offer")
	}
}
