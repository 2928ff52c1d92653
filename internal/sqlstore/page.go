package sqlstore

import (
	"context"
	"fmt"
	"slices"

	"github.com/parleyhq/parley"
)

// pagePlan is the SQL for one page of a keyset-paged list: query fetches up
// to Size+1 rows in the direction of travel (the extra row says whether
// more lie ahead); behind, when not empty, asks whether any row lies behind
// the cursor.
type pagePlan struct {
	query      string
	args       []any
	behind     string // SELECT EXISTS (…), or "" on a first page
	behindArgs []any
}

// planPage plans page q of the list "SELECT cols from", where from is a
// FROM … WHERE … clause (with args) to which the cursor condition is ANDed.
// Rows are ordered by seq, the creation sequence every listed table has.
func planPage(cols, from string, args []any, q parley.PageQuery) pagePlan {
	// Travelling forward in an ascending list means seq > cursor, ordered
	// ascending; every other case is a mirror image of it.
	ahead, behind, order := ">", "<=", "seq"
	if q.Desc {
		ahead, behind, order = "<", ">=", "seq DESC"
	}
	p := pagePlan{args: slices.Clone(args)}
	switch {
	case q.Before > 0:
		back, reverse := mirror(ahead), "seq DESC"
		if q.Desc {
			reverse = "seq"
		}
		p.query = fmt.Sprintf("SELECT %s %s AND seq %s ? ORDER BY %s LIMIT ?", cols, from, back, reverse)
		p.args = append(p.args, q.Before, q.Size+1)
		p.behind = fmt.Sprintf("SELECT EXISTS (SELECT 1 %s AND seq %s ?)", from, mirror(behind))
		p.behindArgs = append(slices.Clone(args), q.Before)
	case q.After > 0:
		p.query = fmt.Sprintf("SELECT %s %s AND seq %s ? ORDER BY %s LIMIT ?", cols, from, ahead, order)
		p.args = append(p.args, q.After, q.Size+1)
		p.behind = fmt.Sprintf("SELECT EXISTS (SELECT 1 %s AND seq %s ?)", from, behind)
		p.behindArgs = append(slices.Clone(args), q.After)
	default:
		p.query = fmt.Sprintf("SELECT %s %s ORDER BY %s LIMIT ?", cols, from, order)
		p.args = append(p.args, q.Size+1)
	}
	return p
}

// mirror is the comparison seen from the other side of the cursor.
func mirror(op string) string {
	switch op {
	case ">":
		return "<"
	case "<":
		return ">"
	case "<=":
		return ">="
	case ">=":
		return "<="
	}
	panic("sqlstore: no mirror for " + op)
}

// page runs one page of a keyset-paged list (see planPage) and assembles
// it in list order, with whether more rows lie on either side.
func page[T any](t *Tx, ctx context.Context, cols, from string, args []any, q parley.PageQuery,
	scan func(scanner) (T, error), seqOf func(T) int64) (parley.Page[T], error) {
	plan := planPage(cols, from, args, q)
	rows, err := list(t, ctx, scan, plan.query, plan.args...)
	if err != nil {
		return parley.Page[T]{}, err
	}
	var behind bool
	if plan.behind != "" {
		if err := t.c.QueryRow(ctx, t.d.rebind(plan.behind), plan.behindArgs...).Scan(boolean{&behind}); err != nil {
			return parley.Page[T]{}, t.d.mapError(err, false)
		}
	}
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
	return p, nil
}
