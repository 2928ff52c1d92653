// Package keyset is the keyset paging both SQL stores share: the queries
// that fetch one page in creation (seq) order from a cursor, and the
// assembly of the rows into a parley.Page. Only the placeholder syntax
// differs between SQLite (?) and PostgreSQL ($n), so the logic lives here
// once and cannot drift.
package keyset

import (
	"fmt"
	"slices"

	"github.com/parleyhq/parley"
)

// Placeholder renders the n-th (1-based) query parameter.
type Placeholder func(n int) string

// Question is SQLite's placeholder.
func Question(int) string { return "?" }

// Dollar is PostgreSQL's placeholder.
func Dollar(n int) string { return fmt.Sprintf("$%d", n) }

// Plan is the SQL for one page: Query fetches up to Size+1 rows in the
// direction of travel (the extra row says whether more lie ahead); Behind,
// when not empty, asks whether any row lies behind the cursor.
type Plan struct {
	Query      string
	Args       []any
	Behind     string // SELECT EXISTS (…), or "" on a first page
	BehindArgs []any
}

// Build plans the page q of the list "SELECT cols from" (from is a FROM …
// WHERE … clause with args, to which conditions are ANDed).
func Build(cols, from string, args []any, q parley.PageQuery, ph Placeholder) Plan {
	n := len(args)
	next, after := ph(n+1), ph(n+2)
	p := Plan{Args: slices.Clone(args)}
	switch {
	case q.Before > 0:
		p.Query = fmt.Sprintf("SELECT %s %s AND seq < %s ORDER BY seq DESC LIMIT %s", cols, from, next, after)
		p.Args = append(p.Args, q.Before, q.Size+1)
		p.Behind = fmt.Sprintf("SELECT EXISTS (SELECT 1 %s AND seq >= %s)", from, next)
		p.BehindArgs = append(slices.Clone(args), q.Before)
	case q.After > 0:
		p.Query = fmt.Sprintf("SELECT %s %s AND seq > %s ORDER BY seq LIMIT %s", cols, from, next, after)
		p.Args = append(p.Args, q.After, q.Size+1)
		p.Behind = fmt.Sprintf("SELECT EXISTS (SELECT 1 %s AND seq <= %s)", from, next)
		p.BehindArgs = append(slices.Clone(args), q.After)
	default:
		p.Query = fmt.Sprintf("SELECT %s %s ORDER BY seq LIMIT %s", cols, from, next)
		p.Args = append(p.Args, q.Size+1)
	}
	return p
}

// Assemble turns the rows Query returned (and Behind's answer) into the
// page: ascending order, at most Size items, and whether more lie before
// and after.
func Assemble[T any](rows []T, q parley.PageQuery, behind bool, seqOf func(T) int64) parley.Page[T] {
	more := len(rows) > q.Size
	if more {
		rows = rows[:q.Size]
	}
	p := parley.Page[T]{Items: rows}
	if q.Before > 0 {
		slices.Reverse(p.Items)
		p.HasPrev, p.HasNext = more, behind
	} else {
		p.HasNext, p.HasPrev = more, behind
	}
	if len(p.Items) > 0 {
		p.FirstSeq = seqOf(p.Items[0])
		p.LastSeq = seqOf(p.Items[len(p.Items)-1])
	}
	return p
}
