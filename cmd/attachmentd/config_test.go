package main

import (
	"io"
	"maps"
	"strings"
	"testing"
	"time"
)

func TestParseConfig(t *testing.T) {
	creds := map[string]string{"BOOKING_CLIENT_ID": "id", "BOOKING_CLIENT_SECRET": "secret"}
	tests := []struct {
		name        string
		args        []string
		env         map[string]string
		wantListen  string
		wantSandbox bool
		wantErr     string
	}{
		{name: "defaults", env: creds, wantListen: ":50051"},
		{name: "listen from the environment", env: with(creds, "ATTACHMENTD_LISTEN", "127.0.0.1:7000"), wantListen: "127.0.0.1:7000"},
		{name: "flag wins over the environment", args: []string{"--listen", ":9000"}, env: with(creds, "ATTACHMENTD_LISTEN", ":7000"), wantListen: ":9000"},
		{name: "sandbox from the environment needs no credentials", env: map[string]string{"ATTACHMENTD_SANDBOX": "true"}, wantListen: ":50051", wantSandbox: true},
		{name: "sandbox flag", args: []string{"--sandbox"}, wantListen: ":50051", wantSandbox: true},
		{name: "sandbox flag false wins over the environment", args: []string{"--sandbox=false"}, env: with(creds, "ATTACHMENTD_SANDBOX", "true"), wantListen: ":50051"},
		{name: "no credentials", wantErr: "BOOKING_CLIENT_ID and BOOKING_CLIENT_SECRET must be set"},
		{name: "only the id", env: map[string]string{"BOOKING_CLIENT_ID": "id"}, wantErr: "BOOKING_CLIENT_SECRET"},
		{name: "sandbox variable not a boolean", env: map[string]string{"ATTACHMENTD_SANDBOX": "yes please"}, wantErr: "ATTACHMENTD_SANDBOX"},
		{name: "unknown flag", args: []string{"--nope"}, env: creds, wantErr: "nope"},
		{name: "stray argument", args: []string{"serve"}, env: creds, wantErr: "unexpected arguments"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := parseConfig(tt.args, func(k string) string { return tt.env[k] }, io.Discard)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("parseConfig(%q) error = %v, want one mentioning %q", tt.args, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("parseConfig(%q): %v", tt.args, err)
			}
			if cfg.listen != tt.wantListen || cfg.sandbox != tt.wantSandbox {
				t.Errorf("listen %q, sandbox %v; want %q, %v", cfg.listen, cfg.sandbox, tt.wantListen, tt.wantSandbox)
			}
			if cfg.shutdownTimeout != 30*time.Second {
				t.Errorf("shutdown timeout %v, want 30s", cfg.shutdownTimeout)
			}
		})
	}
}

func TestBookingSettingsFromTheEnvironment(t *testing.T) {
	env := map[string]string{
		"BOOKING_API_URL":       "https://api.example",
		"BOOKING_AUTH_URL":      "https://auth.example/exchange",
		"BOOKING_CLIENT_ID":     "id",
		"BOOKING_CLIENT_SECRET": "secret",
	}
	cfg, err := parseConfig(nil, func(k string) string { return env[k] }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	b := cfg.booking
	if b.BaseURL != env["BOOKING_API_URL"] || b.AuthURL != env["BOOKING_AUTH_URL"] || b.ClientID != "id" || b.ClientSecret != "secret" {
		t.Errorf("booking config = %+v, want the variables' values", b)
	}
}

// with returns a copy of m with k set to v.
func with(m map[string]string, k, v string) map[string]string {
	out := maps.Clone(m)
	out[k] = v
	return out
}
