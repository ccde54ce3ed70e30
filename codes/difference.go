package codes

import (
	"fmt"
	"strings"
)

// codePair is an unordered pair of codes: the smaller one is always first,
// so one entry in pairDifferences answers both Difference(a, b) and
// Difference(b, a).
type codePair struct{ low, high int }

func pairOf(a, b int) codePair {
	if a > b {
		a, b = b, a
	}
	return codePair{a, b}
}

// pairDifferences are hand-written explanations for the pairs of codes that
// engineers confuse most. Each text names both codes, so it reads the same
// whichever order they were asked in.
var pairDifferences = map[codePair]string{
	pairOf(480, 486): "480 and 486 both mean the call cannot be completed at the callee now, but for different reasons. " +
		"480 Temporarily Unavailable says the user is known yet cannot be reached at all: no device is registered, the user is offline, or do not disturb is on. " +
		"486 Busy Here says a device was reached and it is occupied: already in a call, or at its call limit. " +
		"So for 480 check the callee's registration and DND; for 486 check active calls and call-waiting or concurrent-call limits. " +
		"Both can succeed later.",
	pairOf(486, 600): "486 Busy Here and 600 Busy Everywhere both report a busy callee, but with different reach. " +
		"486 speaks for one device only, so a forking proxy keeps trying other branches and busy-forwarding to voicemail still works. " +
		"600 is a global failure: the callee knows no other destination will answer, so a proxy cancels the other branches and tries nothing else. " +
		"A phone that sends 600 where 486 was meant stops voicemail from taking the call.",
	pairOf(486, 603): "486 Busy Here and 603 Decline are both answers from the callee's device, but 486 means it cannot take the call (it is busy) while 603 means the user will not take it. " +
		"486 is a 4xx, so other branches and busy-forwarding to voicemail can still handle the call; 603 is a 6xx, so forking stops and nothing else is tried. " +
		"Phones differ in what their reject button sends: 486 lets the call fall through to voicemail, 603 ends it.",
	pairOf(404, 480): "404 Not Found and 480 Temporarily Unavailable differ in whether the user exists. " +
		"404 says the server is sure there is no such user (or that it does not serve the domain), so the number, dial plan or routing must change. " +
		"480 says the user exists but cannot be reached right now, typically because no device is registered, so the same call can work later. " +
		"A PBX that answers 404 for an unregistered extension is sending the wrong code.",
	pairOf(401, 407): "401 Unauthorized and 407 Proxy Authentication Required are the same digest challenge from different parties. " +
		"401 comes from the server that handles the request itself, a registrar or the callee's user agent, with WWW-Authenticate, and is answered with an Authorization header. " +
		"407 comes from a proxy on the way, with Proxy-Authenticate, and is answered with Proxy-Authorization. " +
		"A first 401 to REGISTER and a first 407 to INVITE are normal; only a second challenge to the answered request means wrong credentials.",
	pairOf(401, 403): "401 Unauthorized and 403 Forbidden differ in whether credentials can help. " +
		"401 is a challenge: the server wants to know who you are, and a request with correct credentials will get through. " +
		"403 is a refusal: the server knows enough and will not allow it (ACL, permissions, blocked caller ID, disabled account), so resending credentials does not change the answer. " +
		"Some servers do send 403 after a wrong password, so check the credentials too if a 403 follows an authenticated request.",
	pairOf(408, 480): "408 Request Timeout and 480 Temporarily Unavailable both leave the callee unreached, but 408 means nobody answered in time while 480 is a definite answer. " +
		"408 comes from a timer (a proxy's Timer C, or the client's own Timer B or F): the request was sent and silence came back, which points at the network, NAT, a firewall or a dead device. " +
		"480 comes from a server that knows the callee is not reachable now, usually because it has no registration. " +
		"Check the path and captures for 408; check the callee's registration for 480.",
	pairOf(408, 487): "408 Request Timeout and 487 Request Terminated can both end a call that rang without an answer, but they are caused differently. " +
		"408 is a timeout: no final response came within the timer's limit, and the server or client gave up. " +
		"487 is the answer to a CANCEL (or BYE): someone stopped the request on purpose, usually the caller hanging up, or a forking proxy cancelling other branches once one answered. " +
		"For 487, find who sent the CANCEL; for 408, find where responses stopped arriving.",
	pairOf(488, 606): "488 Not Acceptable Here and 606 Not Acceptable both reject the SDP offer, usually because no codec or media setting matches. " +
		"488 applies only to this destination, so other branches or devices of the user may still accept the same offer. " +
		"606 is global: no destination of this user will accept it, so forking stops. " +
		"In both cases compare codecs and secure-media settings and read the Warning header.",
	pairOf(500, 503): "500 Server Internal Error and 503 Service Unavailable are both server-side failures, but 503 is an announced, temporary state and 500 is an unexpected one. " +
		"503 says the server is overloaded or in maintenance, often with Retry-After, and clients should go to another server until then. " +
		"500 says something broke while handling this request, a bug or a backend failure. " +
		"A proxy also turns a downstream 503 into 500 (RFC 3261 §16.7), so a 500 from a proxy can hide an overloaded gateway behind it.",
	pairOf(503, 504): "503 Service Unavailable and 504 Server Time-out differ in who failed. " +
		"503 says this server itself cannot take requests now (overload, maintenance, no trunk capacity). " +
		"504 says this server is working but waited in vain for another server it depends on (the next hop, DNS, a database). " +
		"For 503 look at the answering server's health and Retry-After; for 504 look at the services behind it.",
	pairOf(301, 302): "301 Moved Permanently and 302 Moved Temporarily both send the caller to the address in the Contact header. " +
		"After 301 the old address is dead: update address books and routes and use the new one from now on. " +
		"After 302 the new address is valid only for now (an Expires value may limit it), and future calls should still go to the original address, as with call forwarding.",
	pairOf(415, 488): "415 Unsupported Media Type and 488 Not Acceptable Here sound alike but look at different things. " +
		"415 rejects the body format itself, its Content-Type or encoding (multipart with ISUP, gzip, an unknown MIME type), and lists acceptable formats in Accept. " +
		"488 accepts SDP as a format but rejects what the SDP offers: codecs, media types, SRTP or bandwidth. " +
		"Fix the Content-Type for 415; fix the offer for 488.",
	pairOf(482, 483): "482 Loop Detected and 483 Too Many Hops both usually point to a routing loop, but they are detected differently. " +
		"482 is sent by a proxy that recognises the same request coming back to it unchanged (its own Via with the same branch). " +
		"483 is sent when Max-Forwards reaches zero, whatever the cause: a loop that went unnoticed (often through B2BUAs, which hide loops) or simply too long a path. " +
		"In both cases read the Via headers to find the repeated hops.",
	pairOf(600, 603): "600 Busy Everywhere and 603 Decline are both global failures that stop forking, but they say different things about the callee. " +
		"600 means the callee cannot take the call because every possible destination is busy, so trying later may work. " +
		"603 means the callee does not want the call, whether by pressing decline or through a block or screening rule, so retrying only helps if they change their mind.",
	pairOf(404, 410): "404 Not Found and 410 Gone both say the user is not here, but 410 adds that the user used to exist. " +
		"404 means the server has no such user, which could be a typo or a missing route. " +
		"410 means the address was valid once and has been removed (disconnected, ported away, account deleted) with no forwarding address, so it should be deleted from directories.",
	pairOf(404, 484): "404 Not Found and 484 Address Incomplete both mean the number in the Request-URI cannot be routed as it is. " +
		"404 says the address is complete but no such user exists. " +
		"484 says the address is too short: more digits are needed (an area or country code, or the rest of the number), as in overlap dialling. " +
		"A 484 is often fixed by the phone's dial plan waiting longer for digits or by dialling in full E.164.",
	pairOf(404, 604): "404 Not Found and 604 Does Not Exist Anywhere both say the user does not exist, but 404 speaks for this server or domain only while 604 is authoritative for everywhere. " +
		"After 404 a forking proxy may still find the user on another branch; after 604 it stops forking and tries nothing else.",
	pairOf(408, 504): "408 Request Timeout and 504 Server Time-out are both timeouts but at different places. " +
		"408 means the request itself got no final answer in time, typically a proxy's Timer C or a client's transaction timer expiring while the callee stayed silent. " +
		"504 means the answering server was waiting on an external service it needed to process the request, such as DNS, a database or the next hop, and gave up.",
	pairOf(405, 501): "405 Method Not Allowed and 501 Not Implemented both refuse the method of the request. " +
		"405 means the server knows the method but does not allow it for this address, and lists the allowed ones in Allow. " +
		"501 means the server does not implement the method at all.",
	pairOf(481, 487): "481 Call/Transaction Does Not Exist and 487 Request Terminated are often seen together when a call is cancelled. " +
		"487 is the normal answer to an INVITE that a CANCEL stopped. " +
		"481 means a request referred to a dialog or transaction the receiver no longer has, such as a CANCEL that arrived after the INVITE had already finished, or a BYE for a call already ended.",
}

// Difference explains in plain words how codes a and b differ. Pairs that
// are often confused have a hand-written explanation, identical in either
// order; any other pair gets a comparison built from the two entries.
func Difference(a, b int) string {
	if a == b {
		info := Lookup(a)
		return fmt.Sprintf("%s and %s are the same code. %s", info, info, info.Meaning)
	}
	if text, ok := pairDifferences[pairOf(a, b)]; ok {
		return text
	}
	return generatedDifference(Lookup(a), Lookup(b))
}

// generatedDifference compares two codes from their entries alone: class,
// meaning and what a retry can do.
func generatedDifference(a, b Info) string {
	var s strings.Builder
	if a.Class == b.Class && a.Class != 0 {
		fmt.Fprintf(&s, "%s and %s are both %s responses (%dxx). ", a, b, strings.ToLower(ClassName(a.Class)), a.Class)
	} else {
		fmt.Fprintf(&s, "%s is %s and %s is %s, so they belong to different classes. ",
			a, classPhrase(a.Class), b, classPhrase(b.Class))
	}
	fmt.Fprintf(&s, "%d: %s %d: %s ", a.Code, a.Meaning, b.Code, b.Meaning)
	fmt.Fprintf(&s, "On retrying, %d: %s %d: %s", a.Code, a.Retry, b.Code, b.Retry)
	return s.String()
}

// classPhrase names a class inside a sentence, e.g. "a client error response (4xx)".
func classPhrase(class int) string {
	if class < 1 || class > 6 {
		return "not a valid SIP response code"
	}
	return fmt.Sprintf("a %s response (%dxx)", strings.ToLower(ClassName(class)), class)
}
