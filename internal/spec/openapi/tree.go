package openapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// A node is one JSON value of the document. Objects keep their members in
// document order: encoding/json decodes objects into maps, which lose the
// order, and the order of a schema's properties is exactly what parley must
// reproduce on the wire. So the document is first read into this tree with
// a json.Decoder token walk, then the typed structs are built from it.
type node struct {
	kind  nodeKind
	keys  []string // object member names, in document order
	vals  []*node  // object member values, parallel to keys
	elems []*node  // array elements
	str   string   // string value, or the literal text of a number
	b     bool     // boolean value
	raw   []byte   // objects and arrays: their exact bytes in the document
	off   int64    // byte offset just past the value, for error messages
}

type nodeKind uint8

const (
	kindNull nodeKind = iota
	kindBool
	kindNumber
	kindString
	kindArray
	kindObject
)

func (k nodeKind) String() string {
	return [...]string{"null", "boolean", "number", "string", "array", "object"}[k]
}

// get returns the value of an object member, or nil when the node is not an
// object or has no such member.
func (n *node) get(key string) *node {
	if n == nil || n.kind != kindObject {
		return nil
	}
	for i, k := range n.keys {
		if k == key {
			return n.vals[i]
		}
	}
	return nil
}

// rawJSON renders the node as compact JSON. Objects and arrays are the
// document's own bytes, compacted, so key order, number spelling and string
// escapes are exactly what the spec wrote.
func (n *node) rawJSON() (json.RawMessage, error) {
	switch n.kind {
	case kindObject, kindArray:
		var buf bytes.Buffer
		if err := json.Compact(&buf, n.raw); err != nil {
			return nil, err
		}
		return buf.Bytes(), nil
	case kindString:
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(n.str); err != nil {
			return nil, err
		}
		return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
	case kindNumber:
		return json.RawMessage(n.str), nil
	case kindBool:
		if n.b {
			return json.RawMessage("true"), nil
		}
		return json.RawMessage("false"), nil
	default:
		return json.RawMessage("null"), nil
	}
}

// parseTree reads one JSON document into a tree, refusing trailing data and
// duplicate object keys (which a map-based decoder would silently merge).
func parseTree(data []byte) (*node, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	root, err := readValue(dec, data)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("openapi: trailing data after the document at offset %d", dec.InputOffset())
	}
	return root, nil
}

func readValue(dec *json.Decoder, data []byte) (*node, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, fmt.Errorf("openapi: invalid JSON: %w", err)
	}
	switch t := tok.(type) {
	case json.Delim:
		// InputOffset is just past the delimiter, so the value starts one
		// byte earlier.
		start := dec.InputOffset() - 1
		switch t {
		case '{':
			n := &node{kind: kindObject}
			seen := map[string]bool{}
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return nil, fmt.Errorf("openapi: invalid JSON: %w", err)
				}
				key, ok := kt.(string)
				if !ok {
					return nil, fmt.Errorf("openapi: invalid JSON: object key %v at offset %d", kt, dec.InputOffset())
				}
				if seen[key] {
					return nil, fmt.Errorf("openapi: duplicate key %q at offset %d", key, dec.InputOffset())
				}
				seen[key] = true
				v, err := readValue(dec, data)
				if err != nil {
					return nil, err
				}
				n.keys = append(n.keys, key)
				n.vals = append(n.vals, v)
			}
			if _, err := dec.Token(); err != nil { // '}'
				return nil, fmt.Errorf("openapi: invalid JSON: %w", err)
			}
			n.off = dec.InputOffset()
			n.raw = data[start:n.off]
			return n, nil
		case '[':
			n := &node{kind: kindArray}
			for dec.More() {
				v, err := readValue(dec, data)
				if err != nil {
					return nil, err
				}
				n.elems = append(n.elems, v)
			}
			if _, err := dec.Token(); err != nil { // ']'
				return nil, fmt.Errorf("openapi: invalid JSON: %w", err)
			}
			n.off = dec.InputOffset()
			n.raw = data[start:n.off]
			return n, nil
		}
		return nil, fmt.Errorf("openapi: invalid JSON: unexpected %v at offset %d", t, dec.InputOffset())
	case string:
		return &node{kind: kindString, str: t, off: dec.InputOffset()}, nil
	case json.Number:
		return &node{kind: kindNumber, str: string(t), off: dec.InputOffset()}, nil
	case bool:
		return &node{kind: kindBool, b: t, off: dec.InputOffset()}, nil
	case nil:
		return &node{kind: kindNull, off: dec.InputOffset()}, nil
	}
	return nil, fmt.Errorf("openapi: invalid JSON: unexpected token %v", tok)
}
