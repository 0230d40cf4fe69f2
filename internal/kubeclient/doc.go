// Package kubeclient is the edge's Kubernetes API client: typed access to
// the kinds the edge reads and writes, over one HTTP client, and a question
// of which resources a group version serves — no more.
//
// It is not client-go's Clientset, nor its per-group typed clients: those
// import k8s.io/client-go/kubernetes/scheme, whose init registers every
// API group's types (about 8 MiB of a fresh process's resident memory and
// 19 MB of binary, measured), and with the Clientset, its informer
// factories and leaderelection come some 240 generated packages the edge
// never calls, compiled on every cold build. Here a [Resource] is one kind
// in one namespace over a REST client for its group version, decoded with
// a scheme of only those kinds, built by the first [New]; informers are
// made from it with client-go's tools/cache (discovery/kubernetes).
package kubeclient
