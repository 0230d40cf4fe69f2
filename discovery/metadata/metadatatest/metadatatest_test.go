package metadatatest

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

func get(t *testing.T, c *http.Client, url string, out any) {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Accept", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("%s: %s: %s", url, resp.Status, b)
	}
	if err := json.Unmarshal(b, out); err != nil {
		t.Fatalf("%s: %v: %s", url, err, b)
	}
}

// TestServer checks what the real server makes of a World: the three
// versions' shapes, a reload's new version and the long poll's return.
func TestServer(t *testing.T) {
	t.Parallel()
	w := World{
		Hosts: []Host{{Name: "h1", AgentIP: "192.0.2.10"}},
		Stacks: []Stack{{Name: "Web", Services: []Service{{
			Name: "WhoAmI", Labels: map[string]string{"traefik.port": "80"},
			Containers: []Container{{IP: "10.42.0.1", Health: "healthy", Host: "h1", Ports: []string{"8080:80/tcp"}}},
		}}}},
	}
	s := Start(t, w)
	c := &http.Client{Transport: s.Transport(), Timeout: 10 * time.Second}

	var names []string
	get(t, c, s.URL+"/2015-07-25/stacks/0/services", &names)
	if len(names) != 1 || names[0] != "WhoAmI" {
		t.Errorf("2015-07-25 services %v", names)
	}
	type ctr struct {
		Name, PrimaryIP, HealthState string
		Ports                        []string
	}
	type stack struct {
		Name     string `json:"name"`
		Services []struct {
			Name       string            `json:"name"`
			Labels     map[string]string `json:"labels"`
			Containers []struct {
				Name        string   `json:"name"`
				PrimaryIP   string   `json:"primary_ip"`
				HealthState string   `json:"health_state"`
				Ports       []string `json:"ports"`
			} `json:"containers"`
		} `json:"services"`
	}
	for version, want := range map[string]string{
		"2015-12-19": "Web WhoAmI Web-WhoAmI-1 10.42.0.1 healthy 192.0.2.10:8080:80/tcp 80",
		"2016-07-29": "web whoami web-whoami-1 10.42.0.1 healthy 0.0.0.0:8080:80/tcp 80",
		"latest":     "web whoami web-whoami-1 10.42.0.1 healthy 0.0.0.0:8080:80/tcp 80",
	} {
		var stacks []stack
		get(t, c, s.URL+"/"+version+"/stacks", &stacks)
		if len(stacks) != 1 || len(stacks[0].Services) != 1 || len(stacks[0].Services[0].Containers) != 1 {
			t.Fatalf("%s: %+v", version, stacks)
		}
		sv := stacks[0].Services[0]
		ct := sv.Containers[0]
		got := strings.Join([]string{stacks[0].Name, sv.Name, ct.Name, ct.PrimaryIP, ct.HealthState, strings.Join(ct.Ports, ","), sv.Labels["traefik.port"]}, " ")
		if got != want {
			t.Errorf("%s: %s, want %s", version, got, want)
		}
	}

	var v1 string
	get(t, c, s.URL+"/latest/version", &v1)
	done := make(chan string, 1)
	go func() {
		var v string
		get(t, c, s.URL+"/latest/version?wait=true&value="+v1+"&maxWait=30", &v)
		done <- v
	}()
	time.Sleep(100 * time.Millisecond)
	start := time.Now()
	w.Stacks[0].Services[0].Containers = append(w.Stacks[0].Services[0].Containers, Container{IP: "10.42.0.2"})
	if err := s.Publish(w); err != nil {
		t.Fatal(err)
	}
	select {
	case v2 := <-done:
		if v2 == v1 {
			t.Errorf("version unchanged %q", v2)
		}
		t.Logf("long poll returned %v after the reload", time.Since(start).Round(time.Millisecond))
	case <-time.After(10 * time.Second):
		t.Fatal("long poll did not return")
	}

	// Stop and start keep the namespace and the answers.
	s.Stop()
	if _, err := c.Get(s.URL + "/latest/version"); err == nil {
		t.Error("stopped server answered")
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	var ips []string
	get(t, c, s.URL+"/latest/stacks/web/services/whoami/containers/1/ips", &ips)
	if len(ips) != 1 || ips[0] != "10.42.0.2" {
		t.Errorf("after restart: %v", ips)
	}
}
