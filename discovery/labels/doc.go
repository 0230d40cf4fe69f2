// Package labels turns Traefik 1.x labels into routes. It is the one code
// path shared by every provider: the Rancher provider feeds it a service's
// launch-config labels and healthy containers, the file provider feeds it the
// labels and servers written in the routes file.
//
// # Overview
//
// [Build] takes one service ([Input]) and the provider-wide [Options] and
// returns one [route.Service] per label segment plus the [route.Problem]
// values found on the way. It is pure: no I/O, no logging, no shared state,
// so it can be called concurrently and tested with plain tables.
//
// The semantics are Traefik 1.7's (provider/label and provider/rancher):
//
//   - A service is considered in this order: traefik.enable (strconv.ParseBool,
//     falling back to [Options.ExposedByDefault]), the constraints on
//     traefik.tags, then a numeric traefik.port on every segment. A disabled
//     or constrained-out service is skipped without a problem, and so is a
//     service without any traefik.* label (a database in a Rancher stack is
//     not a mistake). A missing or bad port skips the whole service with an
//     error, as Traefik's service filter does.
//   - Bad values that Traefik would have turned into broken routing (rule,
//     weight, priority, protocol, whitelist range, balancing method, basic
//     auth users) skip that segment with an error. Bad booleans, durations
//     and other cosmetic values fall back to their default with a warning,
//     as Traefik's label.GetBoolValue does.
//   - A traefik.* label the edge does not implement is never ignored
//     silently: it yields a warning naming it. Labels that would have
//     protected a route in Traefik (forward and digest auth, a users file)
//     fail closed: the segment is skipped with an error rather than served
//     without the protection.
//
// # Segments
//
// Labels of the form traefik.<segment>.<property> (property one of port,
// portIndex, portName, weight, protocol, backend or frontend.*) make a named
// segment, each a route of its own with the name <DefaultHost>.<segment>.
// Named segments inherit every classic label they do not set. As in Traefik
// 1.7 (segment.go, issue #4186), once any named segment exists the unnamed
// segment disappears: traefik.port and traefik.frontend.rule then only serve
// as defaults for the named ones. This surprises people, but replacing
// Traefik must not change which routes exist.
package labels
