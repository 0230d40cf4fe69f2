package rancher

import (
	"bytes"
	"fmt"

	"github.com/go-json-experiment/json"
	"github.com/go-json-experiment/json/jsontext"
)

// The wire types decode themselves: a container has about a hundred
// members and discovery reads six, and the reflective decoder pays, for
// each member it does not know, two map lookups (the exact name, then the
// case-folded one) before skipping the value. A switch on the name costs
// next to nothing; the values discovery keeps still go through the
// reflective decoder, so that they decode exactly as before (null is the
// zero value, a string where a number is wanted is an error, invalid
// UTF-8 is replaced). FuzzWireDecode holds the two to the same answers.

// decodeObject reads a JSON object, or null, and hands each member's name
// to member, which reads the value or skips it. name is valid only until
// the next read from dec. It reports a null.
func decodeObject(dec *jsontext.Decoder, member func(name []byte) error) (null bool, err error) {
	tok, err := dec.ReadToken()
	if err != nil {
		return false, err
	}
	switch tok.Kind() {
	case 'n':
		return true, nil
	case '{':
	default:
		return false, fmt.Errorf("JSON %v where an object was expected, at %q", tok.Kind(), dec.StackPointer())
	}
	var unquoted []byte
	for dec.PeekKind() != '}' {
		v, err := dec.ReadValue()
		if err != nil {
			return false, err
		}
		name := v[1 : len(v)-1]
		if bytes.IndexByte(name, '\\') >= 0 {
			// The decoder has checked the escapes; what can still fail
			// is invalid UTF-8, which the options allow. Such a name is
			// none of the wire types' (all ASCII): its value is skipped,
			// as the reflective decoder skips it.
			if unquoted, err = jsontext.AppendUnquote(unquoted[:0], v); err != nil {
				unquoted = unquoted[:0]
			}
			name = unquoted
		}
		if err := member(name); err != nil {
			return false, err
		}
	}
	_, err = dec.ReadToken()
	return false, err
}

// decodeValue decodes the next value into v as the page decoder would.
func decodeValue(dec *jsontext.Decoder, v any) error {
	return json.UnmarshalDecode(dec, v, decodeOpts)
}

func (s *wireStack) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	*s = wireStack{}
	_, err := decodeObject(dec, func(name []byte) error {
		switch string(name) {
		case "id":
			return decodeValue(dec, &s.ID)
		case "name":
			return decodeValue(dec, &s.Name)
		case "state":
			return decodeValue(dec, &s.State)
		case "system":
			return decodeValue(dec, &s.System)
		}
		return dec.SkipValue()
	})
	return err
}

func (s *wireService) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	*s = wireService{}
	_, err := decodeObject(dec, func(name []byte) error {
		switch string(name) {
		case "id":
			return decodeValue(dec, &s.ID)
		case "stackId":
			return decodeValue(dec, &s.StackID)
		case "name":
			return decodeValue(dec, &s.Name)
		case "kind":
			return decodeValue(dec, &s.Kind)
		case "state":
			return decodeValue(dec, &s.State)
		case "healthState":
			return decodeValue(dec, &s.HealthState)
		case "system":
			return decodeValue(dec, &s.System)
		case "createdTS":
			return decodeValue(dec, &s.CreatedTS)
		case "launchConfig":
			return s.decodeLaunchConfig(dec)
		case "publicEndpoints":
			return decodeValue(dec, &s.PublicEndpoints)
		}
		return dec.SkipValue()
	})
	return err
}

// decodeLaunchConfig reads launchConfig, of which discovery keeps the
// labels: null leaves none; a repeated launchConfig merges into the first,
// as the reflective decoder merges into the struct it allocated.
func (s *wireService) decodeLaunchConfig(dec *jsontext.Decoder) error {
	lc := s.LaunchConfig
	if lc == nil {
		lc = new(wireLaunchConfig)
	}
	null, err := decodeMember(dec, "labels", &lc.Labels)
	if null {
		lc = nil
	}
	s.LaunchConfig = lc
	return err
}

// decodeMember reads an object, or null, of which only the member named
// key is kept, decoded into v; it reports a null.
func decodeMember(dec *jsontext.Decoder, key string, v any) (null bool, err error) {
	return decodeObject(dec, func(name []byte) error {
		if string(name) == key {
			return decodeValue(dec, v)
		}
		return dec.SkipValue()
	})
}

func (c *wireContainer) UnmarshalJSONFrom(dec *jsontext.Decoder) error {
	*c = wireContainer{}
	_, err := decodeObject(dec, func(name []byte) error {
		switch string(name) {
		case "id":
			return decodeValue(dec, &c.ID)
		case "name":
			return decodeValue(dec, &c.Name)
		case "state":
			return decodeValue(dec, &c.State)
		case "healthState":
			return decodeValue(dec, &c.HealthState)
		case "primaryIpAddress":
			return decodeValue(dec, &c.PrimaryIPAddress)
		case "networkMode":
			return decodeValue(dec, &c.NetworkMode)
		case "labels":
			null, err := decodeMember(dec, "io.rancher.stack_service.name", &c.Labels.StackService)
			if null {
				c.Labels.StackService = ""
			}
			return err
		}
		return dec.SkipValue()
	})
	return err
}
