package extract

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
)

// jsonID decodes an id the API sends as a string or as a number (both happen) into its string form.
type jsonID string

func (id *jsonID) UnmarshalJSON(b []byte) error {
	switch {
	case bytes.Equal(b, []byte("null")):
		*id = ""
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*id = jsonID(s)
	default:
		var n json.Number
		if err := json.Unmarshal(b, &n); err != nil {
			return fmt.Errorf("id: want a string or number, got %.40s", b)
		}
		*id = jsonID(n.String())
	}
	return nil
}

// jsonInt64 decodes an integer sent as a number or a numeric string (the API sends per_page as "50").
type jsonInt64 int64

func (n *jsonInt64) UnmarshalJSON(b []byte) error {
	s := string(bytes.Trim(b, `"`))
	if s == "null" || s == "" {
		*n = 0
		return nil
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		f, ferr := strconv.ParseFloat(s, 64)
		if ferr != nil {
			return fmt.Errorf("want an integer, got %.40s", b)
		}
		v = int64(f)
	}
	*n = jsonInt64(v)
	return nil
}
