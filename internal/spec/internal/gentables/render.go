package gentables

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
)

// render writes the Go source; Generate gofmts it.
func render(m *model) []byte {
	var b bytes.Buffer
	b.WriteString(Header + "\n\n")
	b.WriteString("package spec\n\n")

	b.WriteString("// schemas are the response schemas operations return, sorted by name.\n")
	b.WriteString("var schemas = []Schema{\n")
	for _, s := range m.schemas {
		writeSchema(&b, "", s)
		b.WriteString(",\n")
	}
	b.WriteString("}\n\n")

	b.WriteString("// meta is the meta object of list responses, keys in wire order.\n")
	b.WriteString("var meta = ")
	writeSchema(&b, "Schema", m.meta)
	b.WriteString("\n\n")

	b.WriteString("// operations are the spec's operations, in document order.\n")
	b.WriteString("var operations = []Operation{\n")
	for _, o := range m.ops {
		writeOperation(&b, o)
	}
	b.WriteString("}\n")
	return b.Bytes()
}

func q(s string) string { return strconv.Quote(s) }

func strs(ss []string) string {
	qs := make([]string, len(ss))
	for i, s := range ss {
		qs[i] = q(s)
	}
	return "[]string{" + strings.Join(qs, ", ") + "}"
}

// writeSchema writes a Schema literal; typ is "Schema" where the type must be
// spelled and "" inside a []Schema.
func writeSchema(b *bytes.Buffer, typ string, s schema) {
	fmt.Fprintf(b, "%s{Name: %s, Properties: []Property{\n", typ, q(s.name))
	for _, p := range s.props {
		fmt.Fprintf(b, "{Key: %s, Kind: %s", q(p.key), p.kind)
		if p.enum != nil {
			fmt.Fprintf(b, ", Enum: %s", strs(p.enum))
		}
		if p.nullable {
			b.WriteString(", Nullable: true")
		}
		b.WriteString("},\n")
	}
	b.WriteString("}}")
}

func writeOperation(b *bytes.Buffer, o operation) {
	fmt.Fprintf(b, "{\nID: %s, Method: %s, Path: %s, PathType: %s, Status: %d,\n",
		q(o.id), q(o.method), q(o.path), q(o.pathType), o.status)
	if o.otherStatuses != nil {
		fmt.Fprintf(b, "OtherStatuses: %#v,\n", o.otherStatuses)
	}
	if o.schema != "" {
		fmt.Fprintf(b, "Schema: %s,\n", q(o.schema))
	}
	if o.listKey != "" {
		fmt.Fprintf(b, "ListKey: %s,\n", q(o.listKey))
	}
	if o.url != "" {
		fmt.Fprintf(b, "URL: %s,\n", q(o.url))
	}
	if o.links != nil {
		b.WriteString("Links: []Link{\n")
		for _, l := range o.links {
			fmt.Fprintf(b, "{Key: %s, Template: %s},\n", q(l.key), q(l.template))
		}
		b.WriteString("},\n")
	}
	if o.params != nil {
		b.WriteString("Params: []Param{\n")
		for _, p := range o.params {
			fmt.Fprintf(b, "{Name: %s, In: %s, Type: %s", q(p.name), p.in, p.typ)
			if p.enum != nil {
				fmt.Fprintf(b, ", Enum: %s", strs(p.enum))
			}
			if p.required {
				b.WriteString(", Required: true")
			}
			if p.nullable {
				b.WriteString(", Nullable: true")
			}
			if p.hasMin {
				fmt.Fprintf(b, ", HasMin: true, Min: %d", p.min)
			}
			if p.hasMax {
				fmt.Fprintf(b, ", HasMax: true, Max: %d", p.max)
			}
			if p.pattern != "" {
				fmt.Fprintf(b, ", Pattern: %s", q(p.pattern))
			}
			if p.minLength != 0 {
				fmt.Fprintf(b, ", MinLength: %d", p.minLength)
			}
			if p.maxLength != 0 {
				fmt.Fprintf(b, ", MaxLength: %d", p.maxLength)
			}
			b.WriteString("},\n")
		}
		b.WriteString("},\n")
	}
	b.WriteString("},\n")
}
