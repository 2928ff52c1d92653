package gentables

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/parleyhq/parley/internal/spec/openapi"
)

// The templates of each returned item's "url" and "links", and their
// verification against the spec's response examples.

// snake turns a path parameter name into the property it carries:
// ChatServiceSid → chat_service_sid.
func snake(s string) string {
	var b strings.Builder
	for i, r := range s {
		if 'A' <= r && r <= 'Z' {
			if i > 0 {
				b.WriteByte('_')
			}
			r += 'a' - 'A'
		}
		b.WriteRune(r)
	}
	return b.String()
}

// instancePath returns the path of the items of a list path: the one spec
// path that adds a single {Placeholder} segment to it (/v1/Users →
// /v1/Users/{Sid}; /v1/Users/{UserSid}/Conversations →
// /v1/Users/{UserSid}/Conversations/{ConversationSid}); "" when there is
// none.
func (g *generator) instancePath(list string) (string, error) {
	var found []string
	for _, pi := range g.doc.Paths {
		rest, ok := strings.CutPrefix(pi.Path, list+"/{")
		if ok && strings.HasSuffix(rest, "}") && !strings.ContainsAny(rest[:len(rest)-1], "/{}") {
			found = append(found, pi.Path)
		}
	}
	switch len(found) {
	case 0:
		return "", nil
	case 1:
		return found[0], nil
	}
	return "", fmt.Errorf("list path has several instance paths: %q", found)
}

// pathTemplate rewrites a spec path into a template over the schema's
// properties: /v1/Services/{ChatServiceSid}/Users/{Sid} →
// /v1/Services/{chat_service_sid}/Users/{sid}.
func pathTemplate(path string, s *openapi.Schema) (string, error) {
	var err error
	t := replacePlaceholders(path, func(name string) string {
		p := snake(name)
		if s.Property(p) == nil && err == nil {
			err = fmt.Errorf("path parameter {%s} names property %q, which %s lacks", name, p, s.Name)
		}
		return "{" + p + "}"
	})
	return t, err
}

// replacePlaceholders replaces each {name} of a template by f(name).
func replacePlaceholders(t string, f func(string) string) string {
	var b strings.Builder
	for {
		i := strings.IndexByte(t, '{')
		j := strings.IndexByte(t, '}')
		if i < 0 || j < i {
			b.WriteString(t)
			return b.String()
		}
		b.WriteString(t[:i])
		b.WriteString(f(t[i+1 : j]))
		t = t[j+1:]
	}
}

// instantiate fills a template with an item's own values; ok is false when
// a placeholder's property is missing or not a string.
func instantiate(t string, it item) (string, bool) {
	ok := true
	s := replacePlaceholders(t, func(name string) string {
		v, found := it.str(name)
		if !found {
			ok = false
		}
		return v
	})
	return s, ok
}

// urlPath strips scheme and host from an absolute URL in an example.
func urlPath(abs string) (string, error) {
	u, err := url.Parse(abs)
	if err != nil {
		return "", err
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return "", fmt.Errorf("URL %q has a query or fragment", abs)
	}
	return u.Path, nil
}

// reproduces checks that a template, filled with each item's own values,
// gives what get reads from that item; it returns the first mismatch.
func reproduces(t string, items []item, get func(item) (string, error)) error {
	for _, it := range items {
		want, err := get(it)
		if err != nil {
			return fmt.Errorf("%s: %w", it.example, err)
		}
		got, ok := instantiate(t, it)
		if !ok || got != want {
			return fmt.Errorf("%s: template %s gives %q, example has %q", it.example, t, got, want)
		}
	}
	return nil
}

func exampleURL(it item) (string, error) {
	u, ok := it.str("url")
	if !ok {
		return "", errors.New("no url string")
	}
	return urlPath(u)
}

// deriveTemplate builds a template from an example path by replacing each
// segment that equals one of the item's own string properties with that
// property: sid first, then the other *_sid properties, then the rest, each
// group in schema order. Every segment left literal must be a literal
// segment of some spec path ("v1", "Conversations"…): otherwise a value the
// example does not explain (a SID of another resource, a typo) would be
// frozen into the template and trivially "reproduce" its own example.
func (g *generator) deriveTemplate(path string, it item, s *openapi.Schema) (string, error) {
	t := deriveTemplate(path, it, s)
	for _, seg := range strings.Split(t, "/") {
		if seg != "" && !strings.HasPrefix(seg, "{") && !g.literalSegment(seg) {
			return "", fmt.Errorf("%s: cannot derive a template from %s: segment %q is neither a property of the example nor a literal of a spec path", it.example, path, seg)
		}
	}
	return t, nil
}

// literalSegment reports whether seg is a literal (non-{placeholder})
// segment of some path of the spec.
func (g *generator) literalSegment(seg string) bool {
	if g.literals == nil {
		g.literals = map[string]bool{}
		for _, pi := range g.doc.Paths {
			for _, s := range strings.Split(pi.Path, "/") {
				if s != "" && !strings.HasPrefix(s, "{") {
					g.literals[s] = true
				}
			}
		}
	}
	return g.literals[seg]
}

// deriveTemplate does the replacing for the method of the same name.
func deriveTemplate(path string, it item, s *openapi.Schema) string {
	var cands []string
	if s.Property("sid") != nil {
		cands = append(cands, "sid")
	}
	for _, p := range s.Properties {
		if p.Name != "sid" && strings.HasSuffix(p.Name, "_sid") {
			cands = append(cands, p.Name)
		}
	}
	for _, p := range s.Properties {
		if !strings.HasSuffix(p.Name, "sid") {
			cands = append(cands, p.Name)
		}
	}
	segs := strings.Split(path, "/")
	for i, seg := range segs {
		if seg == "" {
			continue
		}
		for _, c := range cands {
			if v, ok := it.str(c); ok && v == seg {
				segs[i] = "{" + c + "}"
				break
			}
		}
	}
	return strings.Join(segs, "/")
}

// itemURL derives the template of each returned item's "url": the instance
// path with its parameters renamed to properties, or, when that does not
// reproduce the examples (ConversationWithParticipants returns
// conversations, which live at /v1/Conversations/{sid}), one derived from
// the examples themselves.
func (g *generator) itemURL(op *openapi.Operation, s *openapi.Schema, items []item) (string, error) {
	inst := op.Path
	if op.PathItem.XTwilio.PathType == "list" {
		var err error
		if inst, err = g.instancePath(op.Path); err != nil {
			return "", err
		}
	}
	var fromPath string
	var pathErr error // why fromPath does not fit the examples
	if inst != "" {
		var err error
		if fromPath, err = pathTemplate(inst, s); err != nil {
			return "", err
		}
		if len(items) == 0 {
			return fromPath, nil // nothing to check against; the path is authoritative
		}
		if pathErr = reproduces(fromPath, items, exampleURL); pathErr == nil {
			return fromPath, nil
		}
	}
	if len(items) == 0 {
		return "", errors.New("url: no instance path and no example to derive the template from")
	}
	// wrap reports a failed derivation, with why the path did not fit.
	wrap := func(err error) error {
		if pathErr != nil {
			return fmt.Errorf("url: the path template does not fit (%v), and deriving one failed: %w", pathErr, err)
		}
		return fmt.Errorf("url: %w", err)
	}
	p, err := exampleURL(items[0])
	if err != nil {
		return "", wrap(fmt.Errorf("%s: %w", items[0].example, err))
	}
	t, err := g.deriveTemplate(p, items[0], s)
	if err != nil {
		return "", wrap(err)
	}
	if err := reproduces(t, items, exampleURL); err != nil {
		return "", wrap(err)
	}
	return t, nil
}

// links derives the templates of "links": from x-twilio.dependentProperties
// when the path has them (their placeholders rewritten through the mapping
// to name the schema's properties), else from the examples. The order is
// the examples' (the order Twilio serialises), else dependentProperties'.
func (g *generator) links(op *openapi.Operation, s *openapi.Schema, items []item) ([]link, error) {
	templates := map[string]string{}
	var order []string
	for _, dp := range op.PathItem.XTwilio.DependentProperties {
		mapping := map[string]string{}
		for _, m := range dp.Mapping {
			mapping[m.Placeholder] = m.Property
		}
		var err error
		t := replacePlaceholders(dp.ResourceURL, func(ph string) string {
			p, ok := mapping[ph]
			if !ok && err == nil {
				err = fmt.Errorf("links.%s: placeholder {%s} has no mapping", dp.Name, ph)
			} else if s.Property(p) == nil && err == nil {
				err = fmt.Errorf("links.%s: placeholder {%s} maps to %q, which %s lacks", dp.Name, ph, p, s.Name)
			}
			return "{" + p + "}"
		})
		if err != nil {
			return nil, err
		}
		templates[dp.Name] = t
		order = append(order, dp.Name)
	}

	// The examples' link keys, which must agree among themselves.
	var exOrder []string
	for i, it := range items {
		keys, err := linkKeys(it)
		if err != nil {
			return nil, err
		}
		if i == 0 {
			exOrder = keys
		} else if !slices.Equal(keys, exOrder) {
			return nil, fmt.Errorf("%s: links keys %q, but %s has %q", it.example, keys, items[0].example, exOrder)
		}
	}

	if len(order) == 0 {
		if len(items) == 0 {
			return nil, errors.New("links: no dependentProperties and no example to derive them from")
		}
		for _, k := range exOrder {
			raw, _ := linkValue(items[0], k)
			p, err := urlPath(raw)
			if err != nil {
				return nil, fmt.Errorf("%s: links.%s: %w", items[0].example, k, err)
			}
			if templates[k], err = g.deriveTemplate(p, items[0], s); err != nil {
				return nil, fmt.Errorf("links.%s: %w", k, err)
			}
		}
		order = exOrder
	} else if len(items) > 0 {
		a, b := slices.Clone(order), slices.Clone(exOrder)
		slices.Sort(a)
		slices.Sort(b)
		if !slices.Equal(a, b) {
			return nil, fmt.Errorf("links: dependentProperties %q, examples %q", order, exOrder)
		}
		order = exOrder
	}

	var out []link
	for _, k := range order {
		t := templates[k]
		err := reproduces(t, items, func(it item) (string, error) {
			v, ok := linkValue(it, k)
			if !ok {
				return "", fmt.Errorf("no links.%s string", k)
			}
			return urlPath(v)
		})
		if err != nil {
			return nil, fmt.Errorf("links.%s: %w", k, err)
		}
		out = append(out, link{key: k, template: t})
	}
	return out, nil
}

func linkKeys(it item) ([]string, error) {
	raw, ok := it.get("links")
	if !ok {
		return nil, fmt.Errorf("%s: no links", it.example)
	}
	ms, err := openapi.ObjectMembers(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: links: %w", it.example, err)
	}
	keys := make([]string, len(ms))
	for i, m := range ms {
		keys[i] = m.Key
	}
	return keys, nil
}

func linkValue(it item, key string) (string, bool) {
	raw, ok := it.get("links")
	if !ok {
		return "", false
	}
	ms, err := openapi.ObjectMembers(raw)
	if err != nil {
		return "", false
	}
	return item{members: ms}.str(key)
}
