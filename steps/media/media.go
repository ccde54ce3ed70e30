// Package media checks the session description of an INVITE before it is forwarded: the
// body must be SDP (415 with Accept otherwise), it must parse (400 naming the problem), and
// when a codec policy is set, at least one offered audio or video codec must be allowed
// (488, or 606 when the policy is global). Catching these here spares the callee's phone a
// ring that could only end in failure. See README.md.
package media

import (
	"context"
	"fmt"
	"strings"

	"github.com/emiago/sipgo/sip"
	"github.com/pion/sdp/v3"

	"github.com/siplens/siplens/chain"
)

// Step is the media step.
type Step struct {
	// Codecs is the allowed list of encoding names (PCMU, opus, ...), compared
	// case-insensitively; empty means any codec.
	Codecs []string
	// Global answers 606 Not Acceptable instead of 488: no phone anywhere would accept
	// this offer, because the policy is siplens' own (RFC 3261 21.6.4).
	Global bool
}

func (s *Step) Name() string { return "media" }

// staticNames are the RTP/AVP payload types an offer may use without an rtpmap
// (RFC 3551 table 4).
var staticNames = map[string]string{
	"0": "PCMU", "3": "GSM", "4": "G723", "5": "DVI4", "6": "DVI4", "7": "LPC", "8": "PCMA",
	"9": "G722", "10": "L16", "11": "L16", "12": "QCELP", "13": "CN", "14": "MPA", "15": "G728",
	"16": "DVI4", "17": "DVI4", "18": "G729", "25": "CelB", "26": "JPEG", "28": "nv", "31": "H261",
	"32": "MPV", "33": "MP2T", "34": "H263",
}

// notCodecs are payloads that carry no media of their own: an offer of only these has
// nothing to talk with.
var notCodecs = map[string]bool{"TELEPHONE-EVENT": true, "CN": true, "RED": true, "ULPFEC": true, "RTX": true}

func (s *Step) Handle(_ context.Context, _ chain.ResponseWriter, r *chain.Request) error {
	req := r.SIP
	if req.Method != sip.INVITE || len(req.Body()) == 0 {
		return nil // late offer (the SDP comes in the ACK) or nothing to check
	}
	ct := ""
	if h := req.ContentType(); h != nil {
		ct = strings.ToLower(strings.TrimSpace(strings.Split(h.Value(), ";")[0]))
	}
	if ct != "application/sdp" {
		// RFC 3261 21.4.13: say what we accept.
		return chain.Reject(415, fmt.Sprintf("the INVITE body is %q; siplens accepts only application/sdp", ct),
			sip.NewHeader("Accept", "application/sdp"))
	}
	var desc sdp.SessionDescription
	if err := desc.UnmarshalString(string(req.Body())); err != nil {
		return chain.RejectPhrase(400, "Bad SDP", fmt.Sprintf("the SDP offer does not parse: %v", err),
			sip.NewHeader("Warning", fmt.Sprintf("399 siplens %q", sanitize(err.Error()))))
	}
	if len(s.Codecs) == 0 {
		return nil
	}
	offered, acceptable := s.check(&desc)
	if acceptable {
		return nil
	}
	code := 488
	if s.Global {
		code = 606
	}
	// RFC 3261 20.43, warning 305: incompatible media format.
	return chain.Reject(code, fmt.Sprintf("none of the offered codecs (%s) is allowed (%s)", strings.Join(offered, ", "), strings.Join(s.Codecs, ", ")),
		sip.NewHeader("Warning", fmt.Sprintf("305 siplens \"Incompatible media format: allowed %s\"", strings.Join(s.Codecs, " "))))
}

// check lists the codecs of every active audio or video stream and reports whether one of
// them is allowed.
func (s *Step) check(desc *sdp.SessionDescription) (offered []string, acceptable bool) {
	allowed := map[string]bool{}
	for _, c := range s.Codecs {
		allowed[strings.ToUpper(c)] = true
	}
	for _, m := range desc.MediaDescriptions {
		if m.MediaName.Port.Value == 0 {
			continue // a rejected or disabled stream (RFC 3264 5.1)
		}
		if m.MediaName.Media != "audio" && m.MediaName.Media != "video" {
			continue
		}
		names := map[string]string{}
		for _, a := range m.Attributes {
			if a.Key != "rtpmap" {
				continue
			}
			pt, rest, ok := strings.Cut(a.Value, " ")
			if !ok {
				continue
			}
			name, _, _ := strings.Cut(rest, "/")
			names[pt] = strings.ToUpper(name)
		}
		for _, pt := range m.MediaName.Formats {
			name, ok := names[pt]
			if !ok {
				name, ok = staticNames[pt]
			}
			if !ok {
				name = "payload " + pt
			}
			offered = append(offered, name)
			if allowed[name] && !notCodecs[name] {
				acceptable = true
			}
		}
	}
	return offered, acceptable
}

func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == '"' {
			return ' '
		}
		return r
	}, s)
}
