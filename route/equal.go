package route

import (
	"bytes"
	"reflect"
	"slices"
)

// Equal reports whether s and o describe the same route: every field the
// same, pointed-to settings compared by value. The edge compiles a route
// again only when its service is not Equal to the one the live route was
// compiled from, so an event that changes one service among thousands
// compiles one route, and the others keep their state (rate-limit buckets,
// requests in flight per maxconn key, balancer position).
//
// It is written out rather than left to reflect.DeepEqual, which costs a
// compile of 10,000 routes more than compiling them; the rarely set
// settings behind pointers still go through it. A test fills every field
// of a Service in turn and fails when Equal misses one, so a new field
// cannot be forgotten here.
func (s *Service) Equal(o *Service) bool {
	return s.Name == o.Name &&
		s.Source == o.Source &&
		s.Created.Equal(o.Created) &&
		s.Rule == o.Rule &&
		s.Priority == o.Priority &&
		s.PassHostHeader == o.PassHostHeader &&
		s.LoadBalancer == o.LoadBalancer &&
		s.Backend == o.Backend &&
		s.Answer == o.Answer &&
		s.AnswerWeight == o.AnswerWeight &&
		s.Fallback == o.Fallback &&
		s.ResponseHeaderTimeout == o.ResponseHeaderTimeout &&
		s.DialTimeout == o.DialTimeout &&
		s.MaxRequestBodyBytes == o.MaxRequestBodyBytes &&
		s.UpstreamHost == o.UpstreamHost &&
		equalSlices(s.EntryPoints, o.EntryPoints) &&
		equalSlices(s.Servers, o.Servers) &&
		sameSlice(s.ErrorPages, o.ErrorPages) &&
		samePtr(s.Redirect, o.Redirect) &&
		samePtr(s.Auth, o.Auth) &&
		samePtr(s.DigestAuth, o.DigestAuth) &&
		samePtr(s.ForwardAuth, o.ForwardAuth) &&
		samePtr(s.WhiteList, o.WhiteList) &&
		samePtr(s.Headers, o.Headers) &&
		samePtr(s.HealthCheck, o.HealthCheck) &&
		samePtr(s.RateLimit, o.RateLimit) &&
		samePtr(s.MaxConn, o.MaxConn) &&
		samePtr(s.PassTLSClientCert, o.PassTLSClientCert) &&
		samePtr(s.CORS, o.CORS) &&
		samePtr(s.TLS, o.TLS)
}

// samePtr compares two optional settings: both unset, or equal values.
// Nearly every route leaves them unset, so reflection is rarely reached.
func samePtr[T any](a, b *T) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a == b || reflect.DeepEqual(*a, *b)
}

// equalSlices is slices.Equal, at once for two views of one array: a
// provider that kept a service from its last build hands over the same
// slices, and comparing 2,000 services' elements one by one was most of
// the cost of telling that nothing changed.
func equalSlices[T comparable](a, b []T) bool {
	if len(a) != len(b) {
		return false
	}
	return len(a) == 0 || &a[0] == &b[0] || slices.Equal(a, b)
}

// sameSlice compares slices whose elements hold slices or maps; empty and
// nil are the same.
func sameSlice[T any](a, b []T) bool {
	if len(a) != len(b) {
		return false
	}
	return len(a) == 0 || &a[0] == &b[0] || reflect.DeepEqual(a, b)
}

// SameRoutes reports whether a and b say the same: Equal services in the
// same order, the same problems and the same certificates, keys
// included. Provider, Fingerprint and Built are not compared. A provider
// that rebuilds everything on every change tells with it whether there is
// anything to publish: comparing with the last snapshot costs a fraction
// of hashing the new one.
func SameRoutes(a, b *Snapshot) bool {
	if len(a.Services) != len(b.Services) || !slices.Equal(a.Problems, b.Problems) ||
		!slices.EqualFunc(a.Certificates, b.Certificates, sameCertificate) {
		return false
	}
	for i := range a.Services {
		if !a.Services[i].Equal(&b.Services[i]) {
			return false
		}
	}
	return true
}

func sameCertificate(a, b Certificate) bool {
	return a.Source == b.Source && slices.Equal(a.Hosts, b.Hosts) &&
		bytes.Equal(a.CertPEM, b.CertPEM) && bytes.Equal(a.KeyPEM, b.KeyPEM)
}
