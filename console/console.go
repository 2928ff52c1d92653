// Package console is parley's web console: a page, served at /console/ on
// the API's own port, where a developer signs in with the account's
// credentials and sees and drives what parley holds (services, users,
// conversations, messages, webhook deliveries).
//
// The console is static files embedded in the binary: it has no server
// side of its own and no private endpoint. The page calls the same REST
// API that twilio-go and twilio-node call, with the credentials typed into
// it, so whatever it shows or does, an SDK could show or do too, and
// nothing in it needs a build step or a download at run time.
package console

import (
	"embed"
	"io/fs"
	"net/http"
	"path"
	"strings"
)

// Path is where the console is mounted.
const Path = "/console/"

//go:embed static
var files embed.FS

// static is the embedded directory itself, so that the served names are
// index.html, console.js and console.css.
var static, _ = fs.Sub(files, "static")

// securityHeaders keep the console's pages from being framed or from
// running any script but its own: it handles the account's credentials,
// and every value it shows comes from API data that anyone with a token
// could have written.
var securityHeaders = map[string]string{
	"Content-Security-Policy": "default-src 'self'; img-src 'self' blob: data:; media-src 'self' blob:; " +
		"style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
	"X-Content-Type-Options": "nosniff",
	"Referrer-Policy":        "no-referrer",
	"Cache-Control":          "no-cache",
}

// Handler serves the console's files for GET and HEAD under Path. Every
// path that names no file is the page itself (its views are addressed by
// the URL's fragment, which browsers never send).
func Handler() http.Handler {
	fileServer := http.FileServerFS(static)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		for k, v := range securityHeaders {
			h.Set(k, v)
		}
		name := strings.TrimPrefix(path.Clean("/"+strings.TrimPrefix(r.URL.Path, Path)), "/")
		if !exists(name) {
			name = "index.html"
		}
		// ServeFileFS would redirect ".../index.html" to "./": name the
		// file by a request of its own.
		r2 := r.Clone(r.Context())
		r2.URL.Path = "/" + name
		if name == "index.html" {
			r2.URL.Path = "/"
		}
		fileServer.ServeHTTP(w, r2)
	})
}

// exists reports whether name is one of the console's files.
func exists(name string) bool {
	info, err := fs.Stat(static, name)
	return err == nil && !info.IsDir()
}
