package parley

import (
	"errors"
	"fmt"
	"strconv"
)

// Kind classifies an error so that one place (package api) can map it to an
// HTTP status. The Twilio error code travels separately because Twilio pairs
// codes and statuses freely (50100 "Role not found" is a 400, not a 404).
type Kind int

// The kinds of error parley reports.
const (
	KindInternal         Kind = iota // anything unexpected: 500, nothing internal shown
	KindInvalid                      // the request is wrong: 400
	KindUnauthorized                 // credentials missing or wrong: 401
	KindRejected                     // an app's own pre-event webhook refused the action: 403
	KindForbidden                    // a limit of the account refuses the action: 403
	KindNotFound                     // unknown resource, parent or route: 404
	KindMethodNotAllowed             // known path, wrong method: 405
	KindConflict                     // the write collides with existing state: 409
	KindTooLarge                     // request body over the cap: 413
	KindTooManyRequests              // over a rate limit (--rate-limits twilio): 429
	KindUnavailable                  // the server is shutting down or overloaded: 503
)

// Status is the HTTP status of errors of kind k: the one mapping, for the
// REST API and for the answers tunnelled through client sockets.
func (k Kind) Status() int {
	switch k {
	case KindInvalid:
		return 400
	case KindUnauthorized:
		return 401
	case KindRejected, KindForbidden:
		return 403
	case KindNotFound:
		return 404
	case KindMethodNotAllowed:
		return 405
	case KindConflict:
		return 409
	case KindTooLarge:
		return 413
	case KindTooManyRequests:
		return 429
	case KindUnavailable:
		return 503
	}
	return 500
}

// ErrorBody is Twilio's error JSON. twilio-go takes the status from the
// body, not from the HTTP status line, so it is always there.
type ErrorBody struct {
	Code     int    `json:"code"`
	Message  string `json:"message"`
	MoreInfo string `json:"more_info"`
	Status   int    `json:"status"`
	Detail   string `json:"detail,omitempty"`
}

// Body is what a caller is shown of e, for a request to path: an
// internal error only as 20500, with nothing internal; a 404 without a
// message naming path, as Twilio words it. The REST API and the answers
// tunnelled through client sockets both show errors this way.
func (e *Error) Body(path string) ErrorBody {
	b := ErrorBody{Code: e.Code, Message: e.Message, Status: e.Kind.Status(), Detail: e.Detail}
	switch {
	case e.Kind == KindInternal:
		b.Code, b.Message, b.Detail = 20500, "Internal server error", ""
	case e.Kind == KindNotFound && b.Message == "":
		b.Message = "The requested resource " + path + " was not found"
	}
	b.MoreInfo = MoreInfo(b.Code)
	return b
}

// MoreInfo is the page of Twilio's documentation about code, as every
// error body links it.
func MoreInfo(code int) string { return "https://www.twilio.com/docs/errors/" + strconv.Itoa(code) }

// Error is the one error type parley returns across package boundaries. Code
// and Message are Twilio's; they are safe to show to API callers. A NotFound
// error with an empty Message is completed by the HTTP layer with the
// requested path, as Twilio words it.
type Error struct {
	Kind    Kind
	Code    int    // Twilio error code, e.g. 20404
	Message string // Twilio's message, shown to callers
	Detail  string // optional extra sentence, shown as "detail"
	Err     error  // underlying cause, logged but never shown
}

func (e *Error) Error() string {
	msg := fmt.Sprintf("parley: %d %s", e.Code, e.Message)
	if e.Err != nil {
		msg += ": " + e.Err.Error()
	}
	return msg
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error of the given kind and Twilio code.
func Errorf(kind Kind, code int, format string, args ...any) *Error {
	return &Error{Kind: kind, Code: code, Message: fmt.Sprintf(format, args...)}
}

// AsError returns err as an *Error, or an internal error wrapping it when it
// is not one (a driver failure, say), so callers always get a Twilio shape.
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Kind: KindInternal, Code: 20500, Message: "Internal server error", Err: err}
}

// Sentinel errors the stores return. They carry no Twilio code because the
// same store condition means different things to different operations (a
// missing role is a 404 on GET /Roles/RL… but a 400 50100 on user create);
// package core turns them into *Error.
var (
	// ErrNotFound: no row matches.
	ErrNotFound = errors.New("parley: not found")
	// ErrConflict: a uniqueness constraint refused the write.
	ErrConflict = errors.New("parley: conflict")
	// ErrInUse: a foreign key refused a delete because rows still refer to
	// the row being deleted.
	ErrInUse = errors.New("parley: in use")
	// ErrDangling: a foreign key refused an insert or update because the
	// row it refers to does not exist. Core checks references before it
	// writes, so this means the row was deleted by a concurrent transaction
	// in between (possible on PostgreSQL, whose Update then runs fn again so
	// that the rules see the deletion and answer as they would have).
	ErrDangling = errors.New("parley: refers to a row that does not exist")
)

// ErrClosed is what every store returns once closed: the server is
// shutting down, and the caller may retry on another node.
var ErrClosed = &Error{Kind: KindUnavailable, Code: 20503, Message: "Service unavailable: the server is shutting down"}

// Common errors, so that code and message are spelled in one place.

// NotFound is Twilio's 20404; the HTTP layer fills in the path.
func NotFound() *Error { return &Error{Kind: KindNotFound, Code: 20404} }

// MissingParam is Twilio's 20001 for a required parameter that is absent.
func MissingParam(name string) *Error {
	return Errorf(KindInvalid, 20001, "Missing required parameter %s in the post body", name)
}

// InvalidParam is Twilio's 20001 for a parameter whose value is wrong.
func InvalidParam(format string, args ...any) *Error {
	return Errorf(KindInvalid, 20001, format, args...)
}
