// Package store holds what siplens must not forget: local users and the registrar's
// bindings. Backends live in subpackages (sqlite is the embedded default, memory is for
// tests); storetest is the conformance suite every backend passes.
package store

import (
	"context"
	"errors"
	"time"
)

// User is a local user. Passwords are never stored: only the digest HA1 values for each
// algorithm, H(user:realm:password) (RFC 7616 3.4.2).
type User struct {
	Name      string
	Domain    string
	HA1MD5    string
	HA1SHA256 string
	// Realm is the realm the HA1 values were computed for; they are useless for another.
	Realm string
	// Settings is how calls to the user are handled.
	Settings
}

// Settings are a user's call-handling choices (steps/locate).
type Settings struct {
	// DND, when not 0, is the code a call gets while the user has do-not-disturb on:
	// 480 (the default choice), 486 or 603.
	DND int
	// ForwardTo, when set, forwards every call unconditionally to this URI.
	ForwardTo string
	// ForwardMode is "redirect" (answer 302 with the new Contact, the caller's phone
	// follows it) or "proxy" (siplens sends the call there itself).
	ForwardMode string
	// MaxCalls, when not 0, bounds the user's simultaneous calls; one more gets 486.
	MaxCalls int
}

// AOR is the address-of-record "user@domain".
func (u User) AOR() string { return u.Name + "@" + u.Domain }

// Binding is one registered contact of an address-of-record (RFC 3261 10.3).
type Binding struct {
	AOR     string
	Contact string // the Contact URI as registered, without header parameters
	Q       float64
	Expires time.Time
	CallID  string
	CSeq    uint32
	// Source is where the REGISTER came from ("ip:port"), as seen by siplens (RFC 3581).
	Source string
	// NAT is true when the phone looked to be behind NAT when it registered: requests to
	// it then go to Source, the address its NAT opened, not to its Contact.
	NAT       bool
	Transport string
	UserAgent string
	Updated   time.Time
}

// ErrNotFound is returned by lookups that find nothing.
var ErrNotFound = errors.New("not found")

// Users is the user directory.
type Users interface {
	GetUser(ctx context.Context, name, domain string) (User, error)
	PutUser(ctx context.Context, u User) error
	DeleteUser(ctx context.Context, name, domain string) error
	ListUsers(ctx context.Context) ([]User, error)
}

// Locations is the location service: bindings per address-of-record.
type Locations interface {
	// Bindings returns the unexpired bindings of aor at time now.
	Bindings(ctx context.Context, aor string, now time.Time) ([]Binding, error)
	// Update replaces the bindings of aor by what fn returns, atomically with respect to
	// other updates of the same aor; fn sees the current unexpired bindings. When fn
	// returns an error nothing changes. The new set is durable when Update returns.
	Update(ctx context.Context, aor string, now time.Time, fn func(current []Binding) ([]Binding, error)) ([]Binding, error)
	// AllBindings lists every unexpired binding (admin API, `siplens` status).
	AllBindings(ctx context.Context, now time.Time) ([]Binding, error)
	// Expire removes bindings that expired before now and returns how many.
	Expire(ctx context.Context, now time.Time) (int, error)
}
