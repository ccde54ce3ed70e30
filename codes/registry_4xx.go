package codes

// clientErrors holds the registered 4xx codes. Class and Known are filled in
// by buildRegistry.
var clientErrors = []Info{
	{
		Code:   400,
		Reason: "Bad Request",
		RFC:    "RFC 3261 §21.4.1",
		Meaning: "The server could not parse the request or found it malformed. The reason phrase, or a Warning header, " +
			"should name the actual problem (for example \"Missing Call-ID\").",
		Causes: []string{
			"A mandatory header missing or malformed (Via, From, To, Call-ID, CSeq, Max-Forwards, Contact on INVITE).",
			"Content-Length that does not match the body, often after a UDP message was truncated or an ALG rewrote the SDP.",
			"A SIP ALG on a router rewriting headers or SDP badly.",
			"Illegal characters in a URI or display name, or an invalid SDP body.",
		},
		Checks: []string{
			"Read the reason phrase and any Warning header: most servers say exactly which header they rejected.",
			"Capture the request on both sides of the router or SBC and compare them, to catch an ALG in the middle.",
			"Check that Content-Length matches the body and that large messages are not being truncated over UDP.",
		},
		Retry: "Never as it is: the same bytes will be rejected again. Fix the message first.",
	},
	{
		Code:   401,
		Reason: "Unauthorized",
		RFC:    "RFC 3261 §21.4.2",
		Meaning: "The request needs authentication by the UAS or registrar itself. The WWW-Authenticate header carries a digest challenge, " +
			"and the client should resend the request with an Authorization header. A first 401 to REGISTER is the normal handshake, not a failure.",
		Causes: []string{
			"Normal digest challenge to a first REGISTER or request without credentials.",
			"Wrong password, or wrong authentication username (the auth ID often differs from the extension number).",
			"Realm mismatch, or a digest algorithm (SHA-256 versus MD5) the client does not support.",
			"A stale or reused nonce after a server restart or failover.",
		},
		Checks: []string{
			"Check that the second request carries an Authorization header answering this challenge (same realm and nonce, CSeq increased).",
			"If that request is challenged again without stale=true, the credentials are wrong: verify the auth username, password and realm.",
			"Check the algorithm offered in WWW-Authenticate against what the device supports.",
			"Repeated failures can trip fail2ban or similar: check whether the source address has been banned.",
		},
		Retry: "Yes, once, with credentials. If the answer with credentials is challenged again (and not as stale), retrying the same credentials will not help.",
	},
	{
		Code:    402,
		Reason:  "Payment Required",
		RFC:     "RFC 3261 §21.4.3",
		Meaning: "Reserved by RFC 3261 for future use, so it has no standard meaning. Some carriers send it when a prepaid account has no credit left.",
		Causes: []string{
			"A prepaid or billing system refusing the call for lack of balance.",
			"A provider-specific use of the code for account or billing problems.",
		},
		Checks: []string{
			"Check the account balance and billing status with the provider.",
			"Read the reason phrase and any Warning header for the provider's explanation.",
		},
		Retry: "Only after the billing problem is fixed; until then every attempt fails the same way.",
	},
	{
		Code:   403,
		Reason: "Forbidden",
		RFC:    "RFC 3261 §21.4.4",
		Meaning: "The server understood the request and refuses it, and authenticating will not change that. " +
			"It is a policy decision about this caller, source or destination.",
		Causes: []string{
			"The source IP address is not in the trunk's access list, or has been banned by fail2ban or an SBC.",
			"The caller is not allowed to dial this destination (international or premium numbers barred, class of service).",
			"Caller ID or From domain not permitted on the trunk.",
			"The account is disabled or suspended, or registering to the wrong domain.",
			"Some servers send 403 instead of 401 after a failed password check.",
		},
		Checks: []string{
			"Check that the source IP is allowed in the provider's or PBX's ACL, and not on a ban list.",
			"Check the dialling permissions of the caller for this destination.",
			"Check that the From number and domain are ones the trunk accepts.",
			"Check the account's status, and read the reason phrase and Warning header for the server's own explanation.",
		},
		Retry: "No: the same request will be refused again. Something has to change first (ACL, permissions, caller ID, account).",
	},
	{
		Code:   404,
		Reason: "Not Found",
		RFC:    "RFC 3261 §21.4.5",
		Meaning: "The server knows for certain that the user in the Request-URI does not exist in that domain, " +
			"or the domain is not one this server handles.",
		Causes: []string{
			"A mistyped number or an extension that is not configured.",
			"A missing dial-plan route or a number in the wrong format (missing + or country code, extra prefix).",
			"A DID that is not assigned to this trunk at the provider.",
			"The Request-URI carries an IP address or domain the server does not consider its own.",
			"A PBX that answers 404 for a user who exists but is not registered (480 is the right code for that).",
		},
		Checks: []string{
			"Check the user part and domain of the Request-URI exactly as they arrived.",
			"Check the dial plan, number normalisation and routes on each hop.",
			"For incoming calls, check the DID mapping at the provider and on the PBX.",
			"Check the server's list of local domains and aliases.",
		},
		Retry: "Never without a change: the number, the route or the domain has to be fixed first.",
	},
	{
		Code:   405,
		Reason: "Method Not Allowed",
		RFC:    "RFC 3261 §21.4.6",
		Meaning: "The server knows the method but does not allow it for the address in the Request-URI. " +
			"The response must carry an Allow header listing the methods that are allowed.",
		Causes: []string{
			"Sending MESSAGE, SUBSCRIBE, INFO, UPDATE or PUBLISH to a device or account configured not to accept it.",
			"Sending REGISTER to a user agent or proxy that is not a registrar.",
		},
		Checks: []string{
			"Read the Allow header and use one of the listed methods.",
			"If the method should be allowed, enable it on the server for that user or domain.",
		},
		Retry: "No, not with the same method; use one the Allow header lists.",
	},
	{
		Code:    406,
		Reason:  "Not Acceptable",
		RFC:     "RFC 3261 §21.4.7",
		Meaning: "The server could only answer with a body type that the request's Accept header says the client cannot take.",
		Causes: []string{
			"A SUBSCRIBE or OPTIONS whose Accept header lists body formats the server cannot produce (a different presence format, for example).",
		},
		Checks: []string{
			"Compare the request's Accept header with the formats the server supports.",
			"Add the server's format to Accept if the client can handle it.",
		},
		Retry: "Only after widening the Accept header; the same request will fail again.",
	},
	{
		Code:   407,
		Reason: "Proxy Authentication Required",
		RFC:    "RFC 3261 §21.4.8",
		Meaning: "Like 401, but the challenge comes from a proxy on the path rather than from the final server. " +
			"The Proxy-Authenticate header carries the challenge, and the client must resend with Proxy-Authorization.",
		Causes: []string{
			"Normal challenge from a PBX, SBC or provider proxy to an outgoing INVITE.",
			"Wrong credentials, or credentials for the registrar used where the proxy expects others.",
			"A client that answers with Authorization instead of Proxy-Authorization.",
		},
		Checks: []string{
			"Check that the resent request carries Proxy-Authorization (not Authorization) for the proxy's realm.",
			"If it is challenged again, verify the username, password and realm configured for outbound calls.",
			"Check which proxy sent the challenge (its realm) when several proxies are on the path.",
		},
		Retry: "Yes, once, with Proxy-Authorization. Repeated challenges after that mean wrong credentials, and retrying will not help.",
	},
	{
		Code:   408,
		Reason: "Request Timeout",
		RFC:    "RFC 3261 §21.4.9",
		Meaning: "No final response was produced in time. A proxy sends it when its Timer C fires on an unanswered INVITE or when a forwarded request got no answer; " +
			"a client also reports it locally when its own transaction timer (Timer B for INVITE, Timer F otherwise, 32 s by default) expires with no response at all.",
		Causes: []string{
			"The callee's registered address no longer answers: phone switched off without unregistering, or NAT binding expired.",
			"A firewall silently dropping SIP in one direction.",
			"A large INVITE sent over UDP and lost to IP fragmentation.",
			"DNS or SRV pointing at a dead host.",
			"A proxy's no-answer timer (Timer C) firing on a call that rang for a long time.",
		},
		Checks: []string{
			"Find out whether the 408 was received from a server or generated locally because nothing came back.",
			"Capture at each hop to see where the request stops.",
			"Check NAT keepalives and registration expiry of the callee, and any firewall or ALG on the path.",
			"Use TCP for messages near or above the MTU; check DNS and SRV targets of the next hop.",
		},
		Retry: "May succeed later unchanged, if the problem was passing. Repeated 408s mean a reachability problem that has to be fixed.",
	},
	{
		Code:    410,
		Reason:  "Gone",
		RFC:     "RFC 3261 §21.4.10",
		Meaning: "The user used to exist here but no longer does, and the server knows no forwarding address. The condition is expected to be permanent.",
		Causes: []string{
			"A number disconnected or ported away.",
			"A deleted account or decommissioned extension.",
		},
		Checks: []string{
			"Confirm the number's status or porting with the provider.",
			"Remove the address from directories, speed dials and routing tables.",
		},
		Retry: "Never: the address is gone for good.",
	},
	{
		Code:   412,
		Reason: "Conditional Request Failed",
		RFC:    "RFC 3903",
		Meaning: "A PUBLISH refresh, change or removal named an entity-tag (in SIP-If-Match) that the server does not hold, " +
			"usually because the publication expired or the server lost its state.",
		Causes: []string{
			"The publication expired before the client refreshed it.",
			"The presence server restarted or failed over and lost its stored publications.",
			"A client sending a wrong or outdated entity-tag.",
		},
		Checks: []string{
			"Check that the client refreshes before the expiry the server granted.",
			"Check that the client falls back to a fresh initial PUBLISH after a 412.",
		},
		Retry: "Yes, with a new initial PUBLISH carrying the full state and no SIP-If-Match.",
	},
	{
		Code:    413,
		Reason:  "Request Entity Too Large",
		RFC:     "RFC 3261 §21.4.11",
		Meaning: "The request's body is bigger than the server will or can handle. If the limit is temporary the server may add Retry-After.",
		Causes: []string{
			"A large SDP with many codecs, ICE candidates or media lines.",
			"A big MESSAGE body or multipart body (images, files).",
		},
		Checks: []string{
			"Check the body size against the server's limit.",
			"Trim codecs, candidates or attachments; send files by reference instead of inline.",
			"Look for Retry-After, which marks the condition as temporary.",
		},
		Retry: "Only after Retry-After if the server gave one; otherwise make the body smaller first.",
	},
	{
		Code:    414,
		Reason:  "Request-URI Too Long",
		RFC:     "RFC 3261 §21.4.12",
		Meaning: "The Request-URI is longer than the server is willing to read.",
		Causes: []string{
			"URI parameters piled up by proxies or by a routing loop that keeps appending them.",
			"A malformed dial string or a very long URI built by an application.",
		},
		Checks: []string{
			"Look at the Request-URI as it arrives and find which hop made it long.",
			"Check for loops that add parameters on each pass.",
		},
		Retry: "No, not with the same URI.",
	},
	{
		Code:   415,
		Reason: "Unsupported Media Type",
		RFC:    "RFC 3261 §21.4.13",
		Meaning: "The server cannot handle the request body's format (its content type, encoding or language) for this method. " +
			"The response lists what it accepts in Accept, Accept-Encoding or Accept-Language.",
		Causes: []string{
			"An INVITE with a multipart body (SDP plus ISUP, as in SIP-I/SIP-T) sent to a device that only takes SDP.",
			"A MESSAGE or INFO with a content type the receiver does not accept (text/html, application/dtmf-relay).",
			"A compressed (gzip) body sent to a server that does not support Content-Encoding.",
		},
		Checks: []string{
			"Read the Accept, Accept-Encoding and Accept-Language headers in the 415.",
			"Compare with the Content-Type and Content-Encoding of the request.",
			"On gateways, check SIP-I/SIP-T (ISUP body) settings for that trunk.",
		},
		Retry: "Yes, after changing the body to a format the server listed.",
	},
	{
		Code:    416,
		Reason:  "Unsupported URI Scheme",
		RFC:     "RFC 3261 §21.4.14",
		Meaning: "The server does not know the scheme of the Request-URI (such as tel:, sips: or urn:) and cannot process the request.",
		Causes: []string{
			"A tel: URI sent to a server that only handles sip:.",
			"A sips: URI sent to a server without TLS support.",
			"A typo or an application-built URI with an unexpected scheme.",
		},
		Checks: []string{
			"Check the scheme of the Request-URI.",
			"Convert tel: numbers to sip:number@domain;user=phone if the server needs it, or enable TLS for sips:.",
		},
		Retry: "No, not with the same scheme.",
	},
	{
		Code:   417,
		Reason: "Unknown Resource-Priority",
		RFC:    "RFC 4412",
		Meaning: "The request insisted on resource priority (Require: resource-priority) but the server understands none of the namespaces in its Resource-Priority header. " +
			"The response can list the ones it knows in Accept-Resource-Priority.",
		Causes: []string{
			"Priority calls (government emergency, military or other namespaces) crossing a network that does not implement those namespaces.",
		},
		Checks: []string{
			"Compare the request's Resource-Priority namespaces with the Accept-Resource-Priority header in the 417.",
			"Check the peer's priority configuration and whether priority must really be required rather than merely offered.",
		},
		Retry: "Yes, with a namespace the server accepts, or without requiring resource priority.",
	},
	{
		Code:   420,
		Reason: "Bad Extension",
		RFC:    "RFC 3261 §21.4.15",
		Meaning: "The request required a SIP extension (in Require or Proxy-Require) that the server does not support. " +
			"The Unsupported header in the response names it.",
		Causes: []string{
			"Require: 100rel, timer or precondition sent to a peer without that extension.",
			"A Proxy-Require option tag that a proxy on the path does not know.",
		},
		Checks: []string{
			"Read the Unsupported header of the 420.",
			"Move the option tag from Require to Supported if the extension is optional for you, or turn the extension off for that peer.",
		},
		Retry: "Yes, after removing the unsupported extension from Require or Proxy-Require.",
	},
	{
		Code:   421,
		Reason: "Extension Required",
		RFC:    "RFC 3261 §21.4.16",
		Meaning: "The server needs an extension that the request did not list in its Supported header. " +
			"The Require header in the response names the extension.",
		Causes: []string{
			"A UAS or gateway that insists on 100rel (PRACK), session timers or preconditions.",
			"A client that supports the extension but does not advertise it.",
		},
		Checks: []string{
			"Read the Require header of the 421.",
			"Enable that extension on the client (for example PRACK/100rel) and make sure it appears in Supported.",
		},
		Retry: "Yes, after enabling and advertising the extension; the unchanged request will fail again.",
	},
	{
		Code:   422,
		Reason: "Session Interval Too Small",
		RFC:    "RFC 4028 §6",
		Meaning: "The Session-Expires value of the request is below the minimum this element accepts for session timers. " +
			"The Min-SE header in the response gives that minimum.",
		Causes: []string{
			"A device configured with a very short session timer.",
			"A proxy or SBC on the path that enforces a larger minimum than the caller's setting.",
		},
		Checks: []string{
			"Compare the request's Session-Expires with the Min-SE in the 422.",
			"Raise the device's session timer setting so the retry is not needed on every call.",
		},
		Retry: "Yes, at once, with Session-Expires (and Min-SE) at least the value in the 422; a compliant client does this by itself.",
	},
	{
		Code:   423,
		Reason: "Interval Too Brief",
		RFC:    "RFC 3261 §21.4.17",
		Meaning: "The expiry time asked for (in a REGISTER, or a SUBSCRIBE) is shorter than the server allows. " +
			"The Min-Expires header in the response gives the shortest it accepts.",
		Causes: []string{
			"A phone registering with a very short Expires to keep its NAT binding open.",
			"A registrar or provider whose minimum is higher than the device's setting.",
		},
		Checks: []string{
			"Read Min-Expires in the 423 and set the device's registration interval at or above it.",
			"Keep NAT bindings open with keepalives (CRLF, OPTIONS or STUN) instead of very short registrations.",
		},
		Retry: "Yes, at once, with Expires at least Min-Expires.",
	},
	{
		Code:   424,
		Reason: "Bad Location Information",
		RFC:    "RFC 6442",
		Meaning: "The location information conveyed with the request (a PIDF-LO body or a location URI in the Geolocation header) was malformed, unusable for the purpose, or could not be fetched. " +
			"A Geolocation-Error header says which.",
		Causes: []string{
			"An emergency call carrying invalid or incomplete PIDF-LO XML.",
			"A location-by-reference URI that the recipient cannot dereference.",
		},
		Checks: []string{
			"Read the Geolocation-Error code and text in the 424.",
			"Validate the PIDF-LO document, and check that any location URI is reachable from the recipient.",
		},
		Retry: "Yes, after correcting the location information.",
	},
	{
		Code:   425,
		Reason: "Bad Alert Message",
		RFC:    "RFC 8876",
		Meaning: "A non-interactive emergency call or alert carried a Common Alerting Protocol (CAP) message that the recipient found malformed or could not accept. " +
			"An AlertMsg-Error header explains the problem.",
		Causes: []string{
			"A sensor, vehicle or alarm system sending an invalid or incomplete CAP payload.",
			"A CAP message using elements or values the recipient does not support.",
		},
		Checks: []string{
			"Read the AlertMsg-Error header of the 425.",
			"Validate the CAP document against the schema and the recipient's profile.",
		},
		Retry: "Yes, after fixing the alert message.",
	},
	{
		Code:    428,
		Reason:  "Use Identity Header",
		RFC:     "RFC 8224 §6.2.2",
		Meaning: "The verifier's policy requires a signed Identity header (STIR/SHAKEN) and the request had none.",
		Causes: []string{
			"The originating network does not sign calls.",
			"An SBC or gateway on the path stripping the Identity header.",
			"Calls entering through a route that bypasses the signing service.",
		},
		Checks: []string{
			"Check whether the originating side signs this traffic and with which attestation.",
			"Check header manipulation rules on every SBC between signer and verifier.",
		},
		Retry: "Only once the request carries a valid Identity header.",
	},
	{
		Code:   429,
		Reason: "Provide Referrer Identity",
		RFC:    "RFC 3892",
		Meaning: "The target of a transfer (REFER) wants proof of who asked for it: the INVITE it got lacked a valid Referred-By token. " +
			"The party that received the REFER should relay this to the referrer, who can repeat the REFER with a signed token.",
		Causes: []string{
			"A transfer target whose policy demands an authenticated referrer.",
			"A Referred-By header without the signed token, or with an invalid signature.",
		},
		Checks: []string{
			"Check the Referred-By header and token in the triggered INVITE.",
			"Check the transfer target's policy and whether the referrer can sign Referred-By.",
		},
		Retry: "Yes, if the referrer sends a new REFER with a valid Referred-By token.",
	},
	{
		Code:   430,
		Reason: "Flow Failed",
		RFC:    "RFC 5626",
		Meaning: "With SIP Outbound, the particular connection (flow) a user agent registered over has failed, though its other flows may still work. " +
			"An edge proxy sends it to the home proxy, which should drop that binding and try another flow rather than pass the failure to the caller.",
		Causes: []string{
			"The TCP or TLS connection from the phone died (NAT rebinding, network change, Wi-Fi to mobile data).",
			"An edge proxy restarted and lost its connections.",
		},
		Checks: []string{
			"Check keepalives on the flow (CRLF ping-pong or STUN) and their interval.",
			"Check that the device re-registers promptly when a flow drops, using its reg-id and instance-id.",
		},
		Retry: "The home proxy should try another registered flow at once; the device must re-register to restore the failed one.",
	},
	{
		Code:    433,
		Reason:  "Anonymity Disallowed",
		RFC:     "RFC 5079",
		Meaning: "The callee's policy rejects anonymous requests, and this one hid the caller's identity.",
		Causes: []string{
			"Anonymous call rejection enabled for the callee.",
			"The caller withholding its number (From: anonymous, Privacy: id or header).",
		},
		Checks: []string{
			"Check the caller's privacy settings and the Privacy and From headers as they arrive.",
			"Check the callee's anonymous-call rejection setting.",
		},
		Retry: "Yes, but only without anonymity, with the caller's identity shown.",
	},
	{
		Code:   436,
		Reason: "Bad Identity Info",
		RFC:    "RFC 8224 §6.2.2",
		Meaning: "The verifier could not fetch the credential (certificate) that the Identity header points to, " +
			"because the URI could not be dereferenced or uses an unsupported scheme.",
		Causes: []string{
			"The certificate repository URL of a STIR/SHAKEN signer is unreachable or returns an error.",
			"A malformed URI in the Identity header's info parameter (x5u in the PASSporT).",
		},
		Checks: []string{
			"Fetch the certificate URL from the verifier's network (DNS, TLS, HTTP status).",
			"Check the signer's configuration of the certificate URL.",
		},
		Retry: "Only after the certificate URL is fixed or reachable.",
	},
	{
		Code:   437,
		Reason: "Unsupported Credential",
		RFC:    "RFC 8224 §6.2.2",
		Meaning: "The verifier fetched the signer's credential but cannot use it: it is not trusted, has expired, or is of a type it does not support. " +
			"(RFC 4474 called this code \"Unsupported Certificate\".)",
		Causes: []string{
			"A STIR/SHAKEN certificate issued by an authority the verifier does not trust.",
			"An expired certificate or an incomplete certificate chain.",
		},
		Checks: []string{
			"Check the certificate chain, its expiry, and the verifier's list of trust anchors.",
		},
		Retry: "Only after the credential problem is fixed.",
	},
	{
		Code:   438,
		Reason: "Invalid Identity Header",
		RFC:    "RFC 8224 §6.2.2",
		Meaning: "The verifier got the signer's credential, but the signature in the Identity header does not match the request, " +
			"so the identity cannot be verified.",
		Causes: []string{
			"An intermediary changed signed fields after signing, such as rewriting the From or To numbers.",
			"Number normalisation that makes the signed numbers differ from the SIP headers.",
			"A signing key that does not belong to the referenced certificate.",
		},
		Checks: []string{
			"Compare the numbers in the PASSporT with the From and To headers as the verifier sees them.",
			"Find which hop rewrites headers after signing.",
			"Check that the signer's private key matches its certificate.",
		},
		Retry: "Not unchanged: the signature or the rewriting has to be fixed first.",
	},
	{
		Code:   439,
		Reason: "First Hop Lacks Outbound Support",
		RFC:    "RFC 5626",
		Meaning: "The registrar supports SIP Outbound, and the REGISTER asked for it, but the first-hop proxy did not show Outbound support, " +
			"so the registrar cannot use the flow the device registered over.",
		Causes: []string{
			"An edge proxy or SBC without RFC 5626 support between the device and the registrar.",
			"An edge proxy that does not add the ob parameter to its Path header.",
		},
		Checks: []string{
			"Check the Path header of the REGISTER as it reaches the registrar.",
			"Enable Outbound on the edge proxy, or disable it on the device.",
		},
		Retry: "Yes: register without Outbound (no reg-id), or through an edge proxy that supports it.",
	},
	{
		Code:   440,
		Reason: "Max-Breadth Exceeded",
		RFC:    "RFC 5393",
		Meaning: "A proxy wanted to fork the request in parallel but the remaining Max-Breadth was too small for it. " +
			"The limit exists to stop forking from multiplying one request into a flood.",
		Causes: []string{
			"A user with many registered contacts forked in parallel.",
			"Chains of forking proxies, each dividing the breadth left for the next.",
			"A forking loop amplifying the request.",
		},
		Checks: []string{
			"Check the Max-Breadth values along the path and the number of parallel branches at each proxy.",
			"Look for loops between forking proxies.",
		},
		Retry: "Not unchanged: reduce the fan-out or fork sequentially.",
	},
	{
		Code:   469,
		Reason: "Bad Info Package",
		RFC:    "RFC 6086",
		Meaning: "An INFO named an Info Package (in Info-Package) that the receiver did not say it accepts in this dialog. " +
			"The response's Recv-Info header lists the packages it does accept.",
		Causes: []string{
			"DTMF or other data sent by INFO using a package the peer never listed in Recv-Info.",
			"A mismatch in Info Package support between the two ends.",
		},
		Checks: []string{
			"Compare the Info-Package of the INFO with the Recv-Info headers exchanged in the INVITE and its answer.",
			"For DTMF, consider RFC 4733 telephone-events in RTP instead of INFO.",
		},
		Retry: "Only with a package the peer accepts.",
	},
	{
		Code:   470,
		Reason: "Consent Needed",
		RFC:    "RFC 5360",
		Meaning: "The request went to a relay (such as a URI-list service that fans messages out) and some targets have not agreed to receive traffic from it. " +
			"A Permission-Missing header lists them.",
		Causes: []string{
			"The first request to a list of recipients who have not yet granted permission.",
			"A relay enforcing consent to prevent it being used for spam.",
		},
		Checks: []string{
			"Read the Permission-Missing header.",
			"Ask the listed recipients for permission using the consent framework.",
		},
		Retry: "Yes, once the missing recipients have granted permission.",
	},
	{
		Code:   480,
		Reason: "Temporarily Unavailable",
		RFC:    "RFC 3261 §21.4.18",
		Meaning: "The callee is known, but cannot be reached right now: not registered, not logged in, or set to do not disturb. " +
			"A Retry-After header may say when to try again.",
		Causes: []string{
			"No current registration for the callee: phone switched off, offline, or registration expired.",
			"Do not disturb, or a presence state that refuses calls.",
			"Every registered contact failed or did not answer, and the proxy reported it as 480.",
			"A mobile soft client asleep, with the push notification that should wake it failing.",
		},
		Checks: []string{
			"Check the registrar's location table for the callee: any bindings, and when they expire.",
			"Check the callee's do-not-disturb and forwarding settings.",
			"Check NAT keepalives so that the registration stays reachable between refreshes.",
			"For mobile clients, check push notification settings and logs.",
		},
		Retry: "Later, yes: once the callee registers again or leaves do not disturb. Honour Retry-After if present.",
	},
	{
		Code:    481,
		Reason:  "Call/Transaction Does Not Exist",
		RFC:     "RFC 3261 §21.4.19",
		Meaning: "The request refers to a dialog or transaction the receiver does not have, for example a BYE, re-INVITE or NOTIFY for a call it no longer knows.",
		Causes: []string{
			"A BYE or re-INVITE crossing with the other side's BYE: the call had already ended.",
			"Dialog state lost after a restart or failover of a PBX, B2BUA or SBC.",
			"An ALG or SBC altering Call-ID or tags, so in-dialog requests no longer match.",
			"In-dialog requests routed to the wrong server because of a broken Route/Record-Route set or load balancer.",
			"A CANCEL arriving after the INVITE transaction had already finished.",
		},
		Checks: []string{
			"Check that Call-ID, From tag and To tag of the request match those of the dialog.",
			"Check Record-Route and Route handling, and which server the in-dialog request actually reached.",
			"Check for restarts or failovers at the time of the failure.",
		},
		Retry: "No: the dialog is gone. Clean it up locally; a new call needs a new INVITE.",
	},
	{
		Code:   482,
		Reason: "Loop Detected",
		RFC:    "RFC 3261 §21.4.20",
		Meaning: "A proxy found that the request had already passed through it unchanged, so it is going round in a circle. " +
			"A request that comes back with a different Request-URI (a spiral) is legitimate and not a loop.",
		Causes: []string{
			"Two servers routing the same number to each other (PBX to carrier and back).",
			"Forwarding rules that form a circle.",
			"A proxy that does not recognise its own domain or IP alias and sends the request back to itself.",
			"DNS or SRV records pointing back at the sender.",
		},
		Checks: []string{
			"Read the Via headers of the looping request: they trace the circle.",
			"Check routes and forwarding on each hop in that trace.",
			"Check the proxy's list of local domains and aliases.",
		},
		Retry: "Never without fixing the routing.",
	},
	{
		Code:    483,
		Reason:  "Too Many Hops",
		RFC:     "RFC 3261 §21.4.21",
		Meaning: "Max-Forwards reached zero before the request got to its destination: the request has passed through more hops than it was allowed.",
		Causes: []string{
			"A routing loop that loop detection did not catch, counting Max-Forwards down from 70 to 0.",
			"A B2BUA that restarts Max-Forwards on each leg, hiding a loop until something else stops it.",
			"A very long chain of proxies, or a client that sets an unusually low Max-Forwards.",
		},
		Checks: []string{
			"Check the Max-Forwards value in the original request (70 is usual).",
			"Read the Via headers to find repeated hops.",
			"Check routing on the hops that repeat.",
		},
		Retry: "No: it will fail the same way until the path is shortened or the loop is fixed.",
	},
	{
		Code:    484,
		Reason:  "Address Incomplete",
		RFC:     "RFC 3261 §21.4.22",
		Meaning: "The Request-URI is incomplete: the server needs more digits or more address to route it. It supports overlap dialling, where digits arrive in stages.",
		Causes: []string{
			"A number dialled without its area or country code, or too short for the dial plan.",
			"A phone's dial plan sending the call before the user finished dialling (inter-digit timer too short).",
			"Overlap signalling from the PSTN passed into SIP.",
		},
		Checks: []string{
			"Check the number's format, preferably full E.164.",
			"Check the dial plan patterns and inter-digit timeout on the phone.",
			"Check overlap-dialling settings on gateways.",
		},
		Retry: "Yes, with the complete number.",
	},
	{
		Code:   485,
		Reason: "Ambiguous",
		RFC:    "RFC 3261 §21.4.23",
		Meaning: "The Request-URI matches more than one user. The response may list unambiguous candidates in Contact, " +
			"though a server may leave them out to protect privacy.",
		Causes: []string{
			"A directory or name-based address (sip:john@...) matching several users.",
			"A short code mapped to more than one destination.",
		},
		Checks: []string{
			"Read the Contact list in the 485, if there is one.",
			"Use a full, unique address.",
		},
		Retry: "Yes, with one of the unambiguous addresses.",
	},
	{
		Code:   486,
		Reason: "Busy Here",
		RFC:    "RFC 3261 §21.4.24",
		Meaning: "The callee's device was reached but is not willing or able to take another call. " +
			"It speaks only for this device: other destinations, such as voicemail, may still take the call, and Retry-After may say when to try again.",
		Causes: []string{
			"The callee is already on a call and call waiting is off.",
			"A limit on concurrent calls reached for the extension, trunk or channel count.",
			"The user pressing reject on phones that send 486 for it.",
			"Do not disturb implemented as busy.",
		},
		Checks: []string{
			"Check the callee's active calls and call-waiting setting.",
			"Check concurrent-call limits on the extension, the PBX and the trunk.",
			"Check forwarding on busy (to voicemail) if callers should not simply hear busy.",
		},
		Retry: "Later, when the callee is free; honour Retry-After if present.",
	},
	{
		Code:   487,
		Reason: "Request Terminated",
		RFC:    "RFC 3261 §21.4.25",
		Meaning: "The request was stopped by a BYE or CANCEL before it completed. It is the usual final answer to an INVITE that was cancelled while ringing; " +
			"the CANCEL itself gets a 200.",
		Causes: []string{
			"The caller hung up while the callee was ringing.",
			"A forking proxy cancelled the other branches after one answered (Reason: SIP;cause=200, \"Call completed elsewhere\").",
			"A no-answer timer on a PBX or proxy (Timer C) cancelling a call that rang too long.",
		},
		Checks: []string{
			"Find who sent the CANCEL, and read its Reason header.",
			"If callers did not hang up, check ring timeouts and no-answer timers on the path.",
		},
		Retry: "No: the request was stopped on purpose. A new attempt is a new call.",
	},
	{
		Code:   488,
		Reason: "Not Acceptable Here",
		RFC:    "RFC 3261 §21.4.26",
		Meaning: "The callee's end cannot accept the session described in the SDP offer, usually because no codec or media setting matches. " +
			"It applies only to this destination: another may accept the same offer. A Warning header may give the detail.",
		Causes: []string{
			"No codec in common between offer and callee.",
			"Secure media mismatch: SRTP (RTP/SAVP, DTLS) offered to a plain-RTP device, or the reverse.",
			"An unsupported media type or transport, such as a video or T.38 fax offer the device cannot take.",
			"A re-INVITE (hold, fax switch-over) with SDP the other end rejects.",
		},
		Checks: []string{
			"Compare the codec lists of the offer and of the callee's configuration.",
			"Check SRTP/DTLS settings and the m= line profile (RTP/AVP versus RTP/SAVP).",
			"Read the Warning header for the exact problem.",
			"Check whether transcoding is available on the PBX or SBC.",
		},
		Retry: "Yes, with an offer the callee can accept; other destinations may accept this one.",
	},
	{
		Code:   489,
		Reason: "Bad Event",
		RFC:    "RFC 6665",
		Meaning: "The server does not understand or support the event package named in the Event header of a SUBSCRIBE or NOTIFY. " +
			"An Allow-Events header lists the packages it does support.",
		Causes: []string{
			"A busy-lamp (dialog), presence or message-waiting subscription to a server without that package enabled.",
			"A misspelt Event header.",
		},
		Checks: []string{
			"Read the Allow-Events header in the 489.",
			"Enable the package (BLF, presence, voicemail notifications) on the server, or stop the device subscribing to it.",
		},
		Retry: "No, unless the package is enabled on the server.",
	},
	{
		Code:   491,
		Reason: "Request Pending",
		RFC:    "RFC 3261 §21.4.27",
		Meaning: "Both ends of a dialog tried to change the session at the same moment (glare): the receiver has its own re-INVITE or UPDATE outstanding. " +
			"Each side backs off for a random time and tries again.",
		Causes: []string{
			"Both sides sending re-INVITE at once, for example hold on one side and a session refresh on the other.",
			"A T.38 fax switch-over colliding with another re-INVITE.",
		},
		Checks: []string{
			"Check the timing of re-INVITEs on both sides and which side is the session refresher.",
			"Check that the device retries after the random back-off instead of dropping the call.",
		},
		Retry: "Yes, after the random delay of RFC 3261 §14.1: 2.1 to 4 s if this side generated the Call-ID, up to 2 s otherwise.",
	},
	{
		Code:    493,
		Reason:  "Undecipherable",
		RFC:     "RFC 3261 §21.4.28",
		Meaning: "The request had an encrypted S/MIME body that the receiver cannot decrypt, because it lacks or does not recognise the key.",
		Causes: []string{
			"A body encrypted with the wrong public key or for another recipient.",
			"A receiver without S/MIME support or without its private key.",
		},
		Checks: []string{
			"Check which certificate the sender used and the receiver's keys.",
		},
		Retry: "Yes, after fixing the keys, or without encrypting the body.",
	},
	{
		Code:   494,
		Reason: "Security Agreement Required",
		RFC:    "RFC 3329",
		Meaning: "The server demands that the client first agree on a security mechanism (TLS, digest, IPsec) using the Security-Client, Security-Server and Security-Verify headers. " +
			"The response's Security-Server header lists the mechanisms it offers.",
		Causes: []string{
			"An IMS P-CSCF requiring IPsec (ipsec-3gpp) before it accepts the registration.",
			"A client that does not implement sec-agree.",
		},
		Checks: []string{
			"Read the Security-Server header in the 494.",
			"Check that the client supports sec-agree and the offered mechanism.",
		},
		Retry: "Yes, after setting up the agreed mechanism.",
	},
}
