package api

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/parleyhq/parley"
	"github.com/parleyhq/parley/core"
	"github.com/parleyhq/parley/internal/spec"
)

// The generic handlers. An operation is mounted by its spec ID, which gives
// its method, path, status, response schema and parameters; what differs
// between operations is only how their parameters become a call on core,
// so that is all a handler says (a decoder).

// call is a core call with its arguments decoded.
type call[T any] func() (T, error)

// decoder reads an operation's parameters and returns the call to make. It
// reads every parameter before returning; the handler makes the call only
// if none was wrong, so a bad parameter never reaches core half-read.
type decoder[T any] func(q *req) call[T]

// item mounts operations that answer with one resource (fetch, create,
// update), encoded with each operation's schema and templates, with the
// operation's success status.
func item[T any](s *Server, f fields[T], decode decoder[T], ids ...string) {
	items(s, s.mount, f, decode, ids)
}

// streamedItem is item for operations whose body is not a form but the
// content itself (a media upload), which the call reads as it streams.
func streamedItem[T any](s *Server, f fields[T], decode decoder[T], ids ...string) {
	items(s, s.mountRaw, f, decode, ids)
}

func items[T any](s *Server, mount func(*spec.Operation, handler), f fields[T], decode decoder[T], ids []string) {
	for _, id := range ids {
		op := s.operation(id)
		enc := encoderFor(op, f)
		sample(s, op, enc)
		mount(op, func(w http.ResponseWriter, q *req) error {
			c := decode(q)
			if q.err != nil {
				return q.err
			}
			v, err := c()
			if err != nil {
				return err
			}
			bp := bufPool.Get().(*[]byte)
			defer bufPool.Put(bp)
			*bp = enc.append((*bp)[:0], &wireContext{base: s.baseURL(q.r), account: s.app.AccountSid()}, &v)
			writeRaw(w, op.Status, *bp)
			return nil
		})
	}
}

// lister is a core list call with its arguments (filters included)
// decoded, waiting for the page to fetch.
type lister[T any] func(parley.PageQuery) (parley.Page[T], error)

// list mounts list operations: filters and paging decoded, one page from
// core, and Twilio's envelope with the items under the operation's list
// key and meta.
func list[T any](s *Server, f fields[T], decode func(q *req) lister[T], ids ...string) {
	for _, id := range ids {
		op := s.operation(id)
		enc := encoderFor(op, f)
		sample(s, op, enc)
		s.mount(op, func(w http.ResponseWriter, q *req) error {
			fetch := decode(q) // filters first: page tokens are bound to them
			lr := s.readList(q)
			if q.err != nil {
				return q.err
			}
			p, err := fetch(lr.query)
			if err != nil {
				return err
			}
			base := s.baseURL(q.r)
			m := pageMeta(s, base, q.r.URL.EscapedPath(), op.ListKey, lr, p)
			c := &wireContext{base: base, account: s.app.AccountSid()}
			bp := bufPool.Get().(*[]byte)
			defer bufPool.Put(bp)
			b := append((*bp)[:0], '{', '"')
			b = append(b, op.ListKey...)
			b = append(b, `":[`...)
			for i := range p.Items {
				if i > 0 {
					b = append(b, ',')
				}
				b = enc.append(b, c, &p.Items[i])
			}
			b = append(b, `],"meta":`...)
			b = metaWire.append(b, c, &m)
			b = append(b, '}')
			*bp = b
			writeRaw(w, http.StatusOK, b)
			return nil
		})
	}
}

// remove mounts delete operations: 204 with an empty body, the only status
// twilio-cli counts as success.
func remove(s *Server, decode decoder[struct{}], ids ...string) {
	for _, id := range ids {
		op := s.operation(id)
		s.mount(op, func(w http.ResponseWriter, q *req) error {
			c := decode(q)
			if q.err != nil {
				return q.err
			}
			if _, err := c(); err != nil {
				return err
			}
			w.WriteHeader(http.StatusNoContent)
			return nil
		})
	}
}

// Decoders for the shapes most operations share. Core's methods take the
// service ("" on shortened URLs), the key from the path, and for writes
// what X-Twilio-Webhook-Enabled says.

// byKey calls fn with the service and the Sid path segment.
func byKey[T any](fn func(ctx context.Context, svc, key string) (T, error)) decoder[T] {
	return func(q *req) call[T] {
		svc, key := q.service(), q.path("Sid")
		return func() (T, error) { return fn(q.ctx, svc, key) }
	}
}

// byService calls fn with the service alone (its configuration).
func byService[T any](fn func(ctx context.Context, svc string) (T, error)) decoder[T] {
	return func(q *req) call[T] {
		svc := q.service()
		return func() (T, error) { return fn(q.ctx, svc) }
	}
}

// bySid calls fn with the Sid path segment (resources outside services).
func bySid[T any](fn func(ctx context.Context, sid string) (T, error)) decoder[T] {
	return func(q *req) call[T] {
		sid := q.path("Sid")
		return func() (T, error) { return fn(q.ctx, sid) }
	}
}

// plain calls fn with nothing but the context (account-wide singletons).
func plain[T any](fn func(ctx context.Context) (T, error)) decoder[T] {
	return func(q *req) call[T] { return func() (T, error) { return fn(q.ctx) } }
}

// bySidDeleting adapts a delete of a resource outside services.
func bySidDeleting(fn func(ctx context.Context, sid string) error) decoder[struct{}] {
	return func(q *req) call[struct{}] {
		sid := q.path("Sid")
		return func() (struct{}, error) { return struct{}{}, fn(q.ctx, sid) }
	}
}

// deleting adapts a delete, which returns only an error.
func deleting(fn func(ctx context.Context, svc, key string) error) decoder[struct{}] {
	return func(q *req) call[struct{}] {
		svc, key := q.service(), q.path("Sid")
		return func() (struct{}, error) { return struct{}{}, fn(q.ctx, svc, key) }
	}
}

// deletingWithWebhooks adapts a delete that may fire webhooks.
func deletingWithWebhooks(fn func(ctx context.Context, svc, key string, o core.WriteOptions) error) decoder[struct{}] {
	return func(q *req) call[struct{}] {
		svc, key, opts := q.service(), q.path("Sid"), q.webhooks()
		return func() (struct{}, error) { return struct{}{}, fn(q.ctx, svc, key, opts) }
	}
}

// listIn lists a service's resources.
func listIn[T any](fn func(ctx context.Context, svc string, q parley.PageQuery) (parley.Page[T], error)) func(*req) lister[T] {
	return func(q *req) lister[T] {
		svc := q.service()
		return func(pq parley.PageQuery) (parley.Page[T], error) { return fn(q.ctx, svc, pq) }
	}
}

// listAll lists resources that belong to the account.
func listAll[T any](fn func(ctx context.Context, q parley.PageQuery) (parley.Page[T], error)) func(*req) lister[T] {
	return func(q *req) lister[T] {
		return func(pq parley.PageQuery) (parley.Page[T], error) { return fn(q.ctx, pq) }
	}
}

// both returns an account-level operation ID and its service-scoped twin,
// which the spec names with "Service" after the verb (FetchUser,
// FetchServiceUser): the resource is served under /v1/X, acting on the
// default service, and under /v1/Services/{ChatServiceSid}/X.
func both(id string) []string {
	for _, verb := range []string{"Fetch", "Create", "Update", "Delete", "List"} {
		if rest, ok := strings.CutPrefix(id, verb); ok {
			return []string{id, verb + "Service" + rest}
		}
	}
	panic("api: no verb in operation ID " + id)
}

// operation returns the spec's operation, or one of parley's extensions.
func (s *Server) operation(id string) *spec.Operation {
	if op := spec.OperationByID(id); op != nil {
		return op
	}
	if op, ok := extensions[id]; ok {
		return op
	}
	panic("api: no operation " + id)
}

// encoderFor binds f to op's response schema (the spec's, or one of
// parley's extensions'), with op's url and links templates.
func encoderFor[T any](op *spec.Operation, f fields[T]) *encoder[T] {
	schema := spec.SchemaByName(op.Schema)
	if schema == nil {
		schema = extensionSchemas[op.Schema]
	}
	if schema == nil {
		panic(fmt.Sprintf("api: operation %s returns no schema to encode", op.ID))
	}
	return bindSchema(op.ID, schema, op.URL, op.Links, f)
}

// sample keeps, for the tests that hold every served shape to the spec, a
// way to encode a zero item of op's schema.
func sample[T any](s *Server, op *spec.Operation, enc *encoder[T]) {
	s.samples[op.ID] = func(c *wireContext) []byte {
		var zero T
		return enc.append(nil, c, &zero)
	}
}

// handler answers one request to an operation whose parameters q holds.
type handler func(w http.ResponseWriter, q *req) error

// mount registers h for op at its method and path, with its parameters
// decoded from the query and the form body.
func (s *Server) mount(op *spec.Operation, h handler) { s.register(op, s.newReq, h) }

// mountRaw is mount for an operation whose body is not a form (a media
// upload, which its handler streams from q.r.Body): only the query is
// decoded, and the body may take longer to arrive than the server's read
// timeout allows a form.
func (s *Server) mountRaw(op *spec.Operation, h handler) {
	s.register(op, s.queryReq, func(w http.ResponseWriter, q *req) error {
		_ = http.NewResponseController(w).SetReadDeadline(time.Now().Add(streamedBodyTime))
		return h(w, q)
	})
}

// streamedBodyTime is how long a streamed body may take in all: 150 MB
// (the default media cap) at 1 MB/s, with room to spare.
const streamedBodyTime = 30 * time.Minute

func (s *Server) register(op *spec.Operation, decode func(*http.Request, *spec.Operation) (*req, error), h handler) {
	if s.mounted[op.ID] {
		panic("api: operation mounted twice: " + op.ID)
	}
	s.mounted[op.ID] = true
	if !slices.Contains(s.allowed[op.Path], op.Method) {
		if s.allowed[op.Path] == nil {
			s.paths = append(s.paths, op.Path)
		}
		s.allowed[op.Path] = append(s.allowed[op.Path], op.Method)
	}
	scope, limited := rateScope(op)
	limited = limited && s.rates != nil
	s.mux.HandleFunc(op.Method+" "+op.Path, func(w http.ResponseWriter, r *http.Request) {
		if limited && s.overRate(w, r, scope) {
			return
		}
		q, err := decode(r, op)
		if err == nil {
			err = h(w, q)
		}
		if s.observe != nil {
			s.observe(op.ID, q.read)
		}
		if err != nil {
			s.writeError(w, r, err)
		}
	})
}
