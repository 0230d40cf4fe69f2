// Package rule parses and evaluates Traefik 1.x frontend rules, the
// traefik.frontend.rule label values that Rancher 1.x users already have,
// so that the edge routes them exactly as Traefik 1.7 did.
//
// # Overview
//
// Providers pass rule strings through route.Service.Rule untouched. The
// edge calls [Parse] once per service when it compiles a routing table, keys
// the route by [Rule.Hosts], orders routes by [Rule.Len] (unless the service
// sets an explicit priority), and then, for every request, calls
// [Rule.Match] and, on the chosen route, [Rule.Modify]. A parsed [Rule] is
// immutable and safe for concurrent use.
//
// Everything that can be computed from the expression is computed in
// [Parse]: lower-cased hosts, canonical header keys, upper-cased methods,
// sorted strip prefixes and compiled regexps. Match then makes no
// allocations for literal matchers; it sits on the hot path of every
// request.
//
// # Grammar
//
// A rule is a list of matchers joined by ";", which means AND. Each matcher
// is Name:arg1,arg2,... where names are case-sensitive and arguments are
// trimmed. Empty pieces (a trailing ";", a trailing ",") are ignored. A ","
// inside a balanced {...} does not split arguments: Traefik split there too
// and so turned every such regexp into an error, so no working Traefik rule
// changes meaning.
//
//	Host:a.com,b.com              host equals one of them (case-insensitive)
//	HostRegexp:{sub:[a-z]+}.a.com  gorilla/mux host template (case-insensitive)
//	Path:/a,/b/{id:[0-9]+}         exact path, or path template
//	PathPrefix:/api                raw string prefix: /api matches /apis
//	PathStrip:/a                   Path, then strip the prefix
//	PathPrefixStrip:/a,/a/b        PathPrefix, then strip the longest match
//	PathStripRegex:/a/{id}         Path template, then strip what it matched
//	PathPrefixStripRegex:/a/{id}   PathPrefix template, then strip
//	Method:GET,HEAD                one of the methods
//	Headers:K,V,K2,V2              every header pair present with that value
//	HeadersRegexp:K,re             every header pair present matching re
//	Query:k=v,k2=v2                every query key's first value equals v
//	AddPrefix:/p                   prepend /p to the path
//	ReplacePath:/p                 replace the path, old one in X-Replaced-Path
//	ReplacePathRegex:^/a/(.*) /$1  regexp and replacement, one space apart
//
// Host, HostRegexp, Method and the Path functions treat their arguments as
// alternatives (OR). A Query value may be empty ("k=") to require only the
// key, or a template ("k={v:[0-9]+}").
//
// # Modifiers
//
// Whatever order the rule is written in, [Rule.Modify] applies modifiers in
// the order Traefik 1.7's middleware chain really ran them (not the order
// its documentation lists):
//
//  1. PathStripRegex / PathPrefixStripRegex (the last of the two wins)
//  2. PathStrip / PathPrefixStrip (the last of the two wins); the stripped
//     prefix goes in X-Forwarded-Prefix
//  3. AddPrefix (the last argument wins)
//  4. ReplacePathRegex
//  5. ReplacePath
//
// A strip step that finds no prefix to remove at serve time answers 404, as
// Traefik did; Modify reports that by returning false. PathStrip and
// PathPrefixStrip strip their literal arguments even when the matcher used a
// template, so a template there always ends in 404, as it did in Traefik.
//
// # Differences from Traefik
//
// Only rules that Traefik rejected, or that leaned on its parsing quirks,
// behave differently. Blank ";" pieces and blank arguments are ignored
// instead of rejected or kept as "" (so "PathPrefix:/a, " no longer matches
// every path). Commas inside {...} do not split arguments. A Query argument
// splits on its first "=" only, so values may contain "=". A regexp strip
// guarantees a leading "/" in URL.Path, not only in RequestURI. RawPath is
// cut by its escaped length rather than by the decoded prefix length.
package rule
