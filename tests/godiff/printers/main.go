// printersgo: kubectl's own --sort-by (k8s.io/kubectl/pkg/cmd/get: SortObjects, the RuntimeSorter over a server-side
// Table) and custom-columns printer (CustomColumnsPrinter, from a spec or a template file, through cli-runtime's
// tabwriter) over generated cases, for the differential test in tests/unit/test_printers_go.py.
//
// stdin: one JSON case per line:
//
//	{"op":"sort","field":F,"objects":[...]}            SortObjects over the objects (-o json/yaml/name/... in kubectl)
//	{"op":"tablesort","field":F,"objects":[...]}       kubectl's sort of a listed Table whose rows hold the objects
//	{"op":"cc","spec":S,"noHeaders":B,"objects":[...]} custom-columns=S over a List of the objects
//	{"op":"ccfile","file":T,"objects":[...]}           custom-columns-file (T is the file's text; --no-headers ignored)
//
// stdout: one JSON outcome per line: {"order":[original positions]} for a sort, {"out":TEXT} for custom columns,
// plus "error" when kubectl's call returned one, or "exit" when kubectl would have ended the process (klog.Exitf /
// Fatalf: the first line it logs). Objects decode as kubectl decodes them (int64 when an integer fits, else float64).
package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	utiljson "k8s.io/apimachinery/pkg/util/json"
	"k8s.io/cli-runtime/pkg/printers"
	"k8s.io/klog/v2"
	"k8s.io/kubectl/pkg/cmd/get"
)

type input struct {
	Op        string            `json:"op"`
	Field     string            `json:"field"`
	Spec      string            `json:"spec"`
	File      string            `json:"file"`
	NoHeaders bool              `json:"noHeaders"`
	Objects   []json.RawMessage `json:"objects"`
}

type outcome struct {
	Order *[]int  `json:"order,omitempty"`
	Out   *string `json:"out,omitempty"`
	Error *string `json:"error,omitempty"`
	Exit  *string `json:"exit,omitempty"`
}

type exited struct{}

var logged bytes.Buffer

func decode(raw json.RawMessage) *unstructured.Unstructured {
	m := map[string]interface{}{}
	if err := utiljson.Unmarshal(raw, &m); err != nil {
		panic(err)
	}
	return &unstructured.Unstructured{Object: m}
}

func str(s string) *string { return &s }

func run(c input) (o outcome) {
	defer func() {
		if r := recover(); r != nil {
			if _, ok := r.(exited); !ok {
				panic(r)
			}
			msg, _, _ := strings.Cut(logged.String(), "\n")
			o.Exit = &msg
		}
	}()
	logged.Reset()
	objs := make([]runtime.Object, len(c.Objects))
	for i, raw := range c.Objects {
		objs[i] = decode(raw)
	}
	switch c.Op {
	case "sort":
		if len(objs) == 0 { // SortingPrinter.sortObj: an empty list is not sorted
			return outcome{Order: &[]int{}}
		}
		sorter, err := get.SortObjects(nil, objs, c.Field)
		if err != nil {
			return outcome{Error: str(err.Error())}
		}
		order := []int{}
		for i := range objs {
			order = append(order, sorter.OriginalPosition(i))
		}
		o.Order = &order
	case "tablesort":
		table := &metav1.Table{}
		for i, obj := range objs {
			table.Rows = append(table.Rows, metav1.TableRow{Cells: []interface{}{int64(i)}, Object: runtime.RawExtension{Object: obj}})
		}
		// kubectl get's builder hands the RuntimeSorter the list's Table as an *unstructured.Unstructured, which it
		// leaves alone (one object); the Table is sorted once, by the SortingPrinter, when it has more than one row
		sorting := &get.SortingPrinter{Delegate: printers.ResourcePrinterFunc(func(runtime.Object, io.Writer) error { return nil }), SortField: c.Field}
		if err := sorting.PrintObj(table, io.Discard); err != nil {
			return outcome{Error: str(err.Error())}
		}
		order := []int{}
		for _, row := range table.Rows {
			order = append(order, int(row.Cells[0].(int64)))
		}
		o.Order = &order
	case "cc", "ccfile":
		var printer *get.CustomColumnsPrinter
		var err error
		if c.Op == "cc" {
			printer, err = get.NewCustomColumnsPrinterFromSpec(c.Spec, nil, c.NoHeaders)
		} else {
			printer, err = get.NewCustomColumnsPrinterFromTemplate(strings.NewReader(c.File), nil)
		}
		if err != nil {
			return outcome{Error: str(err.Error())}
		}
		list := &unstructured.UnstructuredList{Object: map[string]interface{}{"kind": "List", "apiVersion": "v1", "metadata": map[string]interface{}{}}}
		for _, obj := range objs {
			list.Items = append(list.Items, *obj.(*unstructured.Unstructured))
		}
		var buf bytes.Buffer
		err = printer.PrintObj(list, &buf)
		o.Out = str(buf.String())
		if err != nil {
			o.Error = str(err.Error())
		}
	default:
		panic("unknown op " + c.Op)
	}
	return o
}

func main() {
	fs := flag.NewFlagSet("klog", flag.ContinueOnError)
	klog.InitFlags(fs)
	for k, v := range map[string]string{"logtostderr": "false", "alsologtostderr": "false", "skip_headers": "true", "stderrthreshold": "FATAL"} {
		if err := fs.Set(k, v); err != nil {
			panic(err)
		}
	}
	klog.SetOutput(&logged)
	klog.OsExit = func(int) { panic(exited{}) }

	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<28)
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	enc := json.NewEncoder(out)
	enc.SetEscapeHTML(false)
	for in.Scan() {
		var c input
		if err := json.Unmarshal(in.Bytes(), &c); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		if err := enc.Encode(run(c)); err != nil {
			panic(err)
		}
	}
	if err := in.Err(); err != nil {
		panic(err)
	}
}
