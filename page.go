package parley

// PageQuery asks a store for one page of a list. Paging is by keyset: After
// and Before are creation sequence numbers taken from the previous page, so
// page 10,000 costs what page 1 costs and rows added or removed meanwhile
// never shift the pages. At most one of After and Before is non-zero;
// neither means the first page. "After" and "before" follow the list's
// order: with Desc, the rows after a cursor are the older ones.
type PageQuery struct {
	Size   int
	After  int64 // the rows that follow this one in list order
	Before int64 // the last Size rows that precede this one, still returned in list order
	// Key is the cursor row's sort key, for the lists ordered by a key
	// before the creation sequence (conversations by date, participant
	// conversations by conversation SID); "" for lists in creation order.
	Key string
	// Desc lists newest first; the default is creation order, oldest first.
	Desc bool
}

// Page is one page of a list, with whether rows exist beyond each end.
type Page[T any] struct {
	Items    []T
	FirstSeq int64 // Seq of Items[0]; 0 when empty
	LastSeq  int64 // Seq of the last item; 0 when empty
	// FirstKey and LastKey are the sort keys of the same items, for lists
	// ordered by a key (see PageQuery.Key); "" otherwise.
	FirstKey, LastKey string
	HasNext           bool
	HasPrev           bool
}
