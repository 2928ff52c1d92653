package api

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/core"
)

// Benchmarks of the wire layer's hot paths, without storage: decoding a
// create form, and encoding one user and one page of 50.

func benchServer() *Server {
	app := core.New(core.Options{Account: parley.Account{Sid: "AC0123456789abcdef0123456789abcdef", PageKey: []byte("k")}})
	return New(Options{App: app})
}

func benchUser(i int) parley.User {
	name := fmt.Sprintf("User %d", i)
	t := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	return parley.User{Seq: int64(i + 1), Sid: fmt.Sprintf("US%032x", i), ServiceSid: "IS0123456789abcdef0123456789abcdef",
		RoleSid: "RL0123456789abcdef0123456789abcdef", Identity: fmt.Sprintf("user%d@example.com", i), FriendlyName: &name,
		Attributes: `{"team":"support","tier":2,"tags":["a","b"]}`, DateCreated: t, DateUpdated: t}
}

func BenchmarkReadForm(b *testing.B) {
	s := benchServer()
	op := s.operation("CreateUser")
	body := "Identity=alice%40example.com&FriendlyName=Alice+Example&Attributes=%7B%22team%22%3A%22support%22%2C%22tier%22%3A2%7D&RoleSid=RL0123456789abcdef0123456789abcdef"
	b.ReportAllocs()
	for b.Loop() {
		r := httptest.NewRequest(http.MethodPost, "/v1/Users", strings.NewReader(body))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		q, err := s.newReq(r, op)
		if err != nil {
			b.Fatal(err)
		}
		s.createUser(q)
		if q.err != nil {
			b.Fatal(q.err)
		}
	}
}

func BenchmarkEncodeUser(b *testing.B) {
	s := benchServer()
	u := benchUser(1)
	enc := encoderFor(s.operation("FetchUser"), userFields)
	c := &wireContext{base: "http://127.0.0.1:8080", account: s.app.AccountSid()}
	buf := make([]byte, 0, 4096)
	b.ReportAllocs()
	for b.Loop() {
		buf = enc.append(buf[:0], c, &u)
	}
}

func BenchmarkEncodePage(b *testing.B) {
	s := benchServer()
	enc := encoderFor(s.operation("ListUser"), userFields)
	page := parley.Page[parley.User]{HasNext: true, HasPrev: true}
	for i := range 50 {
		page.Items = append(page.Items, benchUser(i))
	}
	page.FirstSeq, page.LastSeq = 1, 50
	lr := listRequest{query: parley.PageQuery{Size: 50, After: 7}, page: 3, token: "PTabc"}
	c := &wireContext{base: "http://127.0.0.1:8080", account: s.app.AccountSid()}
	buf := make([]byte, 0, 64<<10)
	b.ReportAllocs()
	for b.Loop() {
		m := pageMeta(s, c.base, "/v1/Users", "users", lr, page)
		buf = buf[:0]
		for i := range page.Items {
			buf = enc.append(buf, c, &page.Items[i])
		}
		buf = metaWire.append(buf, c, &m)
	}
}
