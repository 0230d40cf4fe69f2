// Package ranchertest is a fake Rancher 1.6 (Cattle) API server for tests and
// for the `edge demo` command.
//
// # Overview
//
// [Server] answers the v2-beta REST API the way Cattle does, closely enough
// that the real github.com/rancher/go-rancher/v2 client cannot tell the
// difference: Basic authentication with the real 401 body, the X-API-Schemas
// bootstrap header, project-scoped (/v2-beta/projects/1a5/...) and unscoped
// URLs, /v1 forms, slash-escaped compact JSON with Cattle's field order,
// collections paged by `limit` (default 100, maximum 3000) and `marker`, and
// the /subscribe websocket with pings and resource.change frames.
//
// Payload shapes come from the real fixtures under fixtures/ (copied from the
// shared Rancher reference): every resource is rendered from the matching
// fixture with its own values filled in, so null fields, timestamps with
// their TS twins, links and actions look like Cattle's.
//
// Tests change the world with methods such as [Server.AddService],
// [Server.Scale], [Server.SetHealth], [Server.SetLabels] and
// [Server.Fail]; every change is pushed to websocket subscribers as a
// resource.change event carrying the full current resource, and service and
// stack health are recomputed as Cattle does. [NewDemo] builds the small
// sample environment the demo command serves.
package ranchertest
