package main

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// int64Value is a flag of a decimal integer from min to max.
type int64Value struct {
	p        *int64
	min, max int64
}

func (v int64Value) String() string {
	if v.p == nil {
		return ""
	}
	return strconv.FormatInt(*v.p, 10)
}

func (v int64Value) Set(s string) error {
	n, err := strconv.ParseInt(s, 10, 64)
	switch {
	case err != nil:
		return errors.New("not a decimal integer")
	case n < v.min || n > v.max:
		return fmt.Errorf("must be from %d to %d", v.min, v.max)
	}
	*v.p = n
	return nil
}

// durationValue is a flag of a Go duration of at least min.
type durationValue struct {
	p   *time.Duration
	min time.Duration
}

func (v durationValue) String() string {
	if v.p == nil {
		return ""
	}
	return v.p.String()
}

func (v durationValue) Set(s string) error {
	d, err := time.ParseDuration(s)
	switch {
	case err != nil:
		return errors.New("not a duration such as 1h or 250ms")
	case d < v.min && v.min > 0:
		return errors.New("must be positive")
	case d < v.min:
		return errors.New("must not be negative")
	}
	*v.p = d
	return nil
}

// stringValue is a flag of a string that must not be empty.
type stringValue struct{ p *string }

func (v stringValue) String() string {
	if v.p == nil {
		return ""
	}
	return *v.p
}

func (v stringValue) Set(s string) error {
	if s == "" {
		return errors.New("must not be empty")
	}
	*v.p = s
	return nil
}

// propertiesValue is a repeatable flag of property ids, each written as
// Booking's paths write them: a positive decimal integer without sign or
// leading zeros.
type propertiesValue struct{ p *[]int64 }

func (v *propertiesValue) String() string {
	if v.p == nil {
		return ""
	}
	ids := make([]string, len(*v.p))
	for i, id := range *v.p {
		ids[i] = strconv.FormatInt(id, 10)
	}
	return strings.Join(ids, ",")
}

func (v *propertiesValue) Set(s string) error {
	id, err := parsePropertyID(s)
	if err != nil {
		return err
	}
	*v.p = append(*v.p, id)
	return nil
}

// parsePropertyID parses a property_id as Booking's paths write it: a
// positive decimal integer without sign or leading zeros.
func parsePropertyID(s string) (int64, error) {
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id <= 0 || s[0] < '1' || s[0] > '9' {
		return 0, fmt.Errorf("property_id %q is not a positive decimal integer without sign or leading zeros", s)
	}
	return id, nil
}
