package parley

// PageQuery asks a store for one page of a list in creation order. Paging is
// by keyset: After and Before are creation sequence numbers taken from the
// previous page, so page 10,000 costs what page 1 costs and rows added or
// removed meanwhile never shift the pages. At most one of After and Before
// is non-zero; neither means the first page.
type PageQuery struct {
	Size   int
	After  int64 // rows with Seq > After, ascending
	Before int64 // rows with Seq < Before, the last Size of them, still returned ascending
}

// Page is one page of a list, with whether rows exist beyond each end.
type Page[T any] struct {
	Items    []T
	FirstSeq int64 // Seq of Items[0]; 0 when empty
	LastSeq  int64 // Seq of the last item; 0 when empty
	HasNext  bool
	HasPrev  bool
}
