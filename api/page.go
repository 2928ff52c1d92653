package api

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"math"
	"net/http"
	"strconv"

	"github.com/parleyhq/parley"
)

// DefaultPageSize is Twilio's default page size for every list.
const DefaultPageSize = 50

// listRequest is a decoded list request: the page asked for and what to echo.
type listRequest struct {
	query parley.PageQuery
	page  int    // Page, echoed: Twilio calls it "simply for client state"
	token string // PageToken as given, echoed in meta.url
}

// readList decodes PageSize, Page and PageToken. PageSize above the list's
// maximum is clamped rather than refused, because twilio-go asks for
// PageSize=min(limit, 1000) whenever a caller sets a limit.
func (s *Server) readList(r *http.Request, f form, maxSize int) (listRequest, error) {
	lr := listRequest{query: parley.PageQuery{Size: DefaultPageSize}}
	size, err := f.str("PageSize")
	if err != nil {
		return lr, err
	}
	if size != nil {
		n, err := strconv.Atoi(*size)
		if err != nil || n < 1 {
			return lr, parley.InvalidParam("Invalid PageSize: must be an integer from 1 to %d", maxSize)
		}
		lr.query.Size = n
	}
	lr.query.Size = min(lr.query.Size, maxSize)
	page, err := f.str("Page")
	if err != nil {
		return lr, err
	}
	if page != nil {
		n, err := strconv.Atoi(*page)
		if err != nil || n < 0 || n > math.MaxInt32 {
			return lr, parley.InvalidParam("Invalid Page: must be a non-negative integer")
		}
		lr.page = n
	}
	token, err := f.str("PageToken")
	if err != nil {
		return lr, err
	}
	if token != nil && *token != "" {
		c, ok := s.pages.decode(*token, r.URL.EscapedPath())
		if !ok {
			return lr, parley.Errorf(parley.KindInvalid, 21481, "Invalid PageToken")
		}
		lr.token = *token
		if c.backward {
			lr.query.Before = c.seq
		} else {
			lr.query.After = c.seq
		}
	}
	return lr, nil
}

// meta is Twilio's paging envelope.
type meta struct {
	Page            int     `json:"page"`
	PageSize        int     `json:"page_size"`
	FirstPageURL    string  `json:"first_page_url"`
	PreviousPageURL *string `json:"previous_page_url"`
	URL             string  `json:"url"`
	NextPageURL     *string `json:"next_page_url"`
	Key             string  `json:"key"`
}

// pageMeta builds meta for one page of the list at path, with absolute URLs
// on base. Next and previous URLs carry keyset tokens pointing just past the
// page's last row and just before its first.
func pageMeta[T any](s *Server, base, path, key string, lr listRequest, p parley.Page[T]) meta {
	pageURL := func(page int, token string) string {
		u := base + path + "?PageSize=" + strconv.Itoa(lr.query.Size) + "&Page=" + strconv.Itoa(page)
		if token != "" {
			u += "&PageToken=" + token
		}
		return u
	}
	m := meta{
		Page:         lr.page,
		PageSize:     lr.query.Size,
		FirstPageURL: pageURL(0, ""),
		URL:          pageURL(lr.page, lr.token),
		Key:          key,
	}
	first, last := p.FirstSeq, p.LastSeq
	if len(p.Items) == 0 { // an emptied page: step from the cursor itself
		switch {
		case lr.query.After > 0:
			first, last = lr.query.After+1, lr.query.After
		case lr.query.Before > 0:
			first, last = lr.query.Before, lr.query.Before-1
		}
	}
	if p.HasNext {
		// Page is only echoed; it stops at the largest value readList
		// accepts, so a next_page_url is always one parley takes back.
		u := pageURL(min(lr.page+1, math.MaxInt32), s.pages.encode(cursor{seq: last}, path))
		m.NextPageURL = &u
	}
	if p.HasPrev {
		u := pageURL(max(lr.page-1, 0), s.pages.encode(cursor{seq: first, backward: true}, path))
		m.PreviousPageURL = &u
	}
	return m
}

// cursor is a keyset position: after seq, or (backward) before it.
type cursor struct {
	seq      int64
	backward bool
}

// pageTokens makes PageTokens opaque and tamper-evident: "PT" followed by
// base64url of a version byte, a direction byte, the cursor, and an
// HMAC-SHA256 (truncated to 16 bytes) over those and the list's path, keyed
// with the account's page key. A token therefore only works on the list
// that issued it, and any node sharing the database accepts it.
type pageTokens struct{ key []byte }

const (
	tokenVersion = 1
	tokenMACLen  = 16
)

func (t pageTokens) mac(payload []byte, path string) []byte {
	h := hmac.New(sha256.New, t.key)
	h.Write(payload)
	h.Write([]byte{0})
	h.Write([]byte(path))
	return h.Sum(nil)[:tokenMACLen]
}

func (t pageTokens) encode(c cursor, path string) string {
	payload := make([]byte, 2, 2+binary.MaxVarintLen64+tokenMACLen)
	payload[0] = tokenVersion
	if c.backward {
		payload[1] = 1
	}
	payload = binary.AppendUvarint(payload, uint64(c.seq))
	payload = append(payload, t.mac(payload, path)...)
	return "PT" + base64.RawURLEncoding.EncodeToString(payload)
}

func (t pageTokens) decode(token, path string) (cursor, bool) {
	if len(token) < 3 || len(token) > 64 || token[:2] != "PT" {
		return cursor{}, false
	}
	raw, err := base64.RawURLEncoding.DecodeString(token[2:])
	if err != nil || len(raw) < 3+tokenMACLen {
		return cursor{}, false
	}
	payload, sum := raw[:len(raw)-tokenMACLen], raw[len(raw)-tokenMACLen:]
	if !hmac.Equal(sum, t.mac(payload, path)) || payload[0] != tokenVersion || payload[1] > 1 {
		return cursor{}, false
	}
	seq, n := binary.Uvarint(payload[2:])
	if n <= 0 || 2+n != len(payload) || seq == 0 || seq > 1<<62 {
		return cursor{}, false
	}
	return cursor{seq: int64(seq), backward: payload[1] == 1}, true
}
