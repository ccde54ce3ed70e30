package chain

import (
	"hash/fnv"
	"strconv"
	"strings"

	"github.com/emiago/sipgo/sip"
)

// BranchPrefix starts every branch siplens puts in its Via: the RFC 3261 magic cookie and
// our own marker.
const BranchPrefix = sip.RFC3261BranchMagicCookie + ".sl"

// NewBranch makes the branch for a request siplens forwards. Its middle part is a hash of
// the fields that change when a request spirals legitimately (RFC 3261 16.6 step 8): when
// the request comes back with one of our Vias carrying the same hash, nothing changed and
// it is a loop (16.3 step 4). The last part makes each branch unique.
func NewBranch(req *sip.Request) string {
	return BranchPrefix + LoopHash(req) + "." + sip.GenerateTagN(10)
}

// LoopHash hashes Request-URI, From tag, To tag, Call-ID, CSeq number, Proxy-Require,
// Proxy-Authorization and Route of the request as it arrived.
func LoopHash(req *sip.Request) string {
	h := fnv.New64a()
	write := func(s string) { h.Write([]byte(s)); h.Write([]byte{0}) }
	write(req.Recipient.String())
	if f := req.From(); f != nil {
		t, _ := f.Params.Get("tag")
		write(t)
	}
	if t := req.To(); t != nil {
		tag, _ := t.Params.Get("tag")
		write(tag)
	}
	if c := req.CallID(); c != nil {
		write(c.Value())
	}
	if c := req.CSeq(); c != nil {
		write(strconv.FormatUint(uint64(c.SeqNo), 10))
	}
	for _, name := range []string{"Proxy-Require", "Proxy-Authorization", "Route"} {
		for hdr := range Named(req, name) {
			write(hdr.Value())
		}
	}
	return strconv.FormatUint(h.Sum64(), 36)
}

// LoopHashOf extracts the loop hash from a branch siplens made, or "".
func LoopHashOf(branch string) string {
	rest, ok := strings.CutPrefix(branch, BranchPrefix)
	if !ok {
		return ""
	}
	hash, _, _ := strings.Cut(rest, ".")
	return hash
}
