// clientgo: the client-go peer of the kates benchmark suite (bench/clientgo.py builds it; BENCHMARKS.md B2, B3, B6).
//
// It uses client-go the usual way: the typed core/v1 client over the kubeconfig in $KUBECONFIG (protobuf on the wire:
// v0.37's generated clients of built-in kinds send Accept: application/vnd.kubernetes.protobuf,application/json by
// default, where kates reads JSON; the API server's own encoding is then cheaper, measured at 105-120 ms of its CPU
// for a streaming list of 10,000 ConfigMaps against 220-270 ms for kates's JSON one), shared informers with no
// resync (their reflectors use the streaming list, WatchList, when client-go enables it, as v0.35 and later do by
// default, and fall back to list+watch when the server refuses it), and plain
// List calls. Every request goes through a counting transport, so each mode reports how it listed (watch-list
// streams, chunked lists, plain lists, watches).
//
//	clientgo informer-sync NS HOOK [ARGS...]  B2: informers on cm, secrets and svc of NS; once all have synced, the
//	                                           snapshot {"cm": [...], "secrets": [...], "svc": [...]} (sorted by name)
//	                                           goes to HOOK's stdin; exits with HOOK's code
//	clientgo list-sync NS HOOK [ARGS...]      B2: the same snapshot from three plain List calls (concurrent, no limit)
//	clientgo intake NS EXPECTED TIMEOUT       B3: an informer on the ConfigMaps of NS; prints "ready" once synced,
//	                                           counts update events, then prints "done {json}" with its own CPU-seconds
//	                                           (rusage) from "ready" to the EXPECTED-th event
//	clientgo hold NS                          B6: informers on cm, secrets and svc of NS; prints "synced" and keeps
//	                                           them running until SIGTERM or SIGINT
//
// The request counts go to stderr as one line: "clientgo requests {json}".
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	corev1client "k8s.io/client-go/kubernetes/typed/core/v1"
	"k8s.io/client-go/tools/cache"
	"k8s.io/client-go/tools/clientcmd"
)

// counter counts the requests by how they list or watch.
type counter struct {
	mu     sync.Mutex
	counts map[string]int
}

func (c *counter) add(kind string) {
	c.mu.Lock()
	c.counts[kind]++
	c.mu.Unlock()
}

func (c *counter) report() {
	c.mu.Lock()
	data, _ := json.Marshal(c.counts)
	c.mu.Unlock()
	fmt.Fprintf(os.Stderr, "clientgo requests %s\n", data)
}

type countingTransport struct {
	next http.RoundTripper
	c    *counter
}

func (t countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	q := req.URL.Query()
	switch {
	case q.Get("watch") == "true" && q.Get("sendInitialEvents") == "true":
		t.c.add("watchlist")
	case q.Get("watch") == "true":
		t.c.add("watch")
	case q.Get("limit") != "" || q.Get("continue") != "":
		t.c.add("chunked_list")
	default:
		t.c.add("other:" + req.Method + " " + req.URL.Path)
	}
	return t.next.RoundTrip(req)
}

func clientset(c *counter) *corev1client.CoreV1Client {
	cfg, err := clientcmd.BuildConfigFromFlags("", os.Getenv("KUBECONFIG"))
	if err != nil {
		fail("kubeconfig: %v", err)
	}
	cfg.Wrap(func(rt http.RoundTripper) http.RoundTripper { return countingTransport{rt, c} })
	cs, err := corev1client.NewForConfig(cfg)
	if err != nil {
		fail("client: %v", err)
	}
	return cs
}

func fail(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "clientgo: "+format+"\n", args...)
	os.Exit(2)
}

var kinds = []string{"cm", "secrets", "svc"}

// lister is what the typed clients of the three kinds have in common.
type lister[L runtime.Object] interface {
	List(ctx context.Context, opts metav1.ListOptions) (L, error)
	Watch(ctx context.Context, opts metav1.ListOptions) (watch.Interface, error)
}

// informer is a shared index informer built as client-go's generated informers build theirs
// (informers/core/v1/configmap.go): the same ListWatch, wrapped by ToListWatcherWithWatchListSemantics, the same
// namespace index. The generated informer factory is not used only because it imports every API group's informers,
// listers and clients, which would make the peer's first (cold) build take many minutes.
func informer[L runtime.Object](client lister[L], core *corev1client.CoreV1Client, example runtime.Object) cache.SharedIndexInformer {
	lw := &cache.ListWatch{
		ListFunc: func(opts metav1.ListOptions) (runtime.Object, error) {
			return client.List(context.Background(), opts)
		},
		WatchFunc: func(opts metav1.ListOptions) (watch.Interface, error) {
			return client.Watch(context.Background(), opts)
		},
		ListWithContextFunc: func(ctx context.Context, opts metav1.ListOptions) (runtime.Object, error) {
			return client.List(ctx, opts)
		},
		WatchFuncWithContext: func(ctx context.Context, opts metav1.ListOptions) (watch.Interface, error) {
			return client.Watch(ctx, opts)
		},
	}
	return cache.NewSharedIndexInformerWithOptions(
		cache.ToListWatcherWithWatchListSemantics(lw, core),
		example,
		cache.SharedIndexInformerOptions{Indexers: cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc}},
	)
}

// informersFor makes (does not start) a shared informer per kind in names, on namespace ns.
func informersFor(core *corev1client.CoreV1Client, ns string, names []string) map[string]cache.SharedIndexInformer {
	all := map[string]cache.SharedIndexInformer{}
	for _, name := range names {
		switch name {
		case "cm":
			all[name] = informer[*corev1.ConfigMapList](core.ConfigMaps(ns), core, &corev1.ConfigMap{})
		case "secrets":
			all[name] = informer[*corev1.SecretList](core.Secrets(ns), core, &corev1.Secret{})
		case "svc":
			all[name] = informer[*corev1.ServiceList](core.Services(ns), core, &corev1.Service{})
		}
	}
	return all
}

func sortedItems(objs []any) []any {
	sort.Slice(objs, func(i, j int) bool {
		return objs[i].(metav1.Object).GetName() < objs[j].(metav1.Object).GetName()
	})
	return objs
}

func runHook(snapshot map[string][]any, hook []string) int {
	data, err := json.Marshal(snapshot)
	if err != nil {
		fail("marshal: %v", err)
	}
	cmd := exec.Command(hook[0], hook[1:]...)
	cmd.Stdin = bytes.NewReader(data)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		if exit, ok := err.(*exec.ExitError); ok {
			return exit.ExitCode()
		}
		fail("hook: %v", err)
	}
	return 0
}

func informerSync(ns string, hook []string) int {
	c := &counter{counts: map[string]int{}}
	cs := clientset(c)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	all := informersFor(cs, ns, kinds)
	synced := []cache.InformerSynced{}
	for _, inf := range all {
		go inf.RunWithContext(ctx)
		synced = append(synced, inf.HasSynced)
	}
	if !cache.WaitForCacheSync(ctx.Done(), synced...) {
		fail("informers did not sync")
	}
	snapshot := map[string][]any{}
	for name, inf := range all {
		snapshot[name] = sortedItems(inf.GetStore().List())
	}
	c.report()
	return runHook(snapshot, hook)
}

func listSync(ns string, hook []string) int {
	c := &counter{counts: map[string]int{}}
	cs := clientset(c)
	ctx := context.Background()
	core := cs
	var wg sync.WaitGroup
	var mu sync.Mutex
	snapshot := map[string][]any{}
	for _, name := range kinds {
		wg.Add(1)
		go func(name string) {
			defer wg.Done()
			var items []any
			switch name {
			case "cm":
				l, err := core.ConfigMaps(ns).List(ctx, metav1.ListOptions{})
				if err != nil {
					fail("list %s: %v", name, err)
				}
				for i := range l.Items {
					items = append(items, &l.Items[i])
				}
			case "secrets":
				l, err := core.Secrets(ns).List(ctx, metav1.ListOptions{})
				if err != nil {
					fail("list %s: %v", name, err)
				}
				for i := range l.Items {
					items = append(items, &l.Items[i])
				}
			case "svc":
				l, err := core.Services(ns).List(ctx, metav1.ListOptions{})
				if err != nil {
					fail("list %s: %v", name, err)
				}
				for i := range l.Items {
					items = append(items, &l.Items[i])
				}
			}
			mu.Lock()
			snapshot[name] = sortedItems(items)
			mu.Unlock()
		}(name)
	}
	wg.Wait()
	c.report()
	return runHook(snapshot, hook)
}

func cpuSeconds() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		fail("getrusage: %v", err)
	}
	tv := func(t syscall.Timeval) float64 { return float64(t.Sec) + float64(t.Usec)/1e6 }
	return tv(ru.Utime) + tv(ru.Stime)
}

func intake(ns string, expected int, timeout time.Duration) int {
	c := &counter{counts: map[string]int{}}
	cs := clientset(c)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	inf := informersFor(cs, ns, []string{"cm"})["cm"]
	var count atomic.Int64
	var ready atomic.Bool
	done := make(chan struct{})
	var once sync.Once
	_, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
		UpdateFunc: func(oldObj, newObj any) {
			if !ready.Load() {
				return
			}
			if count.Add(1) >= int64(expected) {
				once.Do(func() { close(done) })
			}
		},
	})
	if err != nil {
		fail("handler: %v", err)
	}
	go inf.RunWithContext(ctx)
	if !cache.WaitForCacheSync(ctx.Done(), inf.HasSynced) {
		fail("informer did not sync")
	}
	objects := len(inf.GetStore().List())
	cpu0, t0 := cpuSeconds(), time.Now()
	ready.Store(true)
	fmt.Println("ready")
	select {
	case <-done:
	case <-time.After(timeout):
	}
	cpu1, t1 := cpuSeconds(), time.Now()
	n := int(count.Load())
	result, _ := json.Marshal(map[string]any{
		"events":   n,
		"cpu":      cpu1 - cpu0,
		"wall":     t1.Sub(t0).Seconds(),
		"objects":  objects,
		"complete": n >= expected,
	})
	fmt.Printf("done %s\n", result)
	c.report()
	return 0
}

func hold(ns string) int {
	c := &counter{counts: map[string]int{}}
	cs := clientset(c)
	ctx, cancel := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer cancel()
	all := informersFor(cs, ns, kinds)
	synced := []cache.InformerSynced{}
	for _, inf := range all {
		go inf.RunWithContext(ctx)
		synced = append(synced, inf.HasSynced)
	}
	if !cache.WaitForCacheSync(ctx.Done(), synced...) {
		fail("informers did not sync")
	}
	total := 0
	for _, inf := range all {
		total += len(inf.GetStore().List())
	}
	fmt.Printf("synced %d\n", total)
	c.report()
	<-ctx.Done()
	return 0
}

func main() {
	if len(os.Args) < 3 {
		fail("usage: clientgo informer-sync|list-sync NS HOOK... | intake NS EXPECTED TIMEOUT | hold NS")
	}
	mode, ns, rest := os.Args[1], os.Args[2], os.Args[3:]
	switch mode {
	case "informer-sync", "list-sync":
		if len(rest) == 0 {
			fail("%s needs a hook", mode)
		}
		if mode == "informer-sync" {
			os.Exit(informerSync(ns, rest))
		}
		os.Exit(listSync(ns, rest))
	case "intake":
		if len(rest) != 2 {
			fail("usage: clientgo intake NS EXPECTED TIMEOUT")
		}
		expected, err := strconv.Atoi(rest[0])
		if err != nil {
			fail("EXPECTED: %v", err)
		}
		seconds, err := strconv.ParseFloat(rest[1], 64)
		if err != nil {
			fail("TIMEOUT: %v", err)
		}
		os.Exit(intake(ns, expected, time.Duration(seconds*float64(time.Second))))
	case "hold":
		os.Exit(hold(ns))
	default:
		fail("unknown mode %q (%s)", mode, strings.Join([]string{"informer-sync", "list-sync", "intake", "hold"}, ", "))
	}
}
