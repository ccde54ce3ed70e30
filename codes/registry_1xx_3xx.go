package codes

// provisionalToRedirection holds the registered 1xx, 2xx and 3xx codes. Class
// and Known are filled in by buildRegistry.
var provisionalToRedirection = []Info{
	{
		Code:   100,
		Reason: "Trying",
		RFC:    "RFC 3261 §21.1.1",
		Meaning: "The next hop has the request and is working on it. It is a hop-by-hop acknowledgement: " +
			"it stops the caller retransmitting the INVITE, is never forwarded by proxies, and says nothing about the callee.",
		Causes: []string{
			"Normal call setup: a proxy, PBX or SBC answers an INVITE at once with 100 before it routes the call.",
			"A user agent that needs time to decide (looking up a database, starting a media server) sends it to stop retransmissions.",
		},
		Checks: []string{
			"If a call stays at 100 and ends in 408 or silence, look downstream: did the INVITE leave this hop, and did the next one answer?",
			"Check that the callee's registered Contact is reachable (NAT binding still open, firewall allowing the traffic back in).",
			"Compare captures taken on both sides of any firewall or SBC to see where the INVITE stops.",
		},
		Retry: "Not an error, so there is nothing to retry; if setup stalls after 100, the problem is further along the path.",
	},
	{
		Code:   180,
		Reason: "Ringing",
		RFC:    "RFC 3261 §21.1.2",
		Meaning: "The callee's device has the INVITE and is alerting the user. Unless early media is sent, " +
			"the caller's device plays its own ringback tone.",
		Causes: []string{
			"Normal call setup: the phone or soft client is ringing.",
			"Forking: several devices of the same user ring and each sends its own 180 with its own To tag (one early dialog each).",
		},
		Checks: []string{
			"Caller hears nothing while the callee rings: check whether a 183 with SDP arrived first, because many devices then wait for early media instead of playing local ringback.",
			"Ringing that never ends in an answer usually becomes 487 (caller gave up) or 408/480 (a no-answer timer fired): see which one and who sent it.",
			"With forking, tell the branches apart by the To tag and the Contact of each 180.",
		},
		Retry: "Not an error, so there is nothing to retry.",
	},
	{
		Code:   181,
		Reason: "Call Is Being Forwarded",
		RFC:    "RFC 3261 §21.1.3",
		Meaning: "A server on the path is diverting the call to one or more other destinations and says so, " +
			"so that the caller can show or log it. It is purely informational.",
		Causes: []string{
			"Call forwarding (unconditional, on busy, on no answer) configured for the callee.",
			"A hunt group, follow-me or voicemail redirection on a PBX.",
		},
		Checks: []string{
			"If the forwarding was not expected, review the callee's forwarding and follow-me rules.",
			"Look at Diversion or History-Info headers on the later messages to see where the call went.",
		},
		Retry: "Not an error, so there is nothing to retry.",
	},
	{
		Code:   182,
		Reason: "Queued",
		RFC:    "RFC 3261 §21.1.4",
		Meaning: "The callee cannot take the call right now, but instead of failing it the server holds the call in a queue. " +
			"It may send several 182s, and the reason phrase can carry details such as the position in the queue.",
		Causes: []string{
			"A contact-centre or hunt-group queue waiting for a free agent.",
			"A server that queues calls to a busy line rather than rejecting them.",
		},
		Checks: []string{
			"Check the queue's maximum wait time and overflow destination.",
			"Long queues can outlast proxy Timer C (at least three minutes): the queuing server should keep sending provisional responses so proxies do not give up.",
			"Check that the caller's device and any SBC tolerate a long wait without a final response.",
		},
		Retry: "Not an error, so there is nothing to retry; the final response arrives when the call leaves the queue.",
	},
	{
		Code:   183,
		Reason: "Session Progress",
		RFC:    "RFC 3261 §21.1.5",
		Meaning: "Progress information that fits none of the other provisional codes. In practice it usually carries SDP " +
			"so the caller can hear early media, such as the far network's ringback tone or an announcement, before the call is answered.",
		Causes: []string{
			"A PSTN gateway or carrier passing through in-band ringback or announcements.",
			"An IVR or announcement played before the call is answered or rejected (\"the number you dialled is not in service\").",
			"Reliable provisional responses (100rel/PRACK, RFC 3262) carrying an SDP answer.",
		},
		Checks: []string{
			"No early audio: compare the SDP in the 183 with the offer (codec, address, port) and check the RTP path through NAT and firewalls.",
			"Check whether the caller's device plays early media or local ringback when both 180 and 183 arrive.",
			"If the 183 has Require: 100rel, make sure the caller sends PRACK, or the callee will keep retransmitting and may fail the call.",
		},
		Retry: "Not an error, so there is nothing to retry.",
	},
	{
		Code:   199,
		Reason: "Early Dialog Terminated",
		RFC:    "RFC 6228",
		Meaning: "One early dialog has ended before the request got its final response, typically because one branch of a forked call failed " +
			"while others are still ringing. It is sent only to callers that advertise Supported: 199.",
		Causes: []string{
			"A forking proxy received a failure from one branch and reports it upstream at once.",
			"A UAS that had sent early media or ringing rejects its part of the call.",
		},
		Checks: []string{
			"Match the To tag of the 199 to the early dialog it closes and release that dialog's early media.",
			"Look at the branch's own final response (often visible at the forking proxy) for the real reason it failed.",
		},
		Retry: "Not an error for the call as a whole, so there is nothing to retry; other branches may still answer.",
	},
	{
		Code:   200,
		Reason: "OK",
		RFC:    "RFC 3261 §21.2.1",
		Meaning: "The request succeeded. For INVITE the callee answered and the caller must ACK the 200; " +
			"for REGISTER the registrar stored the binding and lists the current Contacts with their expiry.",
		Causes: []string{
			"Normal completion of any request: a call answered, a registration accepted, a BYE or OPTIONS handled.",
		},
		Checks: []string{
			"Answered but no audio: check the SDP connection address (a private IP behind NAT), RTP ports in the firewall, SIP ALG rewriting, and the chosen codec.",
			"Call drops about 32 seconds after answer: the ACK is not reaching the callee (check Contact/Record-Route addresses and NAT), so it gives up and sends BYE.",
			"For REGISTER, read the expires value in the 200: the registrar may grant less time than requested, and the device must refresh before then.",
		},
		Retry: "Not an error, so there is nothing to retry.",
	},
	{
		Code:   202,
		Reason: "Accepted",
		RFC:    "RFC 3265, deprecated by RFC 6665",
		Meaning: "The request was accepted but the work it asked for is not done yet. It was used to accept SUBSCRIBE and REFER; " +
			"RFC 6665 deprecated it, so new code sends 200, and a receiver treats 202 exactly like 200.",
		Causes: []string{
			"A REFER (call transfer) accepted: the transfer's real outcome arrives later in NOTIFY messages.",
			"An older event-package implementation accepting a SUBSCRIBE.",
		},
		Checks: []string{
			"For a transfer, read the message/sipfrag bodies of the NOTIFYs that follow: they carry the status of the transferred call.",
			"Make sure your own stack treats 202 as success, like 200.",
		},
		Retry: "Not an error, so there is nothing to retry.",
	},
	{
		Code:   204,
		Reason: "No Notification",
		RFC:    "RFC 5839",
		Meaning: "A SUBSCRIBE refresh succeeded and no NOTIFY will follow, because the subscriber's copy of the state " +
			"(named by the entity-tag it sent) is still current. It belongs to conditional event notification.",
		Causes: []string{
			"A presence, dialog (BLF) or other subscriber refreshing with Suppress-If-Match and an unchanged entity-tag.",
		},
		Checks: []string{
			"If the subscriber actually needs the full state (after a restart, say), it must refresh without Suppress-If-Match.",
			"Check that the subscriber stores the entity-tag from each NOTIFY correctly.",
		},
		Retry: "Not an error, so there is nothing to retry.",
	},
	{
		Code:   300,
		Reason: "Multiple Choices",
		RFC:    "RFC 3261 §21.3.1",
		Meaning: "The address resolved to several possible locations, listed in the Contact header (possibly with q-values), " +
			"and the caller or its proxy may pick one to try.",
		Causes: []string{
			"A redirect server answering for a user with several registered devices or numbers.",
			"A location service that returns alternatives instead of forking itself.",
		},
		Checks: []string{
			"Read the Contact list and its q-values.",
			"Check whether the caller's device or proxy follows redirects at all: many are set to treat 3xx as a failure.",
		},
		Retry: "Sending the same request to the same address will not help; send a new request to one of the listed Contacts.",
	},
	{
		Code:   301,
		Reason: "Moved Permanently",
		RFC:    "RFC 3261 §21.3.2",
		Meaning: "The user is no longer at the Request-URI; the new address is in the Contact header, " +
			"and the caller should use it from now on and update any stored copy of the old address.",
		Causes: []string{
			"A subscriber renumbered or moved to another domain or service provider.",
			"A domain migration where the old server redirects to the new one.",
		},
		Checks: []string{
			"Read the Contact header for the new address.",
			"Update address books, speed dials, dial plans and trunk routes that still point at the old one.",
		},
		Retry: "Retry at the address in Contact, and keep using it; the old address will keep failing.",
	},
	{
		Code:   302,
		Reason: "Moved Temporarily",
		RFC:    "RFC 3261 §21.3.3",
		Meaning: "For now, reach the user at the address or addresses in the Contact header. The move is temporary: " +
			"an Expires value may say how long it holds, and later requests should go to the original address again.",
		Causes: []string{
			"Call forwarding implemented by a redirect server or by the callee's phone.",
			"A routing or number-portability server that answers every call with the trunk or carrier to use.",
		},
		Checks: []string{
			"Check that the caller's device or proxy follows 3xx responses (recursion) and that the Contact URI is reachable from it.",
			"Watch for redirect loops between two servers that forward to each other.",
			"If redirects are not wanted, look for forwarding set on the callee's device.",
		},
		Retry: "Retry at the Contact address; do not store it beyond its expiry, and keep using the original address for new calls.",
	},
	{
		Code:   305,
		Reason: "Use Proxy",
		RFC:    "RFC 3261 §21.3.4",
		Meaning: "The resource may only be reached through the proxy named in the Contact header, and this one request should be repeated through it. " +
			"Only a UAS may send it; because it can steer traffic to an arbitrary proxy, many clients ignore it.",
		Causes: []string{
			"A UAS that only accepts requests arriving through a particular proxy or SBC.",
		},
		Checks: []string{
			"Read the proxy URI in Contact and decide whether it is trustworthy before following it.",
			"If the requirement is permanent, configure that proxy as the outbound proxy.",
		},
		Retry: "Retry through the named proxy, if you trust it; repeating the request directly will fail again.",
	},
	{
		Code:   380,
		Reason: "Alternative Service",
		RFC:    "RFC 3261 §21.3.5",
		Meaning: "The call as placed failed, but the message body describes other services that can handle it. " +
			"It is rare outside IMS, where it tells a phone that the number it dialled is an emergency number and must be called as an emergency session.",
		Causes: []string{
			"An IMS network detecting an emergency number sent as a normal call.",
			"A service that offers an alternative (another service, another access) instead of handling the call.",
		},
		Checks: []string{
			"Read the body: it says what the alternative is.",
			"On IMS emergency calls, check that the device recognises its local emergency numbers and retries as an emergency session.",
		},
		Retry: "Retry as the body describes (for example as an emergency call); the same request unchanged will fail again.",
	},
}
