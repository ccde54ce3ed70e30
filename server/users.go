package server

import (
	"context"
	"errors"
	"sort"

	"github.com/siplens/siplens/config"
	"github.com/siplens/siplens/digest"
	"github.com/siplens/siplens/store"
	"github.com/siplens/siplens/store/memory"
)

// Realm is the digest realm of a canonical domain: the configured one, or the domain.
func Realm(cfg config.Config, domain string) string {
	if cfg.Auth.Realm != "" {
		return cfg.Auth.Realm
	}
	return domain
}

// DefaultDomain is the domain users belong to when none is given.
func DefaultDomain(cfg config.Config) string {
	if len(cfg.Domains) > 0 {
		return cfg.Domains[0]
	}
	return "localhost"
}

// NewUser makes a user record from a password: only the HA1 values are kept.
func NewUser(cfg config.Config, name, domain, password string) store.User {
	realm := Realm(cfg, domain)
	return store.User{
		Name: name, Domain: domain, Realm: realm,
		HA1MD5:    digest.HA1(digest.MD5, name, realm, password),
		HA1SHA256: digest.HA1(digest.SHA256, name, realm, password),
	}
}

// ConfigUsers turns the users of the config file into an in-memory directory.
func ConfigUsers(cfg config.Config) (*memory.Users, error) {
	users := memory.NewUsers()
	for _, u := range cfg.Users {
		domain := u.Domain
		if domain == "" {
			domain = DefaultDomain(cfg)
		}
		rec := store.User{Name: u.User, Domain: domain, Realm: Realm(cfg, domain), HA1MD5: u.HA1MD5, HA1SHA256: u.HA1SHA256}
		if u.Password != "" {
			rec = NewUser(cfg, u.User, domain, u.Password)
		}
		rec.Settings = store.Settings{DND: u.DND, ForwardTo: u.ForwardTo, ForwardMode: u.ForwardMode, MaxCalls: u.MaxCalls}
		if err := users.PutUser(context.Background(), rec); err != nil {
			return nil, err
		}
	}
	return users, nil
}

// layeredUsers looks in the config's users first, then in the store.
type layeredUsers struct {
	first store.Users
	then  store.Users
}

func (l layeredUsers) GetUser(ctx context.Context, name, domain string) (store.User, error) {
	u, err := l.first.GetUser(ctx, name, domain)
	if errors.Is(err, store.ErrNotFound) {
		return l.then.GetUser(ctx, name, domain)
	}
	return u, err
}

func (l layeredUsers) PutUser(ctx context.Context, u store.User) error { return l.then.PutUser(ctx, u) }

func (l layeredUsers) DeleteUser(ctx context.Context, name, domain string) error {
	return l.then.DeleteUser(ctx, name, domain)
}

func (l layeredUsers) ListUsers(ctx context.Context) ([]store.User, error) {
	a, err := l.first.ListUsers(ctx)
	if err != nil {
		return nil, err
	}
	b, err := l.then.ListUsers(ctx)
	if err != nil {
		return nil, err
	}
	all := append(a, b...)
	sort.Slice(all, func(i, j int) bool { return all[i].AOR() < all[j].AOR() })
	return all, nil
}
