package api

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
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

var mediaFields = fields[parley.Media]{
	"sid":                   str(func(m *parley.Media) string { return m.Sid }),
	"service_sid":           str(func(m *parley.Media) string { return m.ServiceSid }),
	"date_created":          date(func(m *parley.Media) time.Time { return m.DateCreated }),
	"date_upload_updated":   date(func(m *parley.Media) time.Time { return m.DateCreated }),
	"date_updated":          date(func(m *parley.Media) time.Time { return m.DateUpdated }),
	"channel_sid":           optStr(func(m *parley.Media) *string { return m.ConversationSid }),
	"message_sid":           optStr(func(m *parley.Media) *string { return m.MessageSid }),
	"size":                  integer(func(m *parley.Media) int64 { return m.Size }),
	"content_type":          str(func(m *parley.Media) string { return m.ContentType }),
	"filename":              optStr(func(m *parley.Media) *string { return m.Filename }),
	"author":                str(func(m *parley.Media) string { return m.Author }),
	"category":              str(func(m *parley.Media) string { return m.Category }),
	"is_multipart_upstream": boolean(func(*parley.Media) bool { return false }),
}

// mediaOps are the three operations of the MCS parley serves. The
// content link is absolute, like every parley URL; Twilio's
// content_direct_temporary is a short-lived pre-signed URL of its file
// store, and parley's is its content URL.
var mediaOps = func() []*spec.Operation {
	const item = "/v1/Services/{service_sid}/Media/{sid}"
	links := []spec.Link{{Key: "content", Template: item + "/Content"}, {Key: "content_direct_temporary", Template: item + "/Content"}}
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
	}}
}()

func (s *Server) fetchMedia(q *req) call[parley.Media] {
	svc, sid := q.path("ChatServiceSid"), q.path("Sid")
	return func() (parley.Media, error) { return s.app.FetchMedia(q.ctx, svc, sid) }
}

// uploadMedia reads an upload's parameters (and, for a multipart body,
// finds its file); the call streams the bytes into core.
func (s *Server) uploadMedia(q *req) call[parley.Media] {
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
	return func() (parley.Media, error) { return s.app.UploadMedia(q.ctx, svc, in) }
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
	h := w.Header()
	h.Set("Content-Type", m.ContentType)
	h.Set("Content-Length", strconv.FormatInt(m.Size, 10))
	if m.Filename != nil {
		h.Set("Content-Disposition", mime.FormatMediaType("inline", map[string]string{"filename": *m.Filename}))
	}
	w.WriteHeader(http.StatusOK)
	if q.r.Method == http.MethodHead {
		return nil
	}
	if _, err := content.WriteTo(w); err != nil && !isClientGone(err) && q.ctx.Err() == nil {
		// The status is sent: all that is left is to cut the body short
		// (the client sees fewer bytes than Content-Length) and log.
		s.log.Error("media: writing content", "sid", m.Sid, "err", err)
	}
	return nil
}
