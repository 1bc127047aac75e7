package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"os"
	"reflect"
	"text/template"
)

// exists and indirect: copied from k8s.io/cli-runtime v0.37.2 pkg/printers/jsonpath.go
func exists(item interface{}, indices ...interface{}) bool {
	v := reflect.ValueOf(item)
	for _, i := range indices {
		index := reflect.ValueOf(i)
		var isNil bool
		if v, isNil = indirect(v); isNil {
			return false
		}
		switch v.Kind() {
		case reflect.Array, reflect.Slice, reflect.String:
			var x int64
			switch index.Kind() {
			case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
				x = index.Int()
			case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
				x = int64(index.Uint())
			default:
				return false
			}
			if x < 0 || x >= int64(v.Len()) {
				return false
			}
			v = v.Index(int(x))
		case reflect.Map:
			if !index.IsValid() {
				index = reflect.Zero(v.Type().Key())
			}
			if !index.Type().AssignableTo(v.Type().Key()) {
				return false
			}
			if x := v.MapIndex(index); x.IsValid() {
				v = x
			} else {
				v = reflect.Zero(v.Type().Elem())
			}
		default:
			return false
		}
	}
	if _, isNil := indirect(v); isNil {
		return false
	}
	return true
}

func indirect(v reflect.Value) (rv reflect.Value, isNil bool) {
	for ; v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface; v = v.Elem() {
		if v.IsNil() {
			return v, true
		}
		if v.Kind() == reflect.Interface && v.NumMethod() > 0 {
			break
		}
	}
	return v, false
}

func main() {
	var cases [][2]string
	json.Unmarshal([]byte(os.Args[1]), &cases)
	var res []string
	for _, c := range cases {
		var data map[string]interface{}
		d := json.NewDecoder(bytes.NewReader([]byte(c[1])))
		d.UseNumber()
		var raw map[string]interface{}
		d.Decode(&raw)
		data = conv(raw).(map[string]interface{})
		t, err := template.New("output").Funcs(template.FuncMap{"exists": exists, "base64decode": func(v string) (string, error) {
			b, err := base64.StdEncoding.DecodeString(v)
			if err != nil {
				return "", fmt.Errorf("base64 decode failed: %v", err)
			}
			return string(b), nil
		}}).Parse(c[0])
		if err != nil {
			res = append(res, "PARSE "+err.Error())
			continue
		}
		var b bytes.Buffer
		err = t.Execute(&b, data)
		if err != nil {
			res = append(res, b.String()+"|ERR "+err.Error())
		} else {
			res = append(res, b.String())
		}
	}
	out, _ := json.Marshal(res)
	os.Stdout.Write(out)
}

func conv(v interface{}) interface{} {
	switch x := v.(type) {
	case map[string]interface{}:
		for k, e := range x {
			x[k] = conv(e)
		}
		return x
	case []interface{}:
		for i, e := range x {
			x[i] = conv(e)
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
