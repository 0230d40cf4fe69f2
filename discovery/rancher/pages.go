package rancher

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// Collections are read here rather than through go-rancher, whose GET
// reads a whole page into memory, checks it and decodes it in two passes
// over it, takes no context, and, when a page does not decode, returns an
// error that quotes the page: a page of containers holds their
// environment, secrets included. Here each page streams through one
// decoder that keeps only the fields discovery reads (the wire types) and
// skips the rest as it goes, so memory holds one resource at a time, not
// a page; a full read of 6,000 containers costs a fraction of go-rancher's
// CPU (BenchmarkFullSync). go-rancher still makes the first connection and
// reads the schemas, which is where the collections' URLs come from.

// pager reads the pages of Rancher collections.
type pager struct {
	hc             *http.Client
	access, secret string
	limit          int // limit query parameter; 0 leaves Rancher's default (100)
}

// maxPages stops a server whose next links never end.
const maxPages = 10000

// decodeOpts are lenient where Rancher's own JSON library was: repeated
// names keep the last value and invalid UTF-8 is replaced, as
// encoding/json did.
var decodeOpts = json.JoinOptions(jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(true))

// statusError is a page that came back with another status than 200,
// with what Rancher's error body said: its code and message only.
type statusError struct {
	code   int
	url    string
	reason string // "NotFound: …"; empty when the body was not Rancher's error
}

func (e *statusError) Error() string {
	msg := fmt.Sprintf("GET %s: %d %s", e.url, e.code, http.StatusText(e.code))
	if e.reason != "" {
		msg += " (" + e.reason + ")"
	}
	return msg
}

// errorReason reads the code and message of Rancher's error body,
// {"type":"error","status":…,"code":…,"message":…}, from its first 4 KiB.
func errorReason(body io.Reader) string {
	var e struct {
		Type    string `json:"type"`
		Code    string `json:"code"`
		Message string `json:"message"`
	}
	b, _ := io.ReadAll(io.LimitReader(body, 4<<10))
	if json.Unmarshal(b, &e, decodeOpts) != nil || e.Type != "error" {
		return ""
	}
	switch {
	case e.Code != "" && e.Message != "":
		return e.Code + ": " + e.Message
	case e.Code != "":
		return e.Code
	}
	return e.Message
}

// collection reads every page of a collection from its first page's URL,
// following pagination.next to the end (Traefik read only the first page
// of stacks and services), and hands each resource to each.
func collection[T any](ctx context.Context, p *pager, first string, each func(*T)) error {
	link, err := url.Parse(first)
	if err != nil {
		return fmt.Errorf("parsing collection link: %w", err)
	}
	if p.limit != 0 {
		q := link.Query()
		q.Set("limit", strconv.Itoa(p.limit))
		link.RawQuery = q.Encode()
	}
	next := link.String()
	for n := 0; next != ""; n++ {
		if n >= maxPages {
			return fmt.Errorf("more than %d pages", maxPages)
		}
		var count int
		next, count, err = readPage(ctx, p, next, each)
		if err != nil {
			return fmt.Errorf("page %d: %w", n+1, err)
		}
		if count == 0 {
			return nil // a next link after an empty page would never end
		}
	}
	return nil
}

// readPage GETs one page and decodes it as it arrives. It returns the
// next page's URL ("" on the last), and how many resources it held.
func readPage[T any](ctx context.Context, p *pager, u string, each func(*T)) (next string, count int, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return "", 0, err
	}
	req.SetBasicAuth(p.access, p.secret)
	req.Header.Set("Accept", "application/json")
	resp, err := p.hc.Do(req)
	if err != nil {
		return "", 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", 0, &statusError{code: resp.StatusCode, url: u, reason: errorReason(resp.Body)}
	}
	return decodePage(resp.Body, each)
}

// decodePage decodes a collection page, {"data": [...], "pagination":
// {"next": ...}, ...}, handing each element of data to each as soon as it
// is decoded. Other members are skipped without being kept.
func decodePage[T any](r io.Reader, each func(*T)) (next string, count int, err error) {
	dec := jsontext.NewDecoder(r, decodeOpts)
	if err := expect(dec, '{'); err != nil {
		return "", 0, err
	}
	for dec.PeekKind() == '"' {
		name, err := dec.ReadToken()
		if err != nil {
			return "", count, decodeError(dec, err)
		}
		switch name.String() {
		case "data":
			if dec.PeekKind() == 'n' {
				_, err = dec.ReadToken()
				break
			}
			if err := expect(dec, '['); err != nil {
				return "", count, err
			}
			for dec.PeekKind() == '{' {
				var v T
				if err := json.UnmarshalDecode(dec, &v, decodeOpts); err != nil {
					return "", count, decodeError(dec, err)
				}
				each(&v)
				count++
			}
			err = expect(dec, ']')
		case "pagination":
			var pg struct {
				Next string `json:"next"`
			}
			err = json.UnmarshalDecode(dec, &pg, decodeOpts)
			next = pg.Next
		default:
			err = dec.SkipValue()
		}
		if err != nil {
			return "", count, decodeError(dec, err)
		}
	}
	if err := expect(dec, '}'); err != nil {
		return "", count, err
	}
	return next, count, nil
}

// expect reads one token of kind k.
func expect(dec *jsontext.Decoder, k jsontext.Kind) error {
	tok, err := dec.ReadToken()
	if err != nil {
		return decodeError(dec, err)
	}
	if tok.Kind() != k {
		return fmt.Errorf("JSON %v where %v was expected, at %q (byte %d)", tok.Kind(), k, dec.StackPointer(), dec.InputOffset())
	}
	return nil
}

// decodeError says where a page stopped decoding. The decoder's errors
// name the place (a JSON pointer) and the kinds involved; of the values
// they quote only a number that did not fit, never a string, so no part
// of a resource's text reaches a log through them.
func decodeError(dec *jsontext.Decoder, err error) error {
	return fmt.Errorf("decoding at byte %d: %w", dec.InputOffset(), err)
}
