package api

import (
	"net/http"

	"github.com/parleyhq/parley"

	"github.com/parleyhq/parley/core"
)

// Users: /v1/Users[/{Sid}] and /v1/Services/{ChatServiceSid}/Users[/{Sid}].

// maxUserPage is the spec's PageSize maximum for users.
const maxUserPage = 50

// scope is the service a request addresses ("" for the default service of
// shortened URLs) and the URL prefix its resources link back under.
func scope(r *http.Request) (svc, prefix string) {
	svc = r.PathValue("ChatServiceSid")
	if svc == "" {
		return "", "/v1"
	}
	return svc, "/v1/Services/" + svc
}

func (s *Server) createUser(w http.ResponseWriter, r *http.Request) error {
	f, err := s.readForm(r)
	if err != nil {
		return err
	}
	identity, err1 := f.str("Identity")
	name, err2 := f.str("FriendlyName")
	attrs, err3 := f.str("Attributes")
	role, err4 := f.str("RoleSid")
	if err := firstErr(err1, err2, err3, err4); err != nil {
		return err
	}
	in := core.UserCreate{FriendlyName: name, Attributes: attrs, RoleSid: role}
	if identity != nil {
		in.Identity = *identity
	}
	svc, prefix := scope(r)
	u, err := s.app.CreateUser(r.Context(), svc, in, webhookOptions(r))
	if err != nil {
		return err
	}
	s.writeUser(w, r, http.StatusCreated, prefix, u)
	return nil
}

func (s *Server) fetchUser(w http.ResponseWriter, r *http.Request) error {
	svc, prefix := scope(r)
	u, err := s.app.FetchUser(r.Context(), svc, r.PathValue("Sid"))
	if err != nil {
		return err
	}
	s.writeUser(w, r, http.StatusOK, prefix, u)
	return nil
}

func (s *Server) updateUser(w http.ResponseWriter, r *http.Request) error {
	f, err := s.readForm(r)
	if err != nil {
		return err
	}
	name, err1 := f.str("FriendlyName")
	attrs, err2 := f.str("Attributes")
	role, err3 := f.str("RoleSid")
	if err := firstErr(err1, err2, err3); err != nil {
		return err
	}
	svc, prefix := scope(r)
	u, err := s.app.UpdateUser(r.Context(), svc, r.PathValue("Sid"),
		core.UserUpdate{FriendlyName: name, Attributes: attrs, RoleSid: role}, webhookOptions(r))
	if err != nil {
		return err
	}
	s.writeUser(w, r, http.StatusOK, prefix, u)
	return nil
}

func (s *Server) deleteUser(w http.ResponseWriter, r *http.Request) error {
	svc, _ := scope(r)
	if err := s.app.DeleteUser(r.Context(), svc, r.PathValue("Sid"), webhookOptions(r)); err != nil {
		return err
	}
	noContent(w)
	return nil
}

func (s *Server) listUsers(w http.ResponseWriter, r *http.Request) error {
	f, err := s.readForm(r)
	if err != nil {
		return err
	}
	lr, err := s.readList(r, f, maxUserPage)
	if err != nil {
		return err
	}
	svc, prefix := scope(r)
	p, err := s.app.ListUsers(r.Context(), svc, lr.query)
	if err != nil {
		return err
	}
	base := s.baseURL(r)
	writeList(w, "users", p.Items, func(b []byte, u parley.User) []byte { return s.appendUser(b, base, prefix, u) },
		pageMeta(s, base, r.URL.EscapedPath(), "users", lr, p))
	return nil
}

func (s *Server) writeUser(w http.ResponseWriter, r *http.Request, status int, prefix string, u parley.User) {
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	*bp = s.appendUser((*bp)[:0], s.baseURL(r), prefix, u)
	writeRaw(w, status, *bp)
}

// writeList writes Twilio's list envelope: the items under key, each
// appended by appendItem, then meta.
func writeList[T any](w http.ResponseWriter, key string, items []T, appendItem func([]byte, T) []byte, m meta) {
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	b := append((*bp)[:0], '{', '"')
	b = append(b, key...)
	b = append(b, `":[`...)
	for i, item := range items {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendItem(b, item)
	}
	b = append(b, `],"meta":`...)
	b = appendValue(b, m)
	b = append(b, '}')
	*bp = b
	writeRaw(w, http.StatusOK, b)
}

// jsonItem appends any wire struct through encoding/json, for lists of
// resources less hot than users.
func jsonItem[T any](b []byte, v T) []byte { return appendValue(b, v) }
