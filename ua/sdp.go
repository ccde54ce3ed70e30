package ua

import (
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/pion/sdp/v3"
)

// Codec is an RTP payload format the phone can offer or accept.
type Codec struct {
	Name     string // encoding name as in a=rtpmap ("PCMU", "opus")
	PT       uint8  // payload type we offer it with
	Rate     uint32 // clock rate
	Channels string // encoding parameters ("2" for opus), "" if none
	Fmtp     string // a=fmtp parameters we offer, "" if none
}

func (c Codec) rtpmap() string {
	s := fmt.Sprintf("%d %s/%d", c.PT, c.Name, c.Rate)
	if c.Channels != "" {
		s += "/" + c.Channels
	}
	return s
}

// knownCodecs are the payload formats --codecs can name. The static payload types are
// those of RFC 3551; opus and telephone-event use the dynamic types most phones use.
var knownCodecs = []Codec{
	{Name: "PCMU", PT: 0, Rate: 8000},
	{Name: "PCMA", PT: 8, Rate: 8000},
	{Name: "G722", PT: 9, Rate: 8000},
	{Name: "opus", PT: 111, Rate: 48000, Channels: "2", Fmtp: "useinbandfec=1"},
	{Name: "telephone-event", PT: 101, Rate: 8000, Fmtp: "0-16"},
}

// staticPT are the payload types that need no a=rtpmap (RFC 3551 table 4).
var staticPT = map[uint8]Codec{
	0:  {Name: "PCMU", PT: 0, Rate: 8000},
	3:  {Name: "GSM", PT: 3, Rate: 8000},
	4:  {Name: "G723", PT: 4, Rate: 8000},
	8:  {Name: "PCMA", PT: 8, Rate: 8000},
	9:  {Name: "G722", PT: 9, Rate: 8000},
	18: {Name: "G729", PT: 18, Rate: 8000},
}

// DefaultCodecs is the --codecs default.
const DefaultCodecs = "PCMU,PCMA,opus"

// ParseCodecs parses a comma-separated list of codec names such as "PCMU,PCMA,opus"
// (case does not matter). The order is the order of preference.
func ParseCodecs(list string) ([]Codec, error) {
	var out []Codec
	seen := map[string]bool{}
	for _, name := range strings.Split(list, ",") {
		name = strings.TrimSpace(name)
		if name == "" {
			continue
		}
		var found *Codec
		for i := range knownCodecs {
			if strings.EqualFold(knownCodecs[i].Name, name) {
				found = &knownCodecs[i]
				break
			}
		}
		if found == nil {
			var names []string
			for _, c := range knownCodecs {
				names = append(names, c.Name)
			}
			return nil, fmt.Errorf("unknown codec %q (known: %s)", name, strings.Join(names, ", "))
		}
		if seen[strings.ToLower(found.Name)] {
			continue
		}
		seen[strings.ToLower(found.Name)] = true
		out = append(out, *found)
	}
	if len(out) == 0 {
		return nil, errors.New("no codec given (e.g. --codecs PCMU,PCMA,opus)")
	}
	onlyEvents := true
	for _, c := range out {
		if !strings.EqualFold(c.Name, "telephone-event") {
			onlyEvents = false
		}
	}
	if onlyEvents {
		return nil, errors.New("telephone-event alone carries no audio: add an audio codec such as PCMU")
	}
	return out, nil
}

// CodecNames lists the names of codecs, comma-separated.
func CodecNames(cs []Codec) string {
	var names []string
	for _, c := range cs {
		names = append(names, c.Name)
	}
	return strings.Join(names, ",")
}

func newSessionID() uint64 {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return binary.BigEndian.Uint64(b[:]) >> 1 // RFC 4566: a numeric value that fits in 63 bits
}

func addrType(ip string) string {
	if p := net.ParseIP(ip); p != nil && p.To4() == nil {
		return "IP6"
	}
	return "IP4"
}

func session(ip string) *sdp.SessionDescription {
	id := newSessionID()
	return &sdp.SessionDescription{
		Version: 0,
		Origin: sdp.Origin{Username: "siplens", SessionID: id, SessionVersion: id,
			NetworkType: "IN", AddressType: addrType(ip), UnicastAddress: ip},
		SessionName: "siplens",
		ConnectionInformation: &sdp.ConnectionInformation{NetworkType: "IN", AddressType: addrType(ip),
			Address: &sdp.Address{Address: ip}},
		TimeDescriptions: []sdp.TimeDescription{{Timing: sdp.Timing{}}},
	}
}

// BuildOffer makes an SDP offer (RFC 3264 5) for one audio stream at ip:port with codecs in
// order of preference.
func BuildOffer(ip string, port int, codecs []Codec) ([]byte, error) {
	if len(codecs) == 0 {
		return nil, errors.New("sdp: no codecs to offer")
	}
	s := session(ip)
	md := &sdp.MediaDescription{MediaName: sdp.MediaName{Media: "audio", Port: sdp.RangedPort{Value: port}, Protos: []string{"RTP", "AVP"}}}
	for _, c := range codecs {
		pt := strconv.Itoa(int(c.PT))
		md.MediaName.Formats = append(md.MediaName.Formats, pt)
		md.Attributes = append(md.Attributes, sdp.NewAttribute("rtpmap", c.rtpmap()))
		if c.Fmtp != "" {
			md.Attributes = append(md.Attributes, sdp.NewAttribute("fmtp", pt+" "+c.Fmtp))
		}
	}
	md.Attributes = append(md.Attributes, sdp.NewPropertyAttribute("sendrecv"))
	s.MediaDescriptions = []*sdp.MediaDescription{md}
	return s.Marshal()
}

// Stream is what an SDP body says about one audio stream.
type Stream struct {
	Addr      string  // "ip:port" where the peer wants RTP; port 0 means the stream was refused
	Codecs    []Codec // payload formats, in the order listed, with the peer's payload types
	Direction string  // sendrecv, sendonly, recvonly or inactive
}

func (s Stream) String() string {
	if strings.HasSuffix(s.Addr, ":0") {
		return "audio refused (port 0)"
	}
	return fmt.Sprintf("audio %s at %s (%s)", CodecNames(s.Codecs), s.Addr, s.Direction)
}

// ParseAudio parses an SDP body and describes its first audio stream.
func ParseAudio(body []byte) (Stream, error) {
	var s sdp.SessionDescription
	if err := s.Unmarshal(body); err != nil {
		return Stream{}, fmt.Errorf("sdp: %w", err)
	}
	for _, md := range s.MediaDescriptions {
		if md.MediaName.Media == "audio" {
			return describe(&s, md), nil
		}
	}
	return Stream{}, errors.New("sdp: no audio stream (m=audio)")
}

func describe(s *sdp.SessionDescription, md *sdp.MediaDescription) Stream {
	ip := ""
	if md.ConnectionInformation != nil && md.ConnectionInformation.Address != nil {
		ip = md.ConnectionInformation.Address.Address
	} else if s.ConnectionInformation != nil && s.ConnectionInformation.Address != nil {
		ip = s.ConnectionInformation.Address.Address
	}
	st := Stream{Addr: net.JoinHostPort(ip, strconv.Itoa(md.MediaName.Port.Value)), Codecs: mediaCodecs(md), Direction: direction(s, md)}
	return st
}

func direction(s *sdp.SessionDescription, md *sdp.MediaDescription) string {
	for _, d := range []string{"sendrecv", "sendonly", "recvonly", "inactive"} {
		if _, ok := md.Attribute(d); ok {
			return d
		}
	}
	for _, d := range []string{"sendrecv", "sendonly", "recvonly", "inactive"} {
		if _, ok := s.Attribute(d); ok {
			return d
		}
	}
	return "sendrecv" // RFC 4566 6: the default
}

// mediaCodecs lists the payload formats of one m= line with what a=rtpmap and a=fmtp say
// about each (static types need no rtpmap).
func mediaCodecs(md *sdp.MediaDescription) []Codec {
	byPT := map[string]Codec{}
	for _, a := range md.Attributes {
		switch a.Key {
		case "rtpmap":
			pt, enc, ok := strings.Cut(a.Value, " ")
			if !ok {
				continue
			}
			parts := strings.Split(enc, "/")
			c := byPT[pt]
			c.Name = parts[0]
			if len(parts) > 1 {
				r, _ := strconv.ParseUint(parts[1], 10, 32)
				c.Rate = uint32(r)
			}
			if len(parts) > 2 {
				c.Channels = parts[2]
			}
			byPT[pt] = c
		case "fmtp":
			pt, params, ok := strings.Cut(a.Value, " ")
			if !ok {
				continue
			}
			c := byPT[pt]
			c.Fmtp = params
			byPT[pt] = c
		}
	}
	var out []Codec
	for _, f := range md.MediaName.Formats {
		n, err := strconv.ParseUint(f, 10, 8)
		if err != nil {
			continue
		}
		c, ok := byPT[f]
		if !ok || c.Name == "" {
			st, isStatic := staticPT[uint8(n)]
			if !isStatic {
				c.Name = "PT" + f // a dynamic type without rtpmap: unusable, but listed
			} else {
				st.Fmtp = c.Fmtp
				c = st
			}
		}
		c.PT = uint8(n)
		out = append(out, c)
	}
	return out
}

// ErrNoCommonCodec is returned by Answer when no offered audio format is acceptable: the
// answer to such an INVITE is 488 Not Acceptable Here (RFC 3261 13.3.1.3).
var ErrNoCommonCodec = errors.New("no common codec")

func sameCodec(a, b Codec) bool {
	if !strings.EqualFold(a.Name, b.Name) || a.Rate != b.Rate {
		return false
	}
	return true
}

// Answer builds the SDP answer (RFC 3264 6) to offer for a phone at ip:port that supports
// ours. Every offered m= line gets one in the answer: the first audio stream that has a
// common codec is accepted with the offered payload types, in the offerer's order; every
// other stream is refused with port 0. It returns the accepted codecs.
func Answer(offer []byte, ip string, port int, ours []Codec) ([]byte, []Codec, error) {
	var o sdp.SessionDescription
	if err := o.Unmarshal(offer); err != nil {
		return nil, nil, fmt.Errorf("sdp offer: %w", err)
	}
	if len(o.MediaDescriptions) == 0 {
		return nil, nil, errors.New("sdp offer has no m= line")
	}
	a := session(ip)
	var chosen []Codec
	accepted := false
	for _, md := range o.MediaDescriptions {
		out := &sdp.MediaDescription{MediaName: sdp.MediaName{Media: md.MediaName.Media, Protos: md.MediaName.Protos}}
		var common []Codec
		if !accepted && md.MediaName.Media == "audio" && md.MediaName.Port.Value != 0 && strings.Join(md.MediaName.Protos, "/") == "RTP/AVP" {
			for _, oc := range mediaCodecs(md) {
				for _, c := range ours {
					if sameCodec(oc, c) {
						common = append(common, oc)
						break
					}
				}
			}
		}
		audio := false
		for _, c := range common {
			if !strings.EqualFold(c.Name, "telephone-event") {
				audio = true
			}
		}
		if !audio {
			// RFC 3264 6: refuse the stream with port 0, listing at least one format.
			out.MediaName.Formats = md.MediaName.Formats[:min(1, len(md.MediaName.Formats))]
			a.MediaDescriptions = append(a.MediaDescriptions, out)
			continue
		}
		accepted = true
		chosen = common
		out.MediaName.Port = sdp.RangedPort{Value: port}
		for _, c := range common {
			pt := strconv.Itoa(int(c.PT))
			out.MediaName.Formats = append(out.MediaName.Formats, pt)
			out.Attributes = append(out.Attributes, sdp.NewAttribute("rtpmap", c.rtpmap()))
			if c.Fmtp != "" {
				out.Attributes = append(out.Attributes, sdp.NewAttribute("fmtp", pt+" "+c.Fmtp))
			}
		}
		out.Attributes = append(out.Attributes, sdp.NewPropertyAttribute(answerDirection(direction(&o, md))))
		a.MediaDescriptions = append(a.MediaDescriptions, out)
	}
	if !accepted {
		return nil, nil, fmt.Errorf("%w: offered %s, we support %s", ErrNoCommonCodec, offeredNames(&o), CodecNames(ours))
	}
	body, err := a.Marshal()
	return body, chosen, err
}

func offeredNames(o *sdp.SessionDescription) string {
	var parts []string
	for _, md := range o.MediaDescriptions {
		parts = append(parts, md.MediaName.Media+" "+CodecNames(mediaCodecs(md)))
	}
	return strings.Join(parts, "; ")
}

// answerDirection mirrors the offered direction (RFC 3264 6.1).
func answerDirection(offered string) string {
	switch offered {
	case "sendonly":
		return "recvonly"
	case "recvonly":
		return "sendonly"
	case "inactive":
		return "inactive"
	}
	return "sendrecv"
}
