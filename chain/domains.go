package chain

import "strings"

// Domains is the set of domains siplens serves, each with its aliases (host names and
// addresses that mean the same domain). The first name given for a domain is canonical:
// users, bindings and digest realms are keyed by it.
type Domains struct {
	canonical map[string]string
	names     []string
}

// NewDomains builds the set; each entry is a canonical name followed by its aliases.
func NewDomains(groups ...[]string) *Domains {
	d := &Domains{canonical: map[string]string{}}
	// Canonical names first, so a declared domain keeps its identity even when another
	// group lists it as an alias.
	for _, g := range groups {
		if len(g) == 0 {
			continue
		}
		name := strings.ToLower(g[0])
		if _, dup := d.canonical[name]; !dup {
			d.canonical[name] = name
			d.names = append(d.names, name)
		}
	}
	for _, g := range groups {
		if len(g) == 0 {
			continue
		}
		name := strings.ToLower(g[0])
		for _, alias := range g[1:] {
			a := strings.ToLower(strings.Trim(alias, "[]"))
			if _, taken := d.canonical[a]; !taken {
				d.canonical[a] = name
			}
		}
	}
	return d
}

// Canonical returns the canonical domain for host, and whether it is served.
func (d *Domains) Canonical(host string) (string, bool) {
	if c, ok := d.canonical[host]; ok { // the common case: already lower case
		return c, true
	}
	c, ok := d.canonical[strings.ToLower(strings.Trim(host, "[]"))]
	return c, ok
}

// Names lists the canonical names in the order given.
func (d *Domains) Names() []string { return d.names }

// Aliases lists every name and address served.
func (d *Domains) Aliases() []string {
	out := make([]string, 0, len(d.canonical))
	for a := range d.canonical {
		out = append(out, a)
	}
	return out
}
