package codes

// serverAndGlobalFailures holds the registered 5xx and 6xx codes. Class and
// Known are filled in by buildRegistry.
var serverAndGlobalFailures = []Info{
	{
		Code:   500,
		Reason: "Server Internal Error",
		RFC:    "RFC 3261 §21.5.1",
		Meaning: "The server hit an unexpected condition and could not handle a request that looked valid. " +
			"A proxy also sends 500 when the only answer it got from its branches was 503, because passing 503 upstream would wrongly say the proxy itself is out of service (RFC 3261 §16.7).",
		Causes: []string{
			"A software bug or unhandled exception in the PBX, proxy script or application server.",
			"A backend failure: database, directory or billing system unavailable.",
			"A proxy replacing a downstream 503 with 500.",
			"Resource exhaustion (memory, file descriptors, threads).",
		},
		Checks: []string{
			"Search the server's logs by Call-ID at the time of the error.",
			"Read the reason phrase and any Reason or Warning header.",
			"Check what the branches behind a proxy answered: a 503 from a gateway or trunk often hides behind the 500.",
			"Check database and backend connectivity.",
		},
		Retry: "Maybe: after Retry-After if given, or through another server. If it repeats, it is a fault to fix, not a passing state.",
	},
	{
		Code:   501,
		Reason: "Not Implemented",
		RFC:    "RFC 3261 §21.5.2",
		Meaning: "The server does not support what the request needs, typically because it does not implement the method at all " +
			"(405 is for a method it knows but will not allow for this address).",
		Causes: []string{
			"UPDATE, PUBLISH, MESSAGE, INFO or REFER sent to a device that does not implement the method.",
			"Old firmware without a newer extension.",
		},
		Checks: []string{
			"Send OPTIONS and read the Allow header to see the methods the device implements.",
			"Configure the sender to use an implemented alternative (re-INVITE instead of UPDATE, for example), or upgrade the device.",
		},
		Retry: "No, not with the same method.",
	},
	{
		Code:    502,
		Reason:  "Bad Gateway",
		RFC:     "RFC 3261 §21.5.3",
		Meaning: "A server acting as gateway or proxy got an invalid response from the server it forwarded the request to.",
		Causes: []string{
			"A downstream server or carrier returned a malformed or meaningless response.",
			"A PSTN destination out of order: gateways map ISDN cause 27 to 502 (RFC 3398).",
		},
		Checks: []string{
			"Capture the downstream leg and look at the response the gateway received.",
			"Read the Reason header for a Q.850 cause from the PSTN.",
			"Check the gateway's logs for the downstream error.",
		},
		Retry: "Possibly later or by another route; the same route may fail the same way.",
	},
	{
		Code:   503,
		Reason: "Service Unavailable",
		RFC:    "RFC 3261 §21.5.4",
		Meaning: "The server cannot take requests for now, because it is overloaded or under maintenance. A Retry-After header says how long to stay away, " +
			"and the client should try another server meanwhile (for example the next DNS SRV target).",
		Causes: []string{
			"Overload: too many calls or registrations, or a call-rate limit on an SBC.",
			"Maintenance, or a service still starting up.",
			"A trunk that is down or unregistered, or all channels or licences in use.",
			"No healthy gateway left in a dispatcher or load-balancer list.",
			"A backend the server depends on (database, media server) being unavailable.",
		},
		Checks: []string{
			"Check Retry-After and honour it.",
			"Check the server's health: CPU, memory, queues, licences and channel counts.",
			"Check the trunk's registration and the health of gateways behind the server.",
			"Check that DNS SRV gives failover targets and that clients use them.",
		},
		Retry: "Yes: after Retry-After, and meanwhile through another server. Do not hammer the same server before Retry-After expires.",
	},
	{
		Code:    504,
		Reason:  "Server Time-out",
		RFC:     "RFC 3261 §21.5.5",
		Meaning: "The server needed an answer from another server to handle the request (the next hop, a location service, DNS or a database) and did not get it in time.",
		Causes: []string{
			"A downstream gateway or carrier not responding.",
			"A slow or failed lookup: DNS, ENUM, number-portability or routing database.",
			"A call-authentication or signing service timing out.",
		},
		Checks: []string{
			"Check latency and reachability from the server to each external service it uses.",
			"Check the server's DNS resolvers.",
			"Check the logs of the downstream server for the request.",
		},
		Retry: "May succeed later or through another route, once the slow service recovers.",
	},
	{
		Code:    505,
		Reason:  "Version Not Supported",
		RFC:     "RFC 3261 §21.5.6",
		Meaning: "The server does not support the SIP version in the request. Everything today speaks SIP/2.0.",
		Causes: []string{
			"A request with a version other than SIP/2.0, or a garbled version string.",
			"Scanners or non-SIP traffic on the SIP port, or a broken ALG.",
		},
		Checks: []string{
			"Check the version in the request line and in Via: both must be SIP/2.0.",
		},
		Retry: "Yes, only with SIP/2.0.",
	},
	{
		Code:    513,
		Reason:  "Message Too Large",
		RFC:     "RFC 3261 §21.5.7",
		Meaning: "The whole request is longer than the server can process.",
		Causes: []string{
			"A large INVITE: big SDP with many codecs or ICE candidates, long Via and Record-Route chains, many headers.",
			"A large message sent over UDP; RFC 3261 §18.1.1 wants TCP for requests within 200 bytes of the path MTU.",
		},
		Checks: []string{
			"Check the size of the request as sent.",
			"Switch to TCP for large messages, and trim SDP and unneeded headers.",
		},
		Retry: "Yes, after making the message smaller or changing the transport.",
	},
	{
		Code:    555,
		Reason:  "Push Notification Service Not Supported",
		RFC:     "RFC 8599",
		Meaning: "The REGISTER asked to be woken by a push notification service (the pn-provider URI parameter) that the proxy does not support.",
		Causes: []string{
			"A mobile app asking for a push provider (APNs, FCM, Web Push) that the server is not set up for.",
			"A misspelt pn-provider value.",
		},
		Checks: []string{
			"Check the pn-provider value the app sends.",
			"Check which push services the proxy supports and is configured for.",
		},
		Retry: "Not with the same push provider; register with a supported one or without push.",
	},
	{
		Code:    580,
		Reason:  "Precondition Failure",
		RFC:     "RFC 3312",
		Meaning: "The callee cannot or will not meet the preconditions the SDP offer made mandatory, such as reserving network resources for quality of service.",
		Causes: []string{
			"Resource reservation (QoS bearer) failed in an IMS or mobile network.",
			"Preconditions required by the caller but not supported by the callee.",
		},
		Checks: []string{
			"Read the precondition attributes (a=des, a=curr, a=conf) in the SDP.",
			"Check Require: precondition and the bearer setup in the access network.",
		},
		Retry: "Once resources are available, or with preconditions offered as optional instead of mandatory.",
	},
	{
		Code:   600,
		Reason: "Busy Everywhere",
		RFC:    "RFC 3261 §21.6.1",
		Meaning: "The callee is busy and knows that no other destination, such as voicemail, will take the call. " +
			"Being a 6xx, it ends forking: a proxy cancels pending branches and starts no new ones.",
		Causes: []string{
			"A callee device or service that knows all of the user's lines are busy and there is no alternative.",
			"A device set to send 600 when it is busy, where 486 was intended.",
		},
		Checks: []string{
			"Check the callee's forwarding and voicemail settings.",
			"If callers should reach voicemail on busy, make the device send 486 instead of 600.",
		},
		Retry: "Later (honour Retry-After), but not elsewhere now: every destination is busy.",
	},
	{
		Code:   603,
		Reason: "Decline",
		RFC:    "RFC 3261 §21.6.2",
		Meaning: "The callee's device was reached and the user explicitly does not want to take part, and there is nowhere else to try. " +
			"As a 6xx it ends forking. Retry-After may say when the callee is willing again.",
		Causes: []string{
			"The user pressed decline or reject.",
			"A block list, call-screening or auto-reject rule.",
			"Do not disturb on devices that implement it as decline.",
		},
		Checks: []string{
			"Check the callee's block lists and call-rejection rules.",
			"Check how the reject button and do not disturb are mapped (486 lets voicemail pick up, 603 does not).",
		},
		Retry: "Not unless the callee changes their mind; honour Retry-After if present.",
	},
	{
		Code:    604,
		Reason:  "Does Not Exist Anywhere",
		RFC:     "RFC 3261 §21.6.3",
		Meaning: "The server knows with authority that the user does not exist anywhere. Being a 6xx, it also stops a proxy trying other branches.",
		Causes: []string{
			"An unassigned or never-issued number, answered by an authoritative server or carrier.",
		},
		Checks: []string{
			"Check the dialled number and the numbering plan.",
			"Check number-portability and provider records if the number should exist.",
		},
		Retry: "Never.",
	},
	{
		Code:   606,
		Reason: "Not Acceptable",
		RFC:    "RFC 3261 §21.6.4",
		Meaning: "The user was reached but some aspect of the session (media, bandwidth, addressing) is not acceptable anywhere. " +
			"It is the global form of 488, and a Warning header may say what was wrong.",
		Causes: []string{
			"An offer with only media the user cannot handle on any device (video only to an audio-only user, for example).",
			"No common codec or secure-media profile with any of the user's devices.",
		},
		Checks: []string{
			"Compare the SDP offer with what the user's devices support.",
			"Read the Warning header for the reason.",
		},
		Retry: "Only with a different offer; another destination will not help.",
	},
	{
		Code:   607,
		Reason: "Unwanted",
		RFC:    "RFC 8197",
		Meaning: "The callee rejects the call because they consider it unwanted, such as a nuisance or robocall. " +
			"Networks may use the signal to improve call analytics.",
		Causes: []string{
			"The callee marked the caller as spam or unwanted.",
			"A call-blocking application on the callee's side.",
		},
		Checks: []string{
			"If legitimate calls are being marked, check the calling number's reputation and its STIR/SHAKEN attestation.",
		},
		Retry: "No.",
	},
	{
		Code:   608,
		Reason: "Rejected",
		RFC:    "RFC 8688",
		Meaning: "An intermediary, such as a carrier's call-analytics engine, rejected the call, not the callee. " +
			"The response can carry a jCard (in Call-Info) telling a legitimate caller whom to contact to fix it.",
		Causes: []string{
			"Network-level robocall analytics blocking the calling number.",
			"A poor reputation or low attestation for the calling number.",
		},
		Checks: []string{
			"Read the Call-Info jCard for the blocking party's contact details.",
			"Check the calling number's reputation and attestation, and register it with analytics providers.",
		},
		Retry: "Not until the block is resolved with the party that applied it.",
	},
}
