package web_test

import (
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/siplens/siplens/web"
)

func TestHandler(t *testing.T) {
	h := web.Handler()
	tests := []struct {
		method, path string
		status       int
		contentType  string
		body         string // part of the body
	}{
		{"GET", "/", 200, "text/html; charset=utf-8", `<script src="app.js" defer></script>`},
		{"GET", "/index.html", 200, "text/html; charset=utf-8", "<nav>"},
		{"GET", "/app.js", 200, "text/javascript; charset=utf-8", "function drawLadder"},
		{"GET", "/style.css", 200, "text/css; charset=utf-8", ".ladder-svg"},
		{"HEAD", "/app.js", 200, "text/javascript; charset=utf-8", ""},
		{"GET", "/nope.js", 404, "", "404"},
		{"GET", "/static/app.js", 404, "", "404"},
		{"POST", "/", 405, "", "405"},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest(tt.method, tt.path, nil))
			if rec.Code != tt.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tt.status, rec.Body)
			}
			if tt.contentType != "" && rec.Header().Get("Content-Type") != tt.contentType {
				t.Errorf("Content-Type %q, want %q", rec.Header().Get("Content-Type"), tt.contentType)
			}
			if !strings.Contains(rec.Body.String(), tt.body) {
				t.Errorf("body lacks %q:\n%.300s", tt.body, rec.Body)
			}
			if tt.status == 200 {
				for _, h := range []string{"Content-Security-Policy", "ETag", "X-Frame-Options", "Referrer-Policy"} {
					if rec.Header().Get(h) == "" {
						t.Errorf("no %s header", h)
					}
				}
			}
		})
	}
}

// TestRevalidation: a browser that has the file gets a 304, and a new build a new ETag.
func TestRevalidation(t *testing.T) {
	h := web.Handler()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/app.js", nil))
	etag := rec.Header().Get("ETag")
	req := httptest.NewRequest("GET", "/app.js", nil)
	req.Header.Set("If-None-Match", etag)
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusNotModified || rec.Body.Len() != 0 {
		t.Fatalf("If-None-Match %s: %d, %d bytes; want 304", etag, rec.Code, rec.Body.Len())
	}
}

// TestSelfContained: nothing the page loads comes from another host (the page must
// work without Internet access), and no inline script or style breaks the CSP.
func TestSelfContained(t *testing.T) {
	files := web.Files()
	slices.Sort(files)
	if want := []string{"app.js", "index.html", "style.css"}; !slices.Equal(files, want) {
		t.Fatalf("embedded files %q, want %q", files, want)
	}
	h := web.Handler()
	external := regexp.MustCompile(`(?i)(src|href)\s*=\s*["']?(https?:)?//|@import|url\(\s*["']?(https?:)?//`)
	for _, name := range files {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/"+name, nil))
		body := rec.Body.String()
		if m := external.FindString(body); m != "" {
			t.Errorf("%s refers to another host: %q", name, m)
		}
		if name == "index.html" {
			if regexp.MustCompile(`<script>|<script [^>]*>[^<]|<style|style=|\son[a-z]+=`).MatchString(body) {
				t.Errorf("index.html has inline script or style, which the CSP refuses")
			}
		}
		if size := len(body); size > 64<<10 {
			t.Errorf("%s is %d bytes: keep the page small", name, size)
		}
	}
}
