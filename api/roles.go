package api

import (
	"net/http"

	"github.com/parleyhq/parley/core"
)

// Roles: /v1/Roles[/{Sid}] and /v1/Services/{ChatServiceSid}/Roles[/{Sid}].

// maxRolePage is the spec's PageSize maximum for roles.
const maxRolePage = 50

func (s *Server) createRole(w http.ResponseWriter, r *http.Request) error {
	f, err := s.readForm(r)
	if err != nil {
		return err
	}
	name, err1 := f.str("FriendlyName")
	typ, err2 := f.str("Type")
	if err := firstErr(err1, err2); err != nil {
		return err
	}
	in := core.RoleCreate{Permissions: f.list("Permission")}
	if name != nil {
		in.FriendlyName = *name
	}
	if typ != nil {
		in.Type = *typ
	}
	svc, prefix := scope(r)
	role, err := s.app.CreateRole(r.Context(), svc, in)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, s.role(s.baseURL(r), prefix, role))
	return nil
}

func (s *Server) fetchRole(w http.ResponseWriter, r *http.Request) error {
	svc, prefix := scope(r)
	role, err := s.app.FetchRole(r.Context(), svc, r.PathValue("Sid"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.role(s.baseURL(r), prefix, role))
	return nil
}

func (s *Server) updateRole(w http.ResponseWriter, r *http.Request) error {
	f, err := s.readForm(r)
	if err != nil {
		return err
	}
	svc, prefix := scope(r)
	role, err := s.app.UpdateRole(r.Context(), svc, r.PathValue("Sid"), f.list("Permission"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.role(s.baseURL(r), prefix, role))
	return nil
}

func (s *Server) deleteRole(w http.ResponseWriter, r *http.Request) error {
	svc, _ := scope(r)
	if err := s.app.DeleteRole(r.Context(), svc, r.PathValue("Sid")); err != nil {
		return err
	}
	noContent(w)
	return nil
}

func (s *Server) listRoles(w http.ResponseWriter, r *http.Request) error {
	f, err := s.readForm(r)
	if err != nil {
		return err
	}
	lr, err := s.readList(r, f, maxRolePage)
	if err != nil {
		return err
	}
	svc, prefix := scope(r)
	p, err := s.app.ListRoles(r.Context(), svc, lr.query)
	if err != nil {
		return err
	}
	base := s.baseURL(r)
	items := make([]roleJSON, len(p.Items))
	for i, v := range p.Items {
		items[i] = s.role(base, prefix, v)
	}
	writeList(w, "roles", items, jsonItem[roleJSON], pageMeta(s, base, r.URL.EscapedPath(), "roles", lr, p))
	return nil
}
