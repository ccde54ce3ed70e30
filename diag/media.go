package diag

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/pion/sdp/v3"

	"github.com/siplens/siplens/trace"
)

// problem is one reason an answered call may have no audio.
type problem struct {
	text     string
	evidence []Evidence
	checks   []string
}

// media is what one SDP body says about its audio stream.
type media struct {
	msg       *msg
	ip        string // where it wants to receive audio (c=)
	port      int
	codecs    []string // encoding names, upper case, without telephone-event and comfort noise
	direction string
}

// staticPayloads are the RTP payload types that need no rtpmap (RFC 3551).
var staticPayloads = map[string]string{
	"0": "PCMU", "3": "GSM", "4": "G723", "8": "PCMA", "9": "G722", "13": "CN", "18": "G729",
}

// readMedia reads the first audio stream of a message's SDP body.
func readMedia(m *msg) (*media, error) {
	if m == nil || !m.p.HasSDP() {
		return nil, nil
	}
	var sd sdp.SessionDescription
	if err := sd.Unmarshal(m.p.Body); err != nil {
		return nil, fmt.Errorf("SDP of %s: %w", m.p.Label(), err)
	}
	var md *sdp.MediaDescription
	for _, d := range sd.MediaDescriptions {
		if d.MediaName.Media == "audio" {
			md = d
			break
		}
	}
	if md == nil {
		return nil, nil
	}
	out := &media{msg: m, port: md.MediaName.Port.Value, direction: "sendrecv"}
	switch {
	case md.ConnectionInformation != nil && md.ConnectionInformation.Address != nil:
		out.ip = md.ConnectionInformation.Address.Address
	case sd.ConnectionInformation != nil && sd.ConnectionInformation.Address != nil:
		out.ip = sd.ConnectionInformation.Address.Address
	}
	rtpmap := map[string]string{}
	for _, a := range md.Attributes {
		if a.Key == "rtpmap" {
			pt, enc, _ := strings.Cut(a.Value, " ")
			name, _, _ := strings.Cut(enc, "/")
			rtpmap[pt] = strings.ToUpper(name)
		}
	}
	for _, f := range md.MediaName.Formats {
		name := rtpmap[f]
		if name == "" {
			name = staticPayloads[f]
		}
		if name == "" {
			name = "payload " + f
		}
		if name == "TELEPHONE-EVENT" || name == "CN" {
			continue
		}
		out.codecs = append(out.codecs, name)
	}
	for _, dir := range []string{"sendrecv", "sendonly", "recvonly", "inactive"} {
		if _, ok := sd.Attribute(dir); ok {
			out.direction = dir
		}
	}
	for _, dir := range []string{"sendrecv", "sendonly", "recvonly", "inactive"} {
		if _, ok := md.Attribute(dir); ok {
			out.direction = dir // the media level overrides the session level
		}
	}
	return out, nil
}

// mediaProblems looks for the usual reasons of "no audio after 200 OK", the worst first:
// the call will drop (no ACK), no codec in common, audio switched off, a private address.
func (x *explainer) mediaProblems() []problem {
	a := x.a
	var out []problem
	if p := x.missingACK(); p != nil {
		out = append(out, *p)
	}
	b := x.producerBranch()
	answerMsg := a.final
	if b != nil && b.final != nil {
		answerMsg = b.final // the callee's own 200, with the address it came from
	}
	offerMsg := a.req
	late := !a.req.p.HasSDP()
	if late {
		// A late offer: the 200 carries the offer and the caller's ACK the answer.
		offerMsg = answerMsg
		answerMsg = nil
		if len(a.acks) > 0 {
			answerMsg = a.acks[0]
		}
	}
	offer, errOffer := readMedia(offerMsg)
	answer, errAnswer := readMedia(answerMsg)
	for _, err := range []error{errOffer, errAnswer} {
		if err != nil {
			out = append(out, problem{
				text:     fmt.Sprintf("The %s could not be read, so the media cannot be checked.", err),
				evidence: []Evidence{{Message: -1, Text: err.Error()}},
				checks:   []string{"Check the SDP body of the offer and the answer: a malformed SDP leaves the other side guessing."},
			})
		}
	}
	if offer == nil || answer == nil {
		return out
	}
	if p := codecProblem(offer, answer); p != nil {
		out = append(out, *p)
	}
	if p := directionProblem(offer, answer); p != nil {
		out = append(out, *p)
	}
	// In a late offer the callee's 200 carries the offer and the caller's ACK the answer.
	for _, side := range []struct {
		m          *media
		fromCaller bool
	}{{offer, !late}, {answer, late}} {
		if p := natProblem(side.m, side.fromCaller); p != nil {
			out = append(out, *p)
		}
	}
	return out
}

// missingACK: the caller never acknowledged the 2xx (or siplens did not pass the ACK
// on). The callee retransmits its 200 for 64*T1 = 32 s and then ends the call (RFC 3261
// 13.3.1.4), so the call drops after half a minute.
func (x *explainer) missingACK() *problem {
	a := x.a
	var bye *msg
	for _, m := range x.an.msgs {
		if m.isRequest("BYE") && !m.retrans && m.time().After(a.final.time()) {
			bye = m
			break
		}
	}
	last := x.an.msgs[len(x.an.msgs)-1]
	// How often the callee sent its 2xx: it resends it until the ACK comes. siplens may
	// have passed fewer copies on than it received.
	b := x.producerBranch()
	calleeCopies := 0
	if b != nil && b.final != nil && b.final.p.Code == a.final.p.Code {
		calleeCopies = b.final.copies
	}
	// Only a record that goes on after the 200 can show that no ACK came.
	if a.finalCopies < 2 && calleeCopies < 2 && bye == nil && last.time().Sub(a.final.time()) < time.Second {
		return nil
	}
	p := &problem{checks: []string{}}
	switch {
	case len(a.acks) == 0:
		if calleeCopies > a.finalCopies {
			p.text = fmt.Sprintf("The caller never acknowledged the 200 OK: the callee sent it %s, siplens passed it on %s, and no ACK came back, so the callee gives up after 32 s and hangs up.",
				times(calleeCopies), times(a.finalCopies))
			p.evidence = append(p.evidence, Evidence{Message: b.final.index, Text: fmt.Sprintf("%s from %s %s: the callee kept resending it, waiting for the ACK", b.final.p.Label(), b.final.m.From(), times(calleeCopies))})
		} else {
			p.text = fmt.Sprintf("The caller never acknowledged the 200 OK: siplens sent it %s and no ACK came back, so the callee gives up after 32 s and hangs up.", times(a.finalCopies))
		}
		p.evidence = append(p.evidence, Evidence{Message: a.final.index, Text: fmt.Sprintf("%s sent to %s %s, no ACK received", a.final.p.Label(), a.final.m.To(), times(a.finalCopies))})
		p.checks = append(p.checks,
			"Check that the 200 OK reaches the caller at "+a.final.m.To()+" (NAT, firewall, a wrong Via or rport).",
			"Check the Contact and Record-Route of the 200: the caller sends its ACK there.")
	case !a.ackRelayed():
		p.text = "The caller's ACK reached siplens but was not passed on to the callee, so the callee keeps resending its 200 OK and hangs up after 32 s."
		p.evidence = append(p.evidence, Evidence{Message: a.acks[0].index, Text: fmt.Sprintf("ACK from %s, not forwarded", a.acks[0].m.From())})
		p.checks = append(p.checks, "Check the ACK's Route header: it must name siplens (Record-Route) for siplens to relay it.")
	default:
		return nil
	}
	if bye != nil {
		p.evidence = append(p.evidence, Evidence{Message: bye.index, Text: fmt.Sprintf("BYE from %s %s after the 200 OK", bye.m.From(), seconds(bye.time().Sub(a.final.time())))})
	}
	return p
}

func codecProblem(offer, answer *media) *problem {
	if answer.port == 0 {
		return &problem{
			text:     "The callee refused the audio stream: its answer has port 0 on the audio line.",
			evidence: []Evidence{{Message: answer.msg.index, Text: answer.msg.p.Label() + ": m=audio 0 (stream rejected)"}},
			checks:   []string{"Check which codecs the callee's phone allows; it found none it could use in the offer."},
		}
	}
	for _, c := range answer.codecs {
		if slices.Contains(offer.codecs, c) {
			return nil
		}
	}
	return &problem{
		text: fmt.Sprintf("There is no codec in common: the offer has %s and the answer %s.", list(offer.codecs), list(answer.codecs)),
		evidence: []Evidence{
			{Message: offer.msg.index, Text: "offer codecs: " + list(offer.codecs)},
			{Message: answer.msg.index, Text: "answer codecs: " + list(answer.codecs)},
		},
		checks: []string{"Enable a common codec (PCMU or PCMA are the usual baseline) on both phones."},
	}
}

func list(codecs []string) string {
	if len(codecs) == 0 {
		return "no audio codec"
	}
	return strings.Join(codecs, ", ")
}

func directionProblem(offer, answer *media) *problem {
	o, a := offer.direction, answer.direction
	ev := []Evidence{
		{Message: offer.msg.index, Text: "offer: a=" + o},
		{Message: answer.msg.index, Text: "answer: a=" + a},
	}
	switch {
	case o == "inactive" || a == "inactive":
		side := "offer"
		if a == "inactive" {
			side = "answer"
		}
		return &problem{text: fmt.Sprintf("Audio is switched off: the %s says a=inactive, so neither side sends anything.", side),
			evidence: ev, checks: []string{"Check why the phone puts the stream on hold (a=inactive) at the start of the call."}}
	case o == a && (o == "sendonly" || o == "recvonly"):
		return &problem{text: fmt.Sprintf("Both sides say a=%s, so audio cannot flow either way.", o),
			evidence: ev, checks: []string{"Check the direction attributes the phones put in their SDP; one of them answers wrongly."}}
	case o != "sendrecv" || a != "sendrecv":
		return &problem{text: fmt.Sprintf("The stream is one-way (offer a=%s, answer a=%s): the call is on hold, and only one side hears the other.", o, a),
			evidence: ev, checks: []string{"Check whether a phone put the call on hold."}}
	}
	return nil
}

// natProblem: an SDP that asks for audio at a private address while its signalling came
// from another address is a phone behind NAT that does not know it; the other side's
// audio goes to an address it cannot reach.
func natProblem(m *media, fromCaller bool) *problem {
	ip, err := netip.ParseAddr(m.ip)
	if err != nil || !private(ip) || m.msg.m.Direction != trace.In {
		return nil // (only a message as it arrived shows where its sender really is)
	}
	host := m.msg.m.From()
	if h, _, err := splitHostPort(host); err == nil {
		host = h
	}
	if host == ip.String() {
		return nil
	}
	who, other := "callee", "caller"
	if fromCaller {
		who, other = "caller", "callee"
	}
	return &problem{
		text: fmt.Sprintf("The %s's SDP asks for audio at %s, a private address, while its signalling came from %s: it is behind NAT, and the %s's audio sent to %s will not arrive.",
			who, m.ip, host, other, m.ip),
		evidence: []Evidence{{Message: m.msg.index, Text: fmt.Sprintf("%s from %s has c=IN IP4 %s (port %d)", m.msg.p.Label(), m.msg.m.From(), m.ip, m.port)}},
		checks: []string{
			fmt.Sprintf("Turn on STUN, ICE or the NAT setting of the %s's phone so that its SDP carries its public address.", who),
			"Or put a media relay (RTP proxy) in the path for phones behind NAT.",
		},
	}
}

// private reports addresses that cannot be reached from the Internet: RFC 1918, carrier
// grade NAT (RFC 6598), link-local and unique local.
func private(ip netip.Addr) bool {
	if ip.IsPrivate() || ip.IsLinkLocalUnicast() {
		return true
	}
	return netip.MustParsePrefix("100.64.0.0/10").Contains(ip)
}

func splitHostPort(hp string) (string, int, error) {
	ap, err := netip.ParseAddrPort(hp)
	if err != nil {
		return "", 0, err
	}
	return ap.Addr().String(), int(ap.Port()), nil
}
