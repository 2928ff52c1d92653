package api

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"math"
	"strconv"
	"strings"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/internal/spec"
)

// DefaultPageSize is Twilio's default page size for every list.
const DefaultPageSize = 50

// listRequest is a decoded list request: the page asked for and what to echo.
type listRequest struct {
	query parley.PageQuery
	page  int    // Page, echoed: Twilio calls it "simply for client state"
	token string // PageToken as given, echoed in meta.url
	// filter is the canonical query of the list's filters and order
	// ("Order=desc"), bound into page tokens and echoed in meta URLs.
	filter string
}

// readList decodes PageSize, Page, PageToken and, where the list has it,
// Order. PageSize above the list's maximum (the spec's) is clamped rather
// than refused, because twilio-go asks for PageSize=min(limit, 1000)
// whenever a caller sets a limit. A token is checked against the path and
// the filters, so one issued for State=active is refused for State=closed;
// call readList after reading the filters.
func (s *Server) readList(q *req) listRequest {
	lr := listRequest{query: parley.PageQuery{Size: DefaultPageSize}}
	sizeParam := q.param("PageSize", spec.TypeInteger)
	if size := q.scalar(sizeParam); size != nil {
		n, err := strconv.Atoi(*size)
		if err != nil || n < 1 {
			q.fail(parley.InvalidParam("Invalid PageSize: must be an integer from 1 to %d", sizeParam.Max))
		}
		lr.query.Size = n
	}
	if sizeParam.HasMax {
		lr.query.Size = min(lr.query.Size, int(sizeParam.Max))
	}
	if page := q.scalar(q.param("Page", spec.TypeInteger)); page != nil {
		n, err := strconv.Atoi(*page)
		if err != nil || n < 0 || n > math.MaxInt32 {
			q.fail(parley.InvalidParam("Invalid Page: must be a non-negative integer"))
		}
		lr.page = n
	}
	if q.op.Param("Order") != nil {
		order := q.enum("Order")
		lr.query.Desc = order != nil && *order == "desc"
	}
	lr.filter = strings.Join(q.filter, "&")
	token := q.scalar(q.param("PageToken", spec.TypeString))
	if token != nil && *token != "" && q.err == nil {
		c, ok := s.pages.decode(*token, tokenScope(q.r.URL.EscapedPath(), lr.filter))
		if !ok {
			q.fail(parley.Errorf(parley.KindInvalid, 21481, "Invalid PageToken"))
		}
		lr.token = *token
		lr.query.Key = c.key
		if c.backward {
			lr.query.Before = c.seq
		} else {
			lr.query.After = c.seq
		}
	}
	return lr
}

// tokenScope is what a page token is bound to: the list's path and its
// canonical filters.
func tokenScope(path, filter string) string { return path + "?" + filter }

// meta is Twilio's paging envelope.
type meta struct {
	page, pageSize  int64
	first, url, key string
	previous, next  *string
}

var metaWire = bindSchema("meta", &spec.Meta, "", nil, fields[meta]{
	"page":              integer(func(m *meta) int64 { return m.page }),
	"page_size":         integer(func(m *meta) int64 { return m.pageSize }),
	"first_page_url":    str(func(m *meta) string { return m.first }),
	"previous_page_url": optStr(func(m *meta) *string { return m.previous }),
	"url":               str(func(m *meta) string { return m.url }),
	"next_page_url":     optStr(func(m *meta) *string { return m.next }),
	"key":               str(func(m *meta) string { return m.key }),
})

// pageMeta builds meta for one page of the list at path, with absolute URLs
// on base. Filters come first in every URL, as Twilio writes them; next and
// previous URLs carry keyset tokens pointing just past the page's last row
// and just before its first.
func pageMeta[T any](s *Server, base, path, key string, lr listRequest, p parley.Page[T]) meta {
	prefix := base + path + "?"
	if lr.filter != "" {
		prefix += lr.filter + "&"
	}
	prefix += "PageSize=" + strconv.Itoa(lr.query.Size) + "&Page="
	pageURL := func(page int, token string) string {
		u := prefix + strconv.Itoa(page)
		if token != "" {
			u += "&PageToken=" + token
		}
		return u
	}
	m := meta{
		page:     int64(lr.page),
		pageSize: int64(lr.query.Size),
		first:    pageURL(0, ""),
		url:      pageURL(lr.page, lr.token),
		key:      key,
	}
	first, last := p.FirstSeq, p.LastSeq
	firstKey, lastKey := p.FirstKey, p.LastKey
	if len(p.Items) == 0 { // an emptied page: step from the cursor itself
		firstKey, lastKey = lr.query.Key, lr.query.Key
		switch {
		case lr.query.After > 0:
			first, last = lr.query.After+1, lr.query.After
			if lr.query.Desc {
				first, last = lr.query.After-1, lr.query.After
			}
		case lr.query.Before > 0:
			first, last = lr.query.Before, lr.query.Before-1
			if lr.query.Desc {
				first, last = lr.query.Before, lr.query.Before+1
			}
		}
	}
	scope := tokenScope(path, lr.filter)
	if p.HasNext {
		// Page is only echoed; it stops at the largest value readList
		// accepts, so a next_page_url is always one parley takes back.
		u := pageURL(min(lr.page+1, math.MaxInt32), s.pages.encode(cursor{seq: last, key: lastKey}, scope))
		m.next = &u
	}
	if p.HasPrev {
		u := pageURL(max(lr.page-1, 0), s.pages.encode(cursor{seq: first, key: firstKey, backward: true}, scope))
		m.previous = &u
	}
	return m
}

// cursor is a keyset position: after seq, or (backward) before it; in
// lists ordered by a key, after or before (key, seq).
type cursor struct {
	seq      int64
	key      string
	backward bool
}

// pageTokens makes PageTokens opaque and tamper-evident: "PT" followed by
// base64url of a version byte, a direction byte, the cursor (its seq, and
// in version 2 its key), and an HMAC-SHA256 (truncated to 16 bytes) over those and the list's path and
// filters, keyed with the account's page key. A token therefore only works
// on the list, and with the filters, that issued it, and any node sharing
// the database accepts it.
type pageTokens struct{ key []byte }

const (
	tokenVersion      = 1 // a seq
	tokenVersionKeyed = 2 // a seq and a key
	tokenMACLen       = 16
	maxTokenKey       = 64 // bytes of key a token carries (SIDs, times)
)

func (t pageTokens) mac(payload []byte, path string) []byte {
	h := hmac.New(sha256.New, t.key)
	h.Write(payload)
	h.Write([]byte{0})
	h.Write([]byte(path))
	return h.Sum(nil)[:tokenMACLen]
}

func (t pageTokens) encode(c cursor, path string) string {
	payload := make([]byte, 2, 2+2*binary.MaxVarintLen64+len(c.key)+tokenMACLen)
	payload[0] = tokenVersion
	if c.key != "" {
		payload[0] = tokenVersionKeyed
	}
	if c.backward {
		payload[1] = 1
	}
	payload = binary.AppendUvarint(payload, uint64(c.seq))
	if c.key != "" {
		payload = binary.AppendUvarint(payload, uint64(len(c.key)))
		payload = append(payload, c.key...)
	}
	payload = append(payload, t.mac(payload, path)...)
	return "PT" + base64.RawURLEncoding.EncodeToString(payload)
}

func (t pageTokens) decode(token, path string) (cursor, bool) {
	if len(token) < 3 || len(token) > 160 || token[:2] != "PT" {
		return cursor{}, false
	}
	raw, err := base64.RawURLEncoding.DecodeString(token[2:])
	if err != nil || len(raw) < 3+tokenMACLen {
		return cursor{}, false
	}
	payload, sum := raw[:len(raw)-tokenMACLen], raw[len(raw)-tokenMACLen:]
	version := payload[0]
	if !hmac.Equal(sum, t.mac(payload, path)) || (version != tokenVersion && version != tokenVersionKeyed) || payload[1] > 1 {
		return cursor{}, false
	}
	rest := payload[2:]
	seq, n := binary.Uvarint(rest)
	if n <= 0 || seq == 0 || seq > 1<<62 {
		return cursor{}, false
	}
	rest = rest[n:]
	c := cursor{seq: int64(seq), backward: payload[1] == 1}
	if version == tokenVersionKeyed {
		size, n := binary.Uvarint(rest)
		if n <= 0 || size == 0 || size > maxTokenKey || uint64(len(rest)-n) != size {
			return cursor{}, false
		}
		c.key, rest = string(rest[n:]), nil
	}
	if len(rest) != 0 {
		return cursor{}, false
	}
	return c, true
}
