package api

import (
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/core"
	"github.com/parleyhq/parley/internal/spec"
)

// Media is parley's Media Content Service (decision 15): Twilio serves it
// on its own host (mcs.us1.twilio.com/v1/Services/{ChatServiceSid}/Media),
// which no Twilio SDK wraps; parley serves the same paths on its own
// host. An upload is the raw bytes with their Content-Type (Filename and
// Category in the query), as Twilio's MCS takes it and as
// @twilio/mcs-client sends it, or a multipart/form-data body as the
// client SDK sends from a browser. The fields and their order are those
// @twilio/mcs-client@0.7.0 reads (dist/media.js, Media._update).

var mediaSchema = spec.Schema{Name: "mcs.v1.media", Properties: []spec.Property{
	{Key: "sid", Kind: spec.KindString},
	{Key: "account_sid", Kind: spec.KindString},
	{Key: "service_sid", Kind: spec.KindString},
	{Key: "date_created", Kind: spec.KindDateTime},
	{Key: "date_upload_updated", Kind: spec.KindDateTime},
	{Key: "date_updated", Kind: spec.KindDateTime},
	{Key: "channel_sid", Kind: spec.KindString, Nullable: true},
	{Key: "message_sid", Kind: spec.KindString, Nullable: true},
	{Key: "size", Kind: spec.KindInteger},
	{Key: "content_type", Kind: spec.KindString},
	{Key: "filename", Kind: spec.KindString, Nullable: true},
	{Key: "author", Kind: spec.KindString},
	{Key: "category", Kind: spec.KindString},
	{Key: "is_multipart_upstream", Kind: spec.KindBoolean},
	{Key: "url", Kind: spec.KindURI},
	{Key: "links", Kind: spec.KindURIMap},
}}

// mediaView is media as the MCS answers it: with the token of its
// temporary content link (core.MediaLink).
type mediaView struct {
	parley.Media
	link string
}

var mediaFields = fields[mediaView]{
	"link_token":            str(func(m *mediaView) string { return m.link }),
	"sid":                   str(func(m *mediaView) string { return m.Sid }),
	"service_sid":           str(func(m *mediaView) string { return m.ServiceSid }),
	"date_created":          date(func(m *mediaView) time.Time { return m.DateCreated }),
	"date_upload_updated":   date(func(m *mediaView) time.Time { return m.DateCreated }),
	"date_updated":          date(func(m *mediaView) time.Time { return m.DateUpdated }),
	"channel_sid":           optStr(func(m *mediaView) *string { return m.ConversationSid }),
	"message_sid":           optStr(func(m *mediaView) *string { return m.MessageSid }),
	"size":                  integer(func(m *mediaView) int64 { return m.Size }),
	"content_type":          str(func(m *mediaView) string { return m.ContentType }),
	"filename":              optStr(func(m *mediaView) *string { return m.Filename }),
	"author":                str(func(m *mediaView) string { return m.Author }),
	"category":              str(func(m *mediaView) string { return m.Category }),
	"is_multipart_upstream": boolean(func(*mediaView) bool { return false }),
}

// mediaOps are the operations of the MCS parley serves. The content
// link is absolute, like every parley URL; Twilio's
// content_direct_temporary is a short-lived pre-signed URL of its file
// store, and parley's a signed link that works without credentials for
// five minutes (core.MediaLink), served at mediaLinkPath.
var mediaOps = func() []*spec.Operation {
	const item = "/v1/Services/{service_sid}/Media/{sid}"
	links := []spec.Link{{Key: "content", Template: item + "/Content"}, {Key: "content_direct_temporary", Template: mediaLinkPath + "{link_token}"}}
	svc := spec.Param{Name: "ChatServiceSid", In: spec.InPath, Type: spec.TypeString, Required: true}
	sid := spec.Param{Name: "Sid", In: spec.InPath, Type: spec.TypeString, Required: true}
	return []*spec.Operation{{
		ID: "CreateMedia", Method: "POST", Path: "/v1/Services/{ChatServiceSid}/Media", PathType: "list", Status: 201,
		Schema: mediaSchema.Name, URL: item, Links: links, Params: []spec.Param{svc,
			{Name: "Filename", In: spec.InQuery, Type: spec.TypeString},
			{Name: "Category", In: spec.InQuery, Type: spec.TypeString}},
	}, {
		ID: "FetchMedia", Method: "GET", Path: "/v1/Services/{ChatServiceSid}/Media/{Sid}", PathType: "instance", Status: 200,
		Schema: mediaSchema.Name, URL: item, Links: links, Params: []spec.Param{svc, sid},
	}, {
		ID: "FetchMediaContent", Method: "GET", Path: "/v1/Services/{ChatServiceSid}/Media/{Sid}/Content", PathType: "instance",
		Status: 200, Params: []spec.Param{svc, sid},
	}, {
		// The SDK's batch lookup (mcs-client mediaSetGet): a JSON body
		// {"command":"get","list":[{"media_sid":…}]}.
		ID: "FetchMediaSet", Method: "POST", Path: "/v1/Services/{ChatServiceSid}/MediaSet", PathType: "list",
		Status: 200, Params: []spec.Param{svc},
	}}
}()

// linked is media with its link token.
func (s *Server) linked(m parley.Media, err error) (mediaView, error) {
	return mediaView{Media: m, link: s.app.MediaLink(m.ServiceSid, m.Sid)}, err
}

func (s *Server) fetchMedia(q *req) call[mediaView] {
	svc, sid := q.path("ChatServiceSid"), q.path("Sid")
	return func() (mediaView, error) { return s.linked(s.app.FetchMedia(q.ctx, svc, sid)) }
}

// uploadMedia reads an upload's parameters (and, for a multipart body,
// finds its file); the call streams the bytes into core.
func (s *Server) uploadMedia(q *req) call[mediaView] {
	r := q.r
	svc := q.path("ChatServiceSid")
	in := core.MediaUpload{ContentType: r.Header.Get("Content-Type"), Content: r.Body,
		Filename: q.str("Filename"), Category: q.str("Category"), Author: clientIdentity(r)}
	if q.err == nil {
		if mt, _, _ := mime.ParseMediaType(in.ContentType); mt == "multipart/form-data" {
			if err := filePart(r, &in); err != nil {
				q.fail(err)
			}
		} else if max := s.app.MaxMediaSize(); r.ContentLength > max {
			// Refused before a byte is read; a multipart body's length
			// includes its framing, so its file is measured as it comes.
			q.fail(parley.Errorf(parley.KindTooLarge, 50512, "Media is too large: at most %d bytes", max))
		}
	}
	return func() (mediaView, error) { return s.linked(s.app.UploadMedia(q.ctx, svc, in)) }
}

// filePart points in at the first file of a multipart/form-data upload
// (what the client SDK's FormData sends), read as it streams.
func filePart(r *http.Request, in *core.MediaUpload) error {
	mr, err := r.MultipartReader()
	if err != nil {
		return parley.InvalidParam("Malformed multipart body")
	}
	for {
		part, err := mr.NextPart()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return parley.InvalidParam("The multipart body holds no file")
			}
			return parley.InvalidParam("Malformed multipart body")
		}
		if part.FileName() == "" {
			continue
		}
		in.ContentType, in.Content = part.Header.Get("Content-Type"), part
		if in.Filename == nil {
			name := part.FileName()
			in.Filename = &name
		}
		return nil
	}
}

// mediaContent writes the media's bytes, a chunk at a time.
func (s *Server) mediaContent(w http.ResponseWriter, q *req) error {
	svc, sid := q.path("ChatServiceSid"), q.path("Sid")
	m, content, err := s.app.OpenMedia(q.ctx, svc, sid)
	if err != nil {
		return err
	}
	s.writeMedia(w, q.r, m, content)
	return nil
}

// mediaLinkPath is where temporary media links are served, without
// credentials (core.MediaLink).
const mediaLinkPath = "/parley/v1/MediaContent/"

// serveMediaLink answers a temporary media link.
func (s *Server) serveMediaLink(w http.ResponseWriter, r *http.Request) {
	m, content, err := s.app.OpenMediaLink(r.Context(), strings.TrimPrefix(r.URL.Path, mediaLinkPath))
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.writeMedia(w, r, m, content)
}

// writeMedia writes media's file as the answer.
func (s *Server) writeMedia(w http.ResponseWriter, r *http.Request, m parley.Media, content *core.MediaContent) {
	h := w.Header()
	h.Set("Content-Type", m.ContentType)
	h.Set("Content-Length", strconv.FormatInt(m.Size, 10))
	// Anyone who can upload chooses the type, and the files are served on
	// the console's origin: an HTML or script file must neither run there
	// (a sandbox gives it an opaque origin, without the console's
	// storage) nor serve as a script the console's policy allows.
	h.Set("Content-Security-Policy", "sandbox; default-src 'none'; img-src 'self' data:; media-src 'self'; style-src 'unsafe-inline'")
	h.Set("X-Content-Type-Options", "nosniff")
	if m.Filename != nil {
		h.Set("Content-Disposition", mime.FormatMediaType("inline", map[string]string{"filename": *m.Filename}))
	}
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return
	}
	if _, err := content.WriteTo(w); err != nil && !isClientGone(err) && r.Context().Err() == nil {
		// The status is sent: all that is left is to cut the body short
		// (the client sees fewer bytes than Content-Length) and log.
		s.log.Error("media: writing content", "sid", m.Sid, "err", err)
	}
}

// maxMediaSet is the most media one MediaSet request looks up.
const maxMediaSet = 100

// mediaSet is POST …/MediaSet: each media's record, as FetchMedia
// answers it, with code 200, or code 404 and its SID alone.
func (s *Server) mediaSet(w http.ResponseWriter, q *req) error {
	svc := q.path("ChatServiceSid")
	var body struct {
		Command string `json:"command"`
		List    []struct {
			MediaSid string `json:"media_sid"`
		} `json:"list"`
	}
	if err := json.NewDecoder(io.LimitReader(q.r.Body, 1<<20)).Decode(&body); err != nil {
		return parley.InvalidParam("Invalid MediaSet request: %v", err)
	}
	if body.Command != "get" {
		return parley.InvalidParam("Invalid MediaSet command %q: parley answers get", body.Command)
	}
	if len(body.List) > maxMediaSet {
		return parley.InvalidParam("Too many media in one MediaSet request: at most %d", maxMediaSet)
	}
	c := &wireContext{base: s.baseURL(q.r), account: s.app.AccountSid()}
	out := []byte{'['}
	for i, it := range body.List {
		if i > 0 {
			out = append(out, ',')
		}
		m, err := s.linked(s.app.FetchMedia(q.ctx, svc, it.MediaSid))
		switch {
		case err == nil:
			out = append(out, `{"code":200,"media_record":`...)
			out = s.mediaEncoder.append(out, c, &m)
		case parley.AsError(err).Kind == parley.KindNotFound:
			out = append(out, `{"code":404,"media_record":{"sid":`...)
			out = appendString(out, it.MediaSid)
			out = append(out, '}')
		default:
			return err
		}
		out = append(out, '}')
	}
	writeRaw(w, http.StatusOK, append(out, ']'))
	return nil
}
