// Package file is the file provider: static routes described in a YAML file
// (TRAEFIK_FILE) with the same Traefik 1.x labels as Rancher services, next
// to Rancher or on their own.
//
// # Overview
//
// The file looks like this:
//
//	domain: example.com          # optional; default rule Host:<name>.<domain>
//	services:
//	  - name: whoami
//	    labels:
//	      traefik.frontend.rule: "Host:whoami.example.com"
//	      traefik.port: "8080"
//	    servers: ["10.0.0.5", "10.0.0.6:9090", "https://10.0.0.7:8443"]
//
// Every service goes through [labels.Build], the code path the Rancher
// provider uses, so a label means the same in both places. A bare IP takes
// traefik.port and traefik.protocol; "host:port" and "scheme://host:port"
// say more.
//
// [Provider.Run] reads the file every [Config.Poll] and publishes a new
// snapshot when what it describes changed. It compares content rather than
// modification times, so it follows symlink swaps (Rancher secrets,
// Kubernetes config maps) and editors that replace the file. A file that
// cannot be read or parsed never replaces good routes: the previous snapshot
// stays in service and [Provider.Status] carries the error until the file is
// fixed. An empty file counts as broken for the same reason (a writer that
// truncates before writing would otherwise drop every route); write
// "services: []" to serve nothing.
//
// [Load] reads the file once, for `edge check`.
package file
