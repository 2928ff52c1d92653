package api

import (
	_ "embed"
	"net/http"
)

// examplePath serves a tiny page where two browser tabs chat through
// parley with @twilio/conversations (README, "Front ends"). It holds no
// secret: each tab pastes an access token from `parley token`.
const examplePath = "/parley/example/"

//go:embed example/index.html
var examplePage []byte

func serveExample(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(examplePage)
	}
}
