package sandbox_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/booking-attachment-gateway/gateway/bookingapi/sandbox"
)

const tokenPath = "/token-based-authentication/exchange"

func TestTokenExchange(t *testing.T) {
	tests := []struct {
		name        string
		opts        sandbox.Options
		contentType string
		body        string
		wantStatus  int
		wantMsg     string
	}{
		{name: "default credentials", body: `{"client_id": "sandbox-client", "client_secret": "sandbox-secret"}`, wantStatus: 200},
		{name: "configured credentials", opts: sandbox.Options{ClientID: "id", ClientSecret: "secret"},
			body: `{"client_id": "id", "client_secret": "secret"}`, wantStatus: 200},
		{name: "default credentials refused when configured", opts: sandbox.Options{ClientID: "id", ClientSecret: "secret"},
			body: `{"client_id": "sandbox-client", "client_secret": "sandbox-secret"}`, wantStatus: 401, wantMsg: "wrong"},
		{name: "unknown fields allowed", body: `{"client_id": "sandbox-client", "client_secret": "sandbox-secret", "x": 1}`, wantStatus: 200},
		{name: "charset utf-8", contentType: "application/json; charset=utf-8",
			body: `{"client_id": "sandbox-client", "client_secret": "sandbox-secret"}`, wantStatus: 200},
		{name: "wrong secret", body: `{"client_id": "sandbox-client", "client_secret": "nope"}`, wantStatus: 401, wantMsg: "client_secret is wrong"},
		{name: "wrong client id", body: `{"client_id": "nope", "client_secret": "sandbox-secret"}`, wantStatus: 401, wantMsg: "client_id or"},
		{name: "missing client id", body: `{"client_secret": "sandbox-secret"}`, wantStatus: 401, wantMsg: "client_id is missing"},
		{name: "missing client secret", body: `{"client_id": "sandbox-client"}`, wantStatus: 401, wantMsg: "client_secret is missing"},
		{name: "empty object", body: `{}`, wantStatus: 401, wantMsg: "access denied"},
		{name: "client id not a string", body: `{"client_id": 1, "client_secret": "sandbox-secret"}`, wantStatus: 400, wantMsg: "client_id must be a JSON string"},
		{name: "not JSON", body: `client_id=sandbox-client`, wantStatus: 400, wantMsg: "not valid JSON"},
		{name: "not an object", body: `["sandbox-client"]`, wantStatus: 400, wantMsg: "must be a JSON object"},
		{name: "form content type", contentType: "application/x-www-form-urlencoded",
			body: `{"client_id": "sandbox-client", "client_secret": "sandbox-secret"}`, wantStatus: 415, wantMsg: "application/json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := serve(t, tt.opts)
			ct := tt.contentType
			if ct == "" {
				ct = "application/json"
			}
			before := h.srv.TokenExchanges()
			req, _ := http.NewRequest(http.MethodPost, h.url+tokenPath, bodyReader(t, tt.body))
			req.Header.Set("Content-Type", ct)
			resp, err := h.client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var raw map[string]json.RawMessage
			if err := json.NewDecoder(resp.Body).Decode(&raw); err != nil {
				t.Fatalf("body is not a JSON object: %v", err)
			}
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status %d (%v), want %d", resp.StatusCode, raw, tt.wantStatus)
			}
			if resp.Header.Get("Content-Type") != "application/json" {
				t.Errorf("Content-Type %q", resp.Header.Get("Content-Type"))
			}
			wantExchanges := before
			if tt.wantStatus == http.StatusOK {
				var jwt, ruid string
				json.Unmarshal(raw["jwt"], &jwt)
				json.Unmarshal(raw["ruid"], &ruid)
				if jwt == "" || len(raw) != 2 {
					t.Errorf("answer %v, want only jwt and ruid", raw)
				}
				checkRUID(t, "token", ruid)
				wantExchanges++
			} else {
				var env envelope
				b, _ := json.Marshal(raw)
				json.Unmarshal(b, &env)
				if len(env.Errors) != 1 || env.Errors[0].Code != tt.wantStatus || string(env.Data) != "null" {
					t.Errorf("error answer %v is not an error envelope", raw)
				} else if !strings.Contains(env.Errors[0].Message, tt.wantMsg) {
					t.Errorf("message %q does not contain %q", env.Errors[0].Message, tt.wantMsg)
				}
				checkRUID(t, "token", env.Meta.RUID)
			}
			if got := h.srv.TokenExchanges(); got != wantExchanges {
				t.Errorf("TokenExchanges() = %d, want %d", got, wantExchanges)
			}
		})
	}
}

func TestTokenExchangeMethod(t *testing.T) {
	h := newHarness(t, sandbox.Options{})
	r := h.send(http.MethodGet, tokenPath, nil)
	wantError(t, r, http.StatusMethodNotAllowed, "GET", "POST")
	if got := r.header.Get("Allow"); got != http.MethodPost {
		t.Errorf("Allow %q, want POST", got)
	}
}

func TestAuthentication(t *testing.T) {
	h := newHarness(t, sandbox.Options{})
	id := h.upload(conv, pngFile(10))
	endpoints := []struct {
		name, method, path string
		body               any
	}{
		{"upload", http.MethodPost, uploadPath(property, conv), uploadBody("a.png", "image/png", pngFile(10))},
		{"chunks", http.MethodPost, chunksPath(property, conv), newChunkedUpload(pngFile(2_500_000), 1_000_000).body(0, "")},
		{"download", http.MethodGet, downloadPath(property, conv, id), nil},
		{"file_info", http.MethodGet, fileInfoPath(property, conv, id), nil},
		{"messages", http.MethodPost, conversationPath(property, conv), messageBody("Your invoice", id)},
	}
	tests := []struct {
		name    string
		opts    []option
		wantMsg string
	}{
		{"no header", []option{withoutHeader("Authorization")}, "missing"},
		{"basic scheme", []option{withHeader("Authorization", "Basic c2FuZGJveDpzZWNyZXQ=")}, "Bearer <token>"},
		{"lower-case scheme", []option{withHeader("Authorization", "bearer "+h.token)}, "Bearer <token>"},
		{"empty token", []option{withHeader("Authorization", "Bearer ")}, "Bearer <token>"},
		{"bare token", []option{withHeader("Authorization", h.token)}, "Bearer <token>"},
		{"unknown token", []option{withHeader("Authorization", "Bearer not-a-token")}, "not issued by this server"},
		{"two headers", []option{func(r *http.Request) { r.Header.Add("Authorization", "Bearer x") }}, "2 times"},
		// Authentication comes before every other check.
		{"bad body and no token", []option{withoutHeader("Authorization"), withHeader("Content-Type", "text/plain")}, "missing"},
	}
	for _, ep := range endpoints {
		for _, tt := range tests {
			t.Run(ep.name+"/"+tt.name, func(t *testing.T) {
				r := h.send(ep.method, ep.path, ep.body, tt.opts...)
				wantError(t, r, http.StatusUnauthorized, "access denied", tt.wantMsg)
			})
		}
		t.Run(ep.name+"/bad property and no token", func(t *testing.T) {
			r := h.send(ep.method, swapProperty(ep.path, "abc"), ep.body, withoutHeader("Authorization"))
			wantError(t, r, http.StatusUnauthorized, "access denied")
		})
		t.Run(ep.name+"/valid token", func(t *testing.T) {
			wantOK(t, h.send(ep.method, ep.path, ep.body))
		})
	}
}

func TestTokenExpiry(t *testing.T) {
	tests := []struct {
		name    string
		ttl     time.Duration
		wantTTL time.Duration
	}{
		{"default one hour", 0, time.Hour},
		{"configured", 10 * time.Minute, 10 * time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clk := newClock()
			h := newHarness(t, sandbox.Options{TokenTTL: tt.ttl, Now: clk.Now})
			path := fileInfoPath(property, conv, h.upload(conv, pngFile(10)))
			clk.advance(tt.wantTTL - time.Nanosecond)
			wantOK(t, h.send(http.MethodGet, path, nil))
			clk.advance(time.Nanosecond)
			wantError(t, h.send(http.MethodGet, path, nil), http.StatusUnauthorized, "access denied", "expired")
			h.token = h.exchange()
			wantOK(t, h.send(http.MethodGet, path, nil))
		})
	}
}

func TestRevokeTokens(t *testing.T) {
	h := newHarness(t, sandbox.Options{})
	old := h.token
	second := h.exchange()
	path := fileInfoPath(property, conv, h.upload(conv, pngFile(10)))
	h.srv.RevokeTokens()
	for _, tok := range []string{old, second} {
		h.token = tok
		wantError(t, h.send(http.MethodGet, path, nil), http.StatusUnauthorized, "access denied", "revoked")
	}
	h.token = h.exchange()
	wantOK(t, h.send(http.MethodGet, path, nil))
	if got := h.srv.TokenExchanges(); got != 3 {
		t.Errorf("TokenExchanges() = %d, want 3", got)
	}
}
