package api_test

import (
	"bytes"
	"fmt"
	"io"
	"mime/multipart"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/parleyhq/parley/core"
)

// upload is a media upload of body with its Content-Type to path (which
// carries any query).
func upload(path, contentType string, body []byte) request {
	return request{method: http.MethodPost, path: path, rawBody: body, header: map[string]string{"Content-Type": contentType}}
}

// mediaBody is the expected JSON of media $ME<n> of the default service;
// filename, channel and message are JSON literals.
func mediaBody(n int, size int, contentType, filename, channel, message string) string {
	self := fmt.Sprintf("$BASE/v1/Services/$IS/Media/$ME%d", n)
	return fmt.Sprintf(`{"sid":"$ME%d","account_sid":"$AC","service_sid":"$IS","date_created":"%s","date_upload_updated":"%s",
		"date_updated":"%s","channel_sid":%s,"message_sid":%s,"size":%d,"content_type":%q,"filename":%s,"author":"system",
		"category":"media","is_multipart_upstream":false,"url":"%s","links":{"content":"%s/Content",
		"content_direct_temporary":"$BASE/parley/v1/MediaContent/$LINK%d"}}`,
		n, stamp, stamp, stamp, channel, message, size, contentType, filename, self, self, n)
}

// withMedia is a message body whose media is the JSON array given.
func withMedia(body, media string) string {
	return strings.Replace(body, `"media":null`, `"media":`+media, 1)
}

// binary is n bytes of every value.
func binary(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i * 7)
	}
	return b
}

// checkContent fetches media's content and checks its bytes and headers.
func checkContent(t *testing.T, e *env, path string, want []byte, contentType, disposition string) {
	t.Helper()
	res := e.do(get(e.expand(path)))
	if res.status != 200 || !bytes.Equal(res.body, want) {
		t.Fatalf("GET %s: status %d, %d bytes, want 200 and the %d uploaded", path, res.status, len(res.body), len(want))
	}
	for k, v := range map[string]string{"Content-Type": contentType, "Content-Length": strconv.Itoa(len(want)),
		"Content-Disposition": disposition, "X-Content-Type-Options": "nosniff",
		"Content-Security-Policy": "sandbox; default-src 'none'; img-src 'self' data:; media-src 'self'; style-src 'unsafe-inline'"} {
		if got := res.header.Get(k); got != v {
			t.Errorf("GET %s: %s %q, want %q", path, k, got, v)
		}
	}
}

func TestMedia(t *testing.T) {
	t.Parallel()
	file := binary(core.MediaChunkSize*2 + 3) // three chunks, the last short
	e := newEnv(t)
	msg := msgBody("/v1", 1, 1, 0, "system", "null", "{}", "null")
	media1 := fmt.Sprintf(`[{"sid":"$ME1","size":%d,"content_type":"image/png","filename":"cat.png"}]`, len(file))
	e.run(
		want(upload("/v1/Services/$IS/Media?Filename=cat.png", "image/png", file), 201,
			mediaBody(1, len(file), "image/png", `"cat.png"`, "null", "null")),
		want(get("/v1/Services/$IS/Media/$ME1"), 200, mediaBody(1, len(file), "image/png", `"cat.png"`, "null", "null")),
		// A message carries it, with or without a body; only once.
		ok(post("/v1/Conversations", ""), 201),
		want(post("/v1/Conversations/$CH1/Messages", "MediaSid=$ME1"), 201, withMedia(msg, media1)),
		want(get("/v1/Services/$IS/Conversations/$CH1/Messages/$IM1"), 200,
			withMedia(msgBody("/v1/Services/$IS", 1, 1, 0, "system", "null", "{}", "null"), media1)),
		want(get("/v1/Services/$IS/Media/$ME1"), 200, mediaBody(1, len(file), "image/png", `"cat.png"`, `"$CH1"`, `"$IM1"`)),
		want(post("/v1/Conversations/$CH1/Messages", "MediaSid=$ME1&Body=again"), 400,
			errBody(400, 50508, "Media $ME1 is already attached to a message")),
		// Its body can't change; the rest can.
		want(post("/v1/Conversations/$CH1/Messages/$IM1", "Body=caption"), 400, errBody(400, 50509, "Media message body cannot be updated")),
		want(post("/v1/Conversations/$CH1/Messages/$IM1", "Attributes=%7B%22a%22%3A1%7D"), 200,
			withMedia(msgBody("/v1", 1, 1, 0, "system", "null", `{"a":1}`, "null"), media1)),
		// Listed with its media.
		want(getQ("/v1/Conversations/$CH1/Messages", "PageSize=1"), 200, `{"messages":[`+
			withMedia(msgBody("/v1", 1, 1, 0, "system", "null", `{"a":1}`, "null"), media1)+`],"meta":{"page":0,"page_size":1,
			"first_page_url":"$BASE/v1/Conversations/$CH1/Messages?PageSize=1&Page=0","previous_page_url":null,
			"url":"$BASE/v1/Conversations/$CH1/Messages?PageSize=1&Page=0","next_page_url":null,"key":"messages"}}`),
	)
	checkContent(t, e, "/v1/Services/$IS/Media/$ME1/Content", file, "image/png", `inline; filename=cat.png`)
	// A body with media; media without a filename.
	e.run(
		want(upload("/v1/Services/$IS/Media", "text/plain; charset=utf-8", []byte("hi")), 201,
			mediaBody(2, 2, "text/plain", "null", "null", "null")),
		want(post("/v1/Conversations/$CH1/Messages", "MediaSid=$ME2&Body=look"), 201,
			withMedia(msgBody("/v1", 2, 1, 1, "system", `"look"`, "{}", "null"),
				`[{"sid":"$ME2","size":2,"content_type":"text/plain","filename":null}]`)),
	)
	checkContent(t, e, "/v1/Services/$IS/Media/$ME2/Content", []byte("hi"), "text/plain", "")
	// Deleting the message deletes its media, and its bytes.
	e.run(
		want(del("/v1/Conversations/$CH1/Messages/$IM1"), 204, ""),
		want(get("/v1/Services/$IS/Media/$ME1"), 404, notFoundBody("/Services/$IS/Media/$ME1")),
		want(get("/v1/Services/$IS/Media/$ME1/Content"), 404, notFoundBody("/Services/$IS/Media/$ME1/Content")),
		// And deleting the conversation the rest.
		want(del("/v1/Conversations/$CH1"), 204, ""),
		want(get("/v1/Services/$IS/Media/$ME2"), 404, notFoundBody("/Services/$IS/Media/$ME2")),
	)
}

func TestMediaMultipart(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	if err := mw.WriteField("note", "not a file"); err != nil {
		t.Fatal(err)
	}
	part, err := mw.CreatePart(map[string][]string{
		"Content-Disposition": {`form-data; name="media"; filename="voice.ogg"`},
		"Content-Type":        {"audio/ogg"},
	})
	if err != nil {
		t.Fatal(err)
	}
	file := binary(1000)
	part.Write(file)
	mw.Close()
	e.run(
		want(upload("/v1/Services/$IS/Media", mw.FormDataContentType(), body.Bytes()), 201,
			mediaBody(1, 1000, "audio/ogg", `"voice.ogg"`, "null", "null")),
	)
	checkContent(t, e, "/v1/Services/$IS/Media/$ME1/Content", file, "audio/ogg", `inline; filename=voice.ogg`)

	var empty bytes.Buffer
	mw = multipart.NewWriter(&empty)
	mw.WriteField("note", "no file")
	mw.Close()
	e.run(
		want(upload("/v1/Services/$IS/Media", mw.FormDataContentType(), empty.Bytes()), 400,
			errBody(400, 20001, "The multipart body holds no file")),
		want(upload("/v1/Services/$IS/Media", "multipart/form-data; boundary=x", []byte("garbage")), 400,
			errBody(400, 20001, "The multipart body holds no file")),
		want(upload("/v1/Services/$IS/Media", "multipart/form-data; boundary=x",
			[]byte("--x\r\nContent-Disposition: form-data; name=\"f\"; filename=\"a\"\r\nContent-Type: image/png\r\n\r\ncut short")), 400,
			errBody(400, 20001, "Could not read the media content")),
		want(upload("/v1/Services/$IS/Media", "multipart/form-data", []byte("x")), 400,
			errBody(400, 20001, "Malformed multipart body")),
	)
}

func TestMediaErrors(t *testing.T) {
	t.Parallel()
	e := newEnvLimits(t, core.Limits{MediaSize: 10})
	e.run(
		want(upload("/v1/Services/$IS/Media", "", []byte("x")), 400,
			errBody(400, 20001, `Invalid Content-Type "": send the file's MIME type`)),
		want(upload("/v1/Services/$IS/Media", "not a type", []byte("x")), 400,
			errBody(400, 20001, `Invalid Content-Type "not a type": send the file's MIME type`)),
		want(upload("/v1/Services/$IS/Media?Category=photos", "image/png", []byte("x")), 400,
			errBody(400, 20001, `Invalid Category "photos": media, body or history`)),
		want(upload("/v1/Services/$IS/Media?Filename="+strings.Repeat("f", 256), "image/png", []byte("x")), 400,
			errBody(400, 20001, "Invalid Filename: at most 255 characters")),
		want(upload("/v1/Services/$IS/Media?Filename=%ff", "image/png", []byte("x")), 400,
			errBody(400, 20001, "Invalid Filename: must be UTF-8 text without NUL characters")),
		want(upload("/v1/Services/$IS/Media?Filename=a&Filename=b", "image/png", []byte("x")), 400,
			errBody(400, 20001, "Parameter Filename was given more than once")),
		want(upload("/v1/Services/$IS/Media", "image/png", []byte{}), 400, errBody(400, 20001, "The media content is empty")),
		want(upload("/v1/Services/$IS/Media", "image/png", binary(11)), 413,
			errBody(413, 50512, "Media is too large: at most 10 bytes")),
		want(upload("/v1/Services/$IS9/Media", "image/png", []byte("x")), 404, notFoundBody("/Services/$IS9/Media")),
		want(upload("/v1/Services/nope/Media", "image/png", []byte("x")), 404, notFoundBody("/Services/nope/Media")),
		want(get("/v1/Services/$IS/Media/$ME9"), 404, notFoundBody("/Services/$IS/Media/$ME9")),
		want(get("/v1/Services/$IS/Media/x/Content"), 404, notFoundBody("/Services/$IS/Media/x/Content")),
		want(del("/v1/Services/$IS/Media/$ME9"), 405, errBody(405, 20004, "Method not allowed")),
		// Exactly the cap is allowed. Uploads that failed after taking a
		// SID (the empty one, the unknown service) left nothing behind.
		want(upload("/v1/Services/$IS/Media?Category=body", "text/plain", binary(10)), 201,
			strings.Replace(mediaBody(3, 10, "text/plain", "null", "null", "null"), `"category":"media"`, `"category":"body"`, 1)),
		want(get("/v1/Services/$IS/Media/$ME1"), 404, notFoundBody("/Services/$IS/Media/$ME1")),
		// Media of another service is not this service's to attach.
		ok(post("/v1/Services", "FriendlyName=other"), 201),
		ok(upload("/v1/Services/$IS2/Media", "image/png", []byte("x")), 201),
		ok(post("/v1/Conversations", ""), 201),
		want(post("/v1/Conversations/$CH1/Messages", "MediaSid=$ME4"), 400, errBody(400, 50507, "Media $ME4 not found")),
		want(post("/v1/Services/$IS2/Conversations", ""), 201, "*"),
		ok(post("/v1/Services/$IS2/Conversations/$CH2/Messages", "MediaSid=$ME4"), 201),
		want(post("/v1/Conversations/$CH1/Messages", "MediaSid=x"), 400, errBody(400, 50507, "Media x not found")),
	)
}

// TestMediaCapWithoutLength sends a body of unknown length (chunked), so
// that the cap is met while the bytes stream in, not from Content-Length.
func TestMediaCapWithoutLength(t *testing.T) {
	t.Parallel()
	e := newEnvLimits(t, core.Limits{MediaSize: core.MediaChunkSize + 1})
	send := func(n int) response {
		req, err := http.NewRequest(http.MethodPost, e.srv.URL+"/v1/Services/"+IS+"/Media",
			io.MultiReader(bytes.NewReader(binary(n))))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/octet-stream")
		req.SetBasicAuth(AC, token)
		res, err := e.http.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return response{status: res.StatusCode, body: b}
	}
	res := send(core.MediaChunkSize + 2)
	jsonEqual(t, "over the cap", res.body, []byte(errBody(413, 50512, fmt.Sprintf("Media is too large: at most %d bytes", core.MediaChunkSize+1))))
	if res.status != 413 {
		t.Fatalf("over the cap: status %d", res.status)
	}
	e.run(want(get("/v1/Services/$IS/Media/$ME1"), 404, notFoundBody("/Services/$IS/Media/$ME1")))
	if res := send(core.MediaChunkSize + 1); res.status != 201 {
		t.Fatalf("at the cap: status %d %s", res.status, res.body)
	}
	checkContent(t, e, "/v1/Services/$IS/Media/$ME2/Content", binary(core.MediaChunkSize+1), "application/octet-stream", "")
}
