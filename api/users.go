package api

import (
	"net/http"

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
	writeJSON(w, http.StatusCreated, s.user(s.baseURL(r), prefix, u))
	return nil
}

func (s *Server) fetchUser(w http.ResponseWriter, r *http.Request) error {
	svc, prefix := scope(r)
	u, err := s.app.FetchUser(r.Context(), svc, r.PathValue("Sid"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.user(s.baseURL(r), prefix, u))
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
	writeJSON(w, http.StatusOK, s.user(s.baseURL(r), prefix, u))
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
	items := make([]userJSON, len(p.Items))
	for i, u := range p.Items {
		items[i] = s.user(base, prefix, u)
	}
	writeList(w, "users", items, pageMeta(s, base, r.URL.EscapedPath(), "users", lr, p))
	return nil
}

// writeList writes Twilio's list envelope: the items under key, and meta.
func writeList[T any](w http.ResponseWriter, key string, items []T, m meta) {
	writeJSON(w, http.StatusOK, map[string]any{key: items, "meta": m})
}
