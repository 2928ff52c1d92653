package sqlstore

import (
	"context"
	"fmt"
	"slices"

	"github.com/parleyhq/parley"
)

// order is how a keyset-paged list is ordered: by its creation sequence
// alone, or by a sort key and then the sequence (conversations by date,
// participant conversations by conversation SID). With a key, the cursor
// is the pair (key, seq), compared as a row value, which SQLite and
// PostgreSQL both evaluate, and use an index on (key, seq) for.
type order[T any] struct {
	seq string // the sequence column: "seq", or qualified in a join
	key string // the sort key column, or "" for creation order
	// keyArg turns a cursor's key (PageQuery.Key) into the key column's
	// value; keyOf reads an item's key (Page.FirstKey, LastKey).
	keyArg func(string) (any, error)
	keyOf  func(T) string
	seqOf  func(T) int64
	// shift is added to the seq column's values to make cursors, which
	// must not be 0 (no cursor): 1 for a column that counts from 0 (a
	// message's index), 0 for sequences.
	shift int64
}

// bySeq orders a list by its seq column.
func bySeq[T any](seqOf func(T) int64) order[T] { return order[T]{seq: "seq", seqOf: seqOf} }

// position is the expression a cursor compares against, and the cursor's
// values for it.
func (o order[T]) position(seq int64, key string) (string, []any, error) {
	seq -= o.shift
	if o.key == "" {
		return o.seq, []any{seq}, nil
	}
	k, err := o.keyArg(key)
	if err != nil {
		return "", nil, parley.Errorf(parley.KindInvalid, 21481, "Invalid PageToken")
	}
	return "(" + o.key + ", " + o.seq + ")", []any{k, seq}, nil
}

// orderBy is the ORDER BY list, ascending or descending.
func (o order[T]) orderBy(desc bool) string {
	dir := ""
	if desc {
		dir = " DESC"
	}
	if o.key == "" {
		return o.seq + dir
	}
	return o.key + dir + ", " + o.seq + dir
}

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
func planPage[T any](cols, from string, args []any, q parley.PageQuery, o order[T]) (pagePlan, error) {
	// Travelling forward in an ascending list means position > cursor,
	// ordered ascending; every other case is a mirror image of it.
	ahead, behind := ">", "<="
	if q.Desc {
		ahead, behind = "<", ">="
	}
	p := pagePlan{args: slices.Clone(args)}
	cursor := q.After
	if q.Before > 0 {
		cursor = q.Before
	}
	if cursor == 0 {
		p.query = fmt.Sprintf("SELECT %s %s ORDER BY %s LIMIT ?", cols, from, o.orderBy(q.Desc))
		p.args = append(p.args, q.Size+1)
		return p, nil
	}
	pos, at, err := o.position(cursor, q.Key)
	if err != nil {
		return pagePlan{}, err
	}
	marks := "?"
	if len(at) == 2 {
		marks = "(?, ?)"
	}
	travel, travelOrder := ahead, o.orderBy(q.Desc)
	if q.Before > 0 {
		travel, travelOrder, behind = mirror(ahead), o.orderBy(!q.Desc), mirror(behind)
	}
	p.query = fmt.Sprintf("SELECT %s %s AND %s %s %s ORDER BY %s LIMIT ?", cols, from, pos, travel, marks, travelOrder)
	p.args = append(append(p.args, at...), q.Size+1)
	p.behind = fmt.Sprintf("SELECT EXISTS (SELECT 1 %s AND %s %s %s)", from, pos, behind, marks)
	p.behindArgs = append(slices.Clone(args), at...)
	return p, nil
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
	scan func(scanner) (T, error), o order[T]) (parley.Page[T], error) {
	plan, err := planPage(cols, from, args, q, o)
	if err != nil {
		return parley.Page[T]{}, err
	}
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
	if n := len(p.Items); n > 0 {
		p.FirstSeq, p.LastSeq = o.seqOf(p.Items[0]), o.seqOf(p.Items[n-1])
		if o.keyOf != nil {
			p.FirstKey, p.LastKey = o.keyOf(p.Items[0]), o.keyOf(p.Items[n-1])
		}
	}
	return p, nil
}
