// kyamlgo: sigs.k8s.io/yaml/kyaml's Encoder.FromObject (kubectl's -o kyaml printer) over JSON values, for the
// differential test in tests/unit/test_kyaml_go.py. stdin: one JSON value per line; stdout: each value's KYAML, or
// "error: ..." when kyaml refuses it, followed by a NUL byte. Numbers decode as Kubernetes' unstructured JSON does:
// int64 when the text is an integer that fits, else float64.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"

	"sigs.k8s.io/yaml/kyaml"
)

func convert(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = convert(e)
		}
		return x
	case []any:
		for i, e := range x {
			x[i] = convert(e)
		}
		return x
	case json.Number:
		if i, err := x.Int64(); err == nil {
			return i
		}
		f, _ := x.Float64()
		return f
	}
	return v
}

func main() {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<26)
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	enc := &kyaml.Encoder{}
	for in.Scan() {
		dec := json.NewDecoder(bytes.NewReader(in.Bytes()))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err != nil {
			fmt.Fprintf(out, "error: %v\x00", err)
			continue
		}
		var buf bytes.Buffer
		if err := enc.FromObject(convert(v), &buf); err != nil {
			fmt.Fprintf(out, "error: %v\x00", err)
			continue
		}
		out.Write(buf.Bytes())
		out.WriteByte(0)
	}
}
