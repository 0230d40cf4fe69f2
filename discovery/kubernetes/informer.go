package kubernetes

import (
	"context"
	"sync"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/watch"
	"k8s.io/client-go/tools/cache"
)

// newInformer makes a shared informer of one kind in one namespace (or
// all, "") from a typed client's List and Watch, as client-go's generated
// informers do, without the informer factories, which would bring every
// API group's informers and listers into the build (internal/kubeclient).
// tweak, when not nil, narrows what is listed and watched (selectors).
func newInformer[L runtime.Object](obj runtime.Object,
	list func(context.Context, metav1.ListOptions) (L, error),
	watchFn func(context.Context, metav1.ListOptions) (watch.Interface, error),
	tweak func(*metav1.ListOptions),
) cache.SharedIndexInformer {
	lw := &cache.ListWatch{
		ListWithContextFunc: func(ctx context.Context, o metav1.ListOptions) (runtime.Object, error) {
			if tweak != nil {
				tweak(&o)
			}
			return list(ctx, o)
		},
		WatchFuncWithContext: func(ctx context.Context, o metav1.ListOptions) (watch.Interface, error) {
			if tweak != nil {
				tweak(&o)
			}
			return watchFn(ctx, o)
		},
	}
	return cache.NewSharedIndexInformerWithOptions(lw, obj,
		cache.SharedIndexInformerOptions{Indexers: cache.Indexers{cache.NamespaceIndex: cache.MetaNamespaceIndexFunc}})
}

// informerGroup runs informers until their context ends; wait waits for
// every one to return (as a factory's Shutdown does).
type informerGroup struct{ wg sync.WaitGroup }

func (g *informerGroup) run(ctx context.Context, infs ...cache.SharedIndexInformer) {
	for _, inf := range infs {
		g.wg.Go(func() { inf.RunWithContext(ctx) })
	}
}

func (g *informerGroup) wait() { g.wg.Wait() }
