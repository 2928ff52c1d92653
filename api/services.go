package api

import (
	"net/http"
)

// Services: /v1/Services[/{Sid}].

// maxServicePage is the spec's PageSize maximum for services.
const maxServicePage = 100

func (s *Server) createService(w http.ResponseWriter, r *http.Request) error {
	f, err := s.readForm(r)
	if err != nil {
		return err
	}
	name, err := f.str("FriendlyName")
	if err != nil {
		return err
	}
	var friendlyName string
	if name != nil {
		friendlyName = *name
	}
	svc, err := s.app.CreateService(r.Context(), friendlyName)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, s.service(s.baseURL(r), svc))
	return nil
}

func (s *Server) fetchService(w http.ResponseWriter, r *http.Request) error {
	svc, err := s.app.FetchService(r.Context(), r.PathValue("Sid"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, s.service(s.baseURL(r), svc))
	return nil
}

func (s *Server) deleteService(w http.ResponseWriter, r *http.Request) error {
	if err := s.app.DeleteService(r.Context(), r.PathValue("Sid")); err != nil {
		return err
	}
	noContent(w)
	return nil
}

func (s *Server) listServices(w http.ResponseWriter, r *http.Request) error {
	f, err := s.readForm(r)
	if err != nil {
		return err
	}
	lr, err := s.readList(r, f, maxServicePage)
	if err != nil {
		return err
	}
	p, err := s.app.ListServices(r.Context(), lr.query)
	if err != nil {
		return err
	}
	base := s.baseURL(r)
	items := make([]serviceJSON, len(p.Items))
	for i, v := range p.Items {
		items[i] = s.service(base, v)
	}
	writeList(w, "services", items, jsonItem[serviceJSON], pageMeta(s, base, r.URL.EscapedPath(), "services", lr, p))
	return nil
}
