package api

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/core"
	"github.com/parleyhq/parley/internal/spec"
)

// Fixtures (emulator mode): POST /parley/v1/Import takes a JSON document
// (core.Fixture; docs/fixtures.schema.json), GET /parley/v1/Export gives
// one. Both are JSON, not forms, so they are served raw.

// maxFixture bounds an imported document: a million messages of a few
// hundred bytes each would not fit, a test's scenario always does.
const maxFixture = 64 << 20

var fixtureOps = []*spec.Operation{
	{ID: "CreateImport", Method: "POST", Path: "/parley/v1/Import", PathType: "list", Status: 201},
	{ID: "FetchExport", Method: "GET", Path: "/parley/v1/Export", PathType: "list", Status: 200, Params: []spec.Param{
		{Name: "ServiceSid", In: spec.InQuery, Type: spec.TypeString},
	}},
}

func (s *Server) fixtureRoutes() {
	s.mountRaw(s.operation("CreateImport"), s.importFixture)
	s.mountRaw(s.operation("FetchExport"), s.exportFixture)
}

// importCounts is how an import's counts are shown.
func importCounts(c core.ImportCounts) map[string]int {
	return map[string]int{"services": c.Services, "roles": c.Roles, "users": c.Users,
		"conversations": c.Conversations, "participants": c.Participants, "messages": c.Messages, "webhooks": c.Webhooks}
}

func (s *Server) importFixture(w http.ResponseWriter, q *req) error {
	f, err := DecodeFixture(http.MaxBytesReader(w, q.r.Body, maxFixture))
	if err != nil {
		return err
	}
	res, err := s.app.Import(q.ctx, f)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, map[string]any{"created": importCounts(res.Created), "existing": importCounts(res.Existing)})
	return nil
}

// DecodeFixture reads a fixture document strictly: an unknown field or a
// value of the wrong type is a 400 naming where it is (parley --seed reads
// files through it too).
func DecodeFixture(r io.Reader) (core.Fixture, error) {
	dec := json.NewDecoder(r)
	dec.DisallowUnknownFields()
	var f core.Fixture
	err := dec.Decode(&f)
	if err == nil && dec.More() {
		err = errors.New("more than one JSON value")
	}
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	var tooBig *http.MaxBytesError
	switch {
	case err == nil:
		return f, nil
	case errors.As(err, &tooBig):
		return f, parley.Errorf(parley.KindTooLarge, 20001, "The document is over %d bytes", maxFixture)
	case errors.As(err, &typeErr):
		return f, parley.InvalidParam("Invalid document: %s: a %s where a %s goes", typeErr.Field, typeErr.Value, typeErr.Type)
	case errors.As(err, &syntaxErr):
		return f, parley.InvalidParam("Invalid document: not JSON at byte %d: %v", syntaxErr.Offset, err)
	default:
		return f, parley.InvalidParam("Invalid document: %s", strings.TrimPrefix(err.Error(), "json: "))
	}
}

func (s *Server) exportFixture(w http.ResponseWriter, q *req) error {
	f, err := s.app.Export(q.ctx, q.r.URL.Query().Get("ServiceSid"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, f)
	return nil
}
