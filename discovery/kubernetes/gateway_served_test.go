package kubernetes

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"k8s.io/client-go/rest"

	"github.com/rancher-edge/edge/internal/kubeclient"
)

// An apiserver that takes a question about the Gateway API CRDs and never
// answers does not hold the provider: the question fails within
// GatewayRecheck and is asked again on the next round.
func TestGatewayCRDQuestionIsBounded(t *testing.T) {
	hang := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-hang:
		case <-r.Context().Done():
		}
	}))
	t.Cleanup(srv.Close)
	t.Cleanup(func() { close(hang) })
	p, err := New(Config{Rest: &rest.Config{Host: srv.URL}, Source: "test", Gateway: true, GatewayRecheck: 300 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	cs, err := kubeclient.New(p.cfg.Rest)
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := p.servedResources(context.Background(), cs)
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil {
			t.Fatal("a question the apiserver never answered succeeded")
		}
		t.Logf("unanswered question failed: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("the question to an apiserver that does not answer was still waiting after 10 s (GatewayRecheck 300 ms)")
	}
}
