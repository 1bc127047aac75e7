// jsonpathgo: kubectl's `-o jsonpath=` and `-o jsonpath-as-json=` printers (cli-runtime's JSONPathPrintFlags and
// JSONPathPrinter over client-go's util/jsonpath, as kubectl builds them) over many (template, object) cases, for the
// differential test in tests/unit/test_jsonpath_go.py.
//
// stdin: one JSON case per line: {"t": base64 of the template's bytes, "f": "jsonpath" or "jsonpath-as-json",
// "m": allow missing keys (kubectl's --allow-missing-template-keys, true by default), "o": the object, "n": how
// many times one printer prints it (1 by default; kubectl get -w prints each object with the same printer)}. The object is
// decoded as kubectl decodes the API server's JSON (k8s.io/apimachinery/pkg/util/json: an integer that fits is an
// int64, any other number a float64) into an Unstructured, as kubectl get prints it.
// stdout: one JSON line per case: {"out": base64 of what the printer wrote, "err": base64 of the error's text, or
// null}. A template that does not parse is ToPrinter's error (kubectl's message); an evaluation error is PrintObj's.
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"os"

	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"k8s.io/cli-runtime/pkg/genericclioptions"
)

type request struct {
	Template []byte          `json:"t"`
	Format   string          `json:"f"`
	Missing  *bool           `json:"m"`
	Object   json.RawMessage `json:"o"`
	Times    int             `json:"n"`
}

type outcome struct {
	Out []byte `json:"out"`
	Err []byte `json:"err"`
}

func run(req request) (out outcome) {
	defer func() { // a panic in kubectl's code is an outcome too, not the end of the batch
		if r := recover(); r != nil {
			out.Err = []byte(fmt.Sprintf("panic: %v", r))
		}
	}()
	tmpl := string(req.Template)
	flags := genericclioptions.NewJSONPathPrintFlags("", true) // kubectl: -o FORMAT=TEMPLATE, no --template
	if req.Missing != nil {
		flags.AllowMissingKeys = req.Missing
	}
	printer, err := flags.ToPrinter(req.Format + "=" + tmpl)
	if err != nil {
		return outcome{Err: []byte(err.Error())}
	}
	obj := map[string]interface{}{}
	if err := utiljson.Unmarshal(req.Object, &obj); err != nil {
		return outcome{Err: []byte("harness: decoding the object: " + err.Error())}
	}
	var buf bytes.Buffer
	for i := 0; i < max(req.Times, 1) && err == nil; i++ { // kubectl get -w prints every object with one printer
		err = printer.PrintObj(&unstructured.Unstructured{Object: obj}, &buf)
	}
	out = outcome{Out: buf.Bytes()}
	if out.Out == nil {
		out.Out = []byte{}
	}
	if err != nil {
		out.Err = []byte(err.Error())
	}
	return out
}

func main() {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<28)
	w := bufio.NewWriter(os.Stdout)
	defer w.Flush()
	enc := json.NewEncoder(w)
	for in.Scan() {
		var req request
		if err := json.Unmarshal(in.Bytes(), &req); err != nil {
			fmt.Fprintf(os.Stderr, "jsonpathgo: bad case line: %v\n", err)
			os.Exit(2)
		}
		if err := enc.Encode(run(req)); err != nil {
			fmt.Fprintf(os.Stderr, "jsonpathgo: %v\n", err)
			os.Exit(2)
		}
	}
	if err := in.Err(); err != nil {
		fmt.Fprintf(os.Stderr, "jsonpathgo: %v\n", err)
		os.Exit(2)
	}
}
