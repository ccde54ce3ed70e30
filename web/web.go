// Package web is siplens' web page: a few static files embedded in the binary and
// served by the admin HTTP server at "/". The page is a client of the admin API
// (/api/...), like the siplens commands; it holds no data of its own, so serving it
// needs no token: every figure it shows comes from an /api request that does.
//
// The files are plain HTML, CSS and JavaScript with no build step and nothing fetched
// from elsewhere, so the page works on a network without Internet access.
package web

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"time"
)

//go:embed static
var static embed.FS

// file is one asset, read once at start.
type file struct {
	name        string
	body        []byte
	contentType string
	etag        string
}

// Handler serves the page: "/" is index.html, "/app.js" and "/style.css" its script and
// style. Anything else is 404; other methods than GET and HEAD are 405.
func Handler() http.Handler {
	files, err := load()
	if err != nil {
		// The files are compiled in: a failure here is a build mistake, found by the
		// package's tests.
		panic(err)
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, "/")
		if name == "" {
			name = "index.html"
		}
		f, ok := files[name]
		if !ok {
			http.Error(w, "404 page not found (the page lives at /, the API under /api/)", http.StatusNotFound)
			return
		}
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, "405 method not allowed", http.StatusMethodNotAllowed)
			return
		}
		h := w.Header()
		h.Set("Content-Type", f.contentType)
		// Revalidate every time: the ETag makes that a 304 of a few bytes, and a new
		// binary never runs with an old script from the cache.
		h.Set("Cache-Control", "no-cache")
		h.Set("ETag", f.etag)
		h.Set("X-Content-Type-Options", "nosniff")
		// The page runs only its own script and style, talks only to its own server and
		// may not be framed (clickjacking). No inline script is allowed: message text
		// shown on the page cannot become code even if escaping failed somewhere.
		h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'")
		h.Set("X-Frame-Options", "DENY")
		// A token given as ?token= must not leak to other sites through Referer.
		h.Set("Referrer-Policy", "no-referrer")
		http.ServeContent(w, r, f.name, time.Time{}, bytes.NewReader(f.body))
	})
}

// Files lists the names the handler serves, for tests.
func Files() []string {
	files, err := load()
	if err != nil {
		return nil
	}
	out := make([]string, 0, len(files))
	for name := range files {
		out = append(out, name)
	}
	return out
}

func load() (map[string]file, error) {
	out := map[string]file{}
	err := fs.WalkDir(static, "static", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := static.ReadFile(p)
		if err != nil {
			return fmt.Errorf("web: read embedded %s: %w", p, err)
		}
		name := strings.TrimPrefix(p, "static/")
		ct := mime.TypeByExtension(path.Ext(name))
		if ct == "" {
			ct = "application/octet-stream"
		}
		sum := sha256.Sum256(body)
		out[name] = file{name: name, body: body, contentType: ct, etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("web: embedded files: %w", err)
	}
	if _, ok := out["index.html"]; !ok {
		return nil, fmt.Errorf("web: index.html is not embedded")
	}
	return out, nil
}
