package ranchertest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	rancher "github.com/rancher/go-rancher/v2"
)

func newServer(t *testing.T, opts Options) *Server {
	t.Helper()
	s, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func client(t *testing.T, url, access, secret string) *rancher.RancherClient {
	t.Helper()
	c, err := rancher.NewRancherClient(&rancher.ClientOpts{Url: url, AccessKey: access, SecretKey: secret, Timeout: 5 * time.Second})
	if err != nil {
		t.Fatalf("NewRancherClient(%s): %v", url, err)
	}
	return c
}

func TestEndpointForms(t *testing.T) {
	t.Parallel()
	s := newServer(t, Options{})
	st := s.AddStack(StackSpec{Name: "web"})
	s.AddService(st, ServiceSpec{Name: "whoami", Labels: map[string]string{"traefik.port": "80"}, Scale: 2})
	ak, sk := s.EnvironmentKey()
	for _, tc := range []struct{ url, wantLink string }{
		{s.URL(), "/v2-beta/services"},
		{s.URL() + "/", "/v2-beta/services"},
		{s.URL() + "/v1", "/v2-beta/services"},
		{s.URL() + "/v2-beta", "/v2-beta/services"},
		{s.ProjectURL(), "/v2-beta/services"}, // four segments: unscoped (reference §1.2)
		{s.ProjectURL() + "/schemas", "/v2-beta/projects/1a5/services"},
	} {
		c := client(t, tc.url, ak, sk)
		if got := c.GetTypes()["service"].Links["collection"]; got != s.URL()+tc.wantLink {
			t.Errorf("%s: service collection %q, want %q", tc.url, got, s.URL()+tc.wantLink)
		}
		svcs, err := c.Service.List(nil)
		if err != nil {
			t.Fatalf("%s: %v", tc.url, err)
		}
		if len(svcs.Data) != 1 || svcs.Data[0].LaunchConfig.Labels["traefik.port"] != "80" {
			t.Errorf("%s: services %+v", tc.url, svcs.Data)
		}
	}
}

func TestAccountKey(t *testing.T) {
	t.Parallel()
	s := newServer(t, Options{OtherProjects: []string{"1a7"}})
	st := s.AddStack(StackSpec{Name: "web"})
	s.AddService(st, ServiceSpec{Name: "whoami", Scale: 1})
	ak, sk := s.AccountKey()
	// Unscoped collections belong to the user's account: empty.
	c := client(t, s.URL(), ak, sk)
	svcs, err := c.Service.List(nil)
	if err != nil || len(svcs.Data) != 0 {
		t.Errorf("unscoped with account key: %v, %d services", err, len(svcs.Data))
	}
	projects, err := c.Project.List(nil)
	if err != nil || len(projects.Data) != 2 {
		t.Fatalf("projects: %v %+v", err, projects)
	}
	c = client(t, s.ProjectURL()+"/schemas", ak, sk)
	svcs, err = c.Service.List(nil)
	if err != nil || len(svcs.Data) != 1 {
		t.Errorf("scoped with account key: %v, %d services", err, len(svcs.Data))
	}
	// An environment key on another project is forbidden.
	ek, es := s.EnvironmentKey()
	_, err = rancher.NewRancherClient(&rancher.ClientOpts{Url: s.URL() + "/v2-beta/projects/1a7/schemas", AccessKey: ek, SecretKey: es})
	if err == nil || !strings.Contains(err.Error(), "[403]") {
		t.Errorf("env key on other project: %v", err)
	}
}

func TestUnauthorized(t *testing.T) {
	t.Parallel()
	s := newServer(t, Options{})
	_, err := rancher.NewRancherClient(&rancher.ClientOpts{Url: s.URL(), AccessKey: "nope", SecretKey: "wrong"})
	want := "Bad response statusCode [401]. Status [401 Unauthorized]. Body: ["
	if err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Fatalf("err = %v", err)
	}
	for _, part := range []string{"baseType=error", "code=Unauthorized", "message=Unauthorized"} {
		if !strings.Contains(err.Error(), part) {
			t.Errorf("err %q lacks %q", err, part)
		}
	}
	resp, err := http.Get(s.URL() + "/v2-beta/projects/1a5/services")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.Header.Get("WWW-Authenticate") == "" || resp.Header.Get("X-Api-Schemas") != s.URL()+"/v2-beta/projects/1a5/schemas" {
		t.Errorf("headers %v", resp.Header)
	}
}

func TestPaging(t *testing.T) {
	t.Parallel()
	s := newServer(t, Options{})
	st := s.AddStack(StackSpec{Name: "big"})
	for i := range 250 {
		s.AddService(st, ServiceSpec{Name: fmt.Sprintf("svc%d", i), Scale: 1})
	}
	ak, sk := s.EnvironmentKey()
	c := client(t, s.ProjectURL()+"/schemas", ak, sk)
	page, err := c.Service.List(nil)
	if err != nil {
		t.Fatal(err)
	}
	seen, pages := map[string]bool{}, 0
	for page != nil && len(page.Data) > 0 {
		pages++
		if *page.Pagination.Limit != 100 {
			t.Errorf("limit %d", *page.Pagination.Limit)
		}
		for _, svc := range page.Data {
			seen[svc.Id] = true
		}
		if page, err = page.Next(); err != nil {
			t.Fatal(err)
		}
	}
	if pages != 3 || len(seen) != 250 {
		t.Errorf("pages %d, services %d", pages, len(seen))
	}
	// limit=0 means the maximum, 3000.
	all, err := c.Container.List(&rancher.ListOpts{Filters: map[string]any{"limit": 0}})
	if err != nil || len(all.Data) != 250 || *all.Pagination.Limit != 3000 || all.Pagination.Next != "" {
		t.Errorf("limit=0: %v %d %+v", err, len(all.Data), all.Pagination)
	}
}

func TestBodyIsCattleShaped(t *testing.T) {
	t.Parallel()
	s := newServer(t, Options{})
	st := s.AddStack(StackSpec{Name: "web"})
	s.AddService(st, ServiceSpec{Name: "whoami", Scale: 3})
	req, _ := http.NewRequest("GET", s.ProjectURL()+"/containers?limit=2", nil)
	req.SetBasicAuth(s.EnvironmentKey())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	text := string(body)
	for _, want := range []string{
		`{"type":"collection","resourceType":"container","links":{"self":"http:\/\/`,
		`"pagination":{"first":null,"previous":null,"next":"http:\/\/` + strings.TrimPrefix(s.URL(), "http://") + `\/v2-beta\/projects\/1a5\/containers?limit=2&marker=m2","limit":2,"total":null,"partial":true}`,
		`{"id":"1i10","type":"container","links":{"self":`,
		`"io.rancher.stack_service.name":"web\/whoami"`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("body lacks %s", want)
		}
	}
	if strings.Contains(text, "@B@") || strings.Contains(text, "@V@") || strings.Contains(text, `\\/`) {
		t.Error("placeholder or double escape left in body")
	}
	if resp.Header.Get("Content-Type") != "application/json; charset=utf-8" {
		t.Errorf("content type %q", resp.Header.Get("Content-Type"))
	}
}

func TestSubscribe(t *testing.T) {
	t.Parallel()
	s := newServer(t, Options{PingInterval: 50 * time.Millisecond})
	st := s.AddStack(StackSpec{Name: "web"})
	svc := s.AddService(st, ServiceSpec{Name: "whoami", HealthCheck: true, Scale: 1})
	ak, sk := s.EnvironmentKey()
	c := client(t, s.ProjectURL()+"/schemas", ak, sk)
	url := strings.Replace(c.GetTypes()["subscribe"].Links["collection"], "http", "ws", 1) + "?eventNames=resource.change"
	conn, _, err := c.Websocket(url, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	type event struct {
		Name, ResourceType, ResourceID string
		Data                           struct{ Resource map[string]any }
	}
	read := func() event {
		t.Helper()
		_ = conn.SetReadDeadline(time.Now().Add(2 * time.Second))
		_, b, err := conn.ReadMessage()
		if err != nil {
			t.Fatal(err)
		}
		var ev event
		if err := json.Unmarshal(b, &ev); err != nil {
			t.Fatal(err)
		}
		return ev
	}
	if ev := read(); ev.Name != "ping" {
		t.Fatalf("first frame %+v", ev)
	}
	s.SetHealth(s.ContainerIDs(svc)[0], "unhealthy")
	got := map[string]string{}
	for len(got) < 3 {
		ev := read()
		if ev.Name == "resource.change" {
			got[ev.ResourceType] = fmt.Sprint(ev.Data.Resource["healthState"])
		}
	}
	want := map[string]string{"container": "unhealthy", "service": "unhealthy", "stack": "unhealthy"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("events %v, want %v", got, want)
	}
	s.RefuseWebsocket(true)
	if _, resp, err := websocket.DefaultDialer.Dial(url, http.Header{"Authorization": {"Basic x"}}); err == nil || resp == nil || resp.StatusCode != 401 {
		t.Errorf("bad key dial: %v", err)
	}
	if _, _, err := c.Websocket(url, nil); err == nil {
		t.Error("refused websocket dialled")
	}
}

func TestUpdateScaleAndBatching(t *testing.T) {
	t.Parallel()
	s := newServer(t, Options{EventDelay: 100 * time.Millisecond, PingInterval: time.Hour})
	st := s.AddStack(StackSpec{Name: "web"})
	id := s.AddService(st, ServiceSpec{Name: "whoami", Scale: 1})
	ak, sk := s.EnvironmentKey()
	c := client(t, s.ProjectURL()+"/schemas", ak, sk)
	conn, _, err := c.Websocket(strings.Replace(s.ProjectURL(), "http", "ws", 1)+"/subscribe?eventNames=resource.change", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	svc, err := c.Service.ById(id)
	if err != nil || svc == nil {
		t.Fatalf("ById: %v", err)
	}
	// go-rancher's Update is a PUT of the changed fields, as the UI does.
	updated, err := c.Service.Update(svc, map[string]any{"scale": 3})
	if err != nil || updated.Scale != 3 || len(s.ContainerIDs(id)) != 3 {
		t.Fatalf("Update: %v %+v", err, updated)
	}
	// The three container creations and the service changes arrive batched,
	// one event per resource.
	seen := map[string]int{}
	_ = conn.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
	for {
		_, b, err := conn.ReadMessage()
		if err != nil {
			break
		}
		var ev struct{ Name, ResourceID string }
		_ = json.Unmarshal(b, &ev)
		if ev.Name == "resource.change" {
			seen[ev.ResourceID]++
		}
	}
	if len(seen) != 3 || seen[id] != 1 { // service + 2 new containers
		t.Errorf("events per resource %v", seen)
	}
	if missing, err := c.Service.ById("1s999"); missing != nil || err != nil {
		t.Errorf("ById(unknown) = %v, %v; want nil, nil", missing, err)
	}
}
