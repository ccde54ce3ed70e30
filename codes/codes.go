// Package codes is siplens' knowledge base of SIP response codes: every code
// in the IANA "Response Codes" registry (RFC 3261 §21 plus the codes later
// RFCs added), with its standard reason phrase, the RFC that defines it, what
// it means in plain words, what usually causes it in real deployments, what to
// check next and whether retrying can help.
//
// The package is a leaf: it knows nothing about SIP messages or transports,
// so the CLI, the web pages and the call diagnosis can all share one text.
//
//	info := codes.Lookup(480)
//	codes.WriteText(os.Stdout, info)
//	fmt.Println(codes.Difference(480, 486))
//
// Lookup never fails. A code the registry does not list still gets an answer,
// because RFC 3261 §8.1.3.2 tells a client how to treat it: like the x00 code
// of its class, except that an unknown provisional code counts as 183. A
// number outside 100..699 gets an answer saying it is not a SIP status code
// at all.
package codes

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
)

// Info is what siplens knows about one response code.
type Info struct {
	// Code is the three-digit status code.
	Code int
	// Reason is the standard reason phrase. Senders may put any text on the
	// status line (RFC 3261 §7.2), so match on Code, never on this. Empty for a
	// code the registry does not list.
	Reason string
	// Class is the first digit of the code, 1..6; 0 for a number that is not a
	// valid SIP status code.
	Class int
	// RFC names the defining document and, where it has one, the section.
	RFC string
	// Meaning says what the code tells the sender of the request, in one or
	// two sentences.
	Meaning string
	// Causes are the usual reasons the code shows up in real deployments.
	Causes []string
	// Checks are the concrete things to look at next.
	Checks []string
	// Retry says whether sending the request again can help, and when.
	Retry string
	// Known is true for codes in the IANA registry and false for an Info that
	// Lookup made up for an unregistered or invalid code.
	Known bool
}

// String is the status line form of the code, e.g. "480 Temporarily
// Unavailable", or just the number when there is no standard phrase.
func (i Info) String() string {
	if i.Reason == "" {
		return strconv.Itoa(i.Code)
	}
	return strconv.Itoa(i.Code) + " " + i.Reason
}

// registry is every registered code, sorted by code. The entries themselves
// live in the registry_*.go files, one file per group of classes, so that
// each stays small enough to review.
var registry = buildRegistry(provisionalToRedirection, clientErrors, serverAndGlobalFailures)

// byCode indexes registry for Lookup.
var byCode = indexByCode(registry)

// buildRegistry fills in what follows from the code itself, so the data files
// cannot get it wrong: the class is the first digit and every listed entry is
// known.
func buildRegistry(groups ...[]Info) []Info {
	var all []Info
	for _, group := range groups {
		for _, info := range group {
			info.Class = info.Code / 100
			info.Known = true
			all = append(all, info)
		}
	}
	slices.SortFunc(all, func(a, b Info) int { return cmp.Compare(a.Code, b.Code) })
	return all
}

func indexByCode(infos []Info) map[int]int {
	index := make(map[int]int, len(infos))
	for i, info := range infos {
		index[info.Code] = i
	}
	return index
}

// Lookup returns what is known about code. It always returns a usable Info:
// for an unregistered code in 100..699 it describes the class and how RFC
// 3261 says to treat the code; for anything else it explains that the number
// is not a SIP status code. Known tells the cases apart.
func Lookup(code int) Info {
	if i, ok := byCode[code]; ok {
		return cloneInfo(registry[i])
	}
	if code < 100 || code > 699 {
		return invalidCode(code)
	}
	return unregisteredCode(code)
}

// All returns every registered code, sorted by code. The result is a copy, so
// callers may change it freely.
func All() []Info {
	out := make([]Info, len(registry))
	for i, info := range registry {
		out[i] = cloneInfo(info)
	}
	return out
}

// cloneInfo copies the slices so that a caller editing its Info cannot change
// the shared table behind every later Lookup.
func cloneInfo(info Info) Info {
	info.Causes = slices.Clone(info.Causes)
	info.Checks = slices.Clone(info.Checks)
	return info
}

// ClassName is the short name of a response class (the first digit of a
// code), or "Invalid" for anything outside 1..6.
func ClassName(class int) string {
	switch class {
	case 1:
		return "Provisional"
	case 2:
		return "Success"
	case 3:
		return "Redirection"
	case 4:
		return "Client error"
	case 5:
		return "Server error"
	case 6:
		return "Global failure"
	}
	return "Invalid"
}

// ClassMeaning says in plain words what every code of a class has in common.
func ClassMeaning(class int) string {
	switch class {
	case 1:
		return "The request arrived and is being worked on, but there is no outcome yet. " +
			"Provisional responses never end a transaction; for INVITE they report progress such as ringing or early media."
	case 2:
		return "The request worked. For INVITE the call is answered and the caller must send an ACK; " +
			"for REGISTER the binding is stored."
	case 3:
		return "The request did not fail, but it has to be sent somewhere else: " +
			"the Contact header of the response lists the new address or addresses to try."
	case 4:
		return "This server will not complete the request as it stands: something in the request, " +
			"the caller's rights or the callee's state is wrong. The same request may still work at another destination, " +
			"or after the caller changes something."
	case 5:
		return "The request looked valid but the server (or one behind it) failed to handle it. " +
			"The fault is on the answering side, and another server or a later attempt may succeed."
	case 6:
		return "The answer is final for every destination, not just this one: a proxy stops forking " +
			"and tries no other branch, and the caller should not look elsewhere."
	}
	return "Not a SIP response class: status codes are three digits from 100 to 699, " +
		"and the first digit (1 to 6) is the class."
}

// classBase is the code a client falls back to for an unrecognised code of
// the given class. RFC 3261 §8.1.3.2 makes this x00, except for provisional
// responses, where an unknown one (other than 100) counts as 183.
func classBase(class int) int {
	if class == 1 {
		return 183
	}
	return class * 100
}

// unregisteredCode synthesises the answer for a code in 100..699 that IANA
// has not registered: a vendor's private code, a code from a document newer
// than this table, or a typo.
func unregisteredCode(code int) Info {
	class := code / 100
	base := Lookup(classBase(class))
	return Info{
		Code:  code,
		Class: class,
		RFC:   "RFC 3261 §8.1.3.2",
		Meaning: "This code is not in the IANA registry. It is a " + strings.ToLower(ClassName(class)) +
			" response, and a client that does not recognise it must treat it as " + base.String() +
			" (RFC 3261 §8.1.3.2). " + ClassMeaning(class),
		Causes: []string{
			"A vendor-specific or private code that a PBX, SBC or carrier uses for its own purposes.",
			"A code registered after this table was written.",
			"A mistyped code in a log, a ticket or a configuration file.",
		},
		Checks: []string{
			"Read the reason phrase and any Reason or Warning header on the response: they usually say what the sender meant.",
			"Look the code up in the documentation of the device that sent it (the Server or User-Agent header names it).",
			"Make sure your own equipment handles it as " + base.String() + " and does not drop or mishandle it.",
		},
		Retry: unregisteredRetry(class),
		Known: false,
	}
}

// unregisteredRetry is the retry advice for an unregistered code, following
// from the x00 code it is handled as.
func unregisteredRetry(class int) string {
	switch class {
	case 1, 2:
		return "Not an error, so there is nothing to retry."
	case 3:
		return "As with 300, send a new request to an address from the Contact header; resending to the same address will not help."
	case 4:
		return "Not unchanged: as with 400, the same request will most likely get the same answer. Fix what the reason phrase or headers point at first."
	case 5:
		return "Possibly, as with 500: later or through another server, honouring Retry-After if present."
	default:
		return "Not at another destination: as with 600, a 6xx ends the search. Try again later only if Retry-After invites it."
	}
}

// invalidCode synthesises the answer for a number that cannot be a SIP status
// code at all.
func invalidCode(code int) Info {
	return Info{
		Code:  code,
		Class: 0,
		RFC:   "RFC 3261 §7.2",
		Meaning: strconv.Itoa(code) + " is not a valid SIP response code: SIP status codes are three digits " +
			"from 100 to 699 and the first digit gives the class.",
		Causes: []string{
			"A number from another numbering scheme, such as a Q.850/ISDN cause value (1 to 127) carried in a Reason header.",
			"A vendor's internal error number or a CDR field mistaken for a SIP status.",
			"A corrupted or truncated status line, or a typo.",
		},
		Checks: []string{
			"Find where the number came from: the status line itself, a Reason header (SIP or Q.850), or a CDR or log field.",
			"If it is a Q.850 cause, look it up as one (16 is normal call clearing, 17 user busy, 34 no circuit available).",
			"If a device really sent it on the status line, capture the traffic: a peer that sends it is broken.",
		},
		Retry: "Not applicable: this is not a response a SIP element may send.",
		Known: false,
	}
}

// Search returns the registered codes whose number, reason phrase, meaning or
// causes contain every word of query, ignoring case, sorted by code. Words
// are matched independently so "not registered" finds texts that say
// "registered ... not" too. An empty query matches every code.
func Search(query string) []Info {
	terms := strings.Fields(strings.ToLower(query))
	var found []Info
	for _, info := range registry {
		text := searchText(info)
		if allContained(text, terms) {
			found = append(found, cloneInfo(info))
		}
	}
	return found
}

func searchText(info Info) string {
	parts := []string{strconv.Itoa(info.Code), info.Reason, info.Meaning}
	parts = append(parts, info.Causes...)
	return strings.ToLower(strings.Join(parts, "\n"))
}

func allContained(text string, terms []string) bool {
	for _, term := range terms {
		if !strings.Contains(text, term) {
			return false
		}
	}
	return true
}
