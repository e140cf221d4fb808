package bookingapi

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/booking-attachment-gateway/gateway/bookingapi/sandbox"
)

// TestRequestURLEscapesEverySegment checks the raw request URI the server
// receives for every call: each id is one path segment that decodes to the id
// itself, is never a dot-segment or empty (which a server or proxy that
// normalizes paths would resolve to another resource), and leaks nothing
// into the query or a fragment.
func TestRequestURLEscapesEverySegment(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		basePath     string   // appended to the server's URL to make BaseURL
		wantPrefix   []string // decoded segments basePath adds
		conversation string
		attachment   string
	}{
		{name: "plain ids", conversation: "conv-42", attachment: "795e5w90-0419-11eb-a306-e506dfed6417"},
		{name: "slash", conversation: "a/b", attachment: "c/d/file_info"},
		{name: "parent traversal with slashes", conversation: "../../..", attachment: "../attachments/x"},
		{name: "question mark", conversation: "a?from=0", attachment: "b?to=1&x=y"},
		{name: "percent", conversation: "100%", attachment: "%2F%2e%2E%zz"},
		{name: "hash", conversation: "a#b", attachment: "#"},
		{name: "spaces", conversation: "a b", attachment: " leading and trailing "},
		{name: "unicode", conversation: "café-日本", attachment: "😀"},
		{name: "semicolon comma plus", conversation: "a;b,c", attachment: "x+y=z&w"},
		{name: "backslash and control", conversation: `a\b`, attachment: "x\ny\x00"},
		{name: "dot segment", conversation: ".", attachment: ".."},
		{name: "parent attachment", conversation: "conv-42", attachment: ".."},
		{name: "empty ids", conversation: "", attachment: ""},
		{name: "path prefix", basePath: "/booking/api", wantPrefix: []string{"booking", "api"}, conversation: "a/b", attachment: ".x."},
		{name: "path prefix with trailing slash", basePath: "/booking/api/", wantPrefix: []string{"booking", "api"}, conversation: "a?b", attachment: "c#d"},
		{name: "escaped path prefix", basePath: "/a%20b/%C3%A9", wantPrefix: []string{"a b", "é"}, conversation: "x y", attachment: "z%"},
		{name: "root with trailing slash", basePath: "/", conversation: "c", attachment: "a"},
	}
	ops := []struct {
		name      string
		call      func(ctx context.Context, c *Client, ref AttachmentRef) error
		wantTail  func(ref AttachmentRef) []string // decoded segments after the prefix
		wantQuery url.Values
	}{
		{
			name: "upload",
			call: func(ctx context.Context, c *Client, ref AttachmentRef) error {
				conv := Conversation{PropertyID: ref.PropertyID, ConversationID: ref.ConversationID}
				_, err := upload(ctx, c, conv, FileHeader{Name: "a.png", Type: "image/png", Size: 3}, []byte("abc"))
				return err
			},
			wantTail: func(ref AttachmentRef) []string {
				return []string{"messaging", "properties", strconv.FormatInt(ref.PropertyID, 10), "conversations", ref.ConversationID, "attachments"}
			},
			wantQuery: url.Values{},
		},
		{
			name: "file_info",
			call: func(ctx context.Context, c *Client, ref AttachmentRef) error {
				_, err := c.FileInfo(ctx, ref)
				return err
			},
			wantTail: func(ref AttachmentRef) []string {
				return []string{"messaging", "properties", strconv.FormatInt(ref.PropertyID, 10), "conversations", ref.ConversationID, "attachments", ref.AttachmentID, "file_info"}
			},
			wantQuery: url.Values{},
		},
		{
			name: "download",
			call: func(ctx context.Context, c *Client, ref AttachmentRef) error {
				_, err := io.ReadAll(openReader(t, c, ctx, ref, 3, 0, 3))
				return err
			},
			wantTail: func(ref AttachmentRef) []string {
				return []string{"messaging", "properties", strconv.FormatInt(ref.PropertyID, 10), "conversations", ref.ConversationID, "attachments", ref.AttachmentID}
			},
			wantQuery: url.Values{"from": {"0"}},
		},
	}
	// One answer that every call accepts: 3 bytes "abc".
	const answer = `{"data":{"ok":"true","attachment_id":"a1","file_name":"a.png","file_type":"image/png","file_size":3,"file_content":"YWJj"},"meta":{"ruid":"r"}}`

	for _, tt := range tests {
		for _, op := range ops {
			t.Run(tt.name+"/"+op.name, func(t *testing.T) {
				t.Parallel()
				srv := newCrafted(t, func(w http.ResponseWriter, r *http.Request) { writeBody(w, http.StatusOK, answer) })
				c := newTestClient(t, Config{BaseURL: srv.url + tt.basePath, AuthURL: srv.url + authPath,
					ClientID: testClientID, ClientSecret: testSecret})
				ref := AttachmentRef{PropertyID: testProperty, ConversationID: tt.conversation, AttachmentID: tt.attachment}

				err := op.call(context.Background(), c, ref)
				uris := srv.requests()
				if err != nil && len(uris) == 0 {
					// Refusing an id that cannot be sent safely is right too.
					return
				}
				if err != nil {
					t.Fatalf("%s of %+v = %v, want success", op.name, ref, err)
				}
				if len(uris) != 1 {
					t.Fatalf("%s of %+v sent %d requests %q, want 1", op.name, ref, len(uris), uris)
				}
				checkRequestURI(t, uris[0], append(slices.Clone(tt.wantPrefix), op.wantTail(ref)...), op.wantQuery)
			})
		}
	}
}

// checkRequestURI checks that the raw request URI uri has exactly the
// segments want, each escaped so that it decodes to itself and is neither
// empty nor a dot-segment, and exactly the query wantQuery.
func checkRequestURI(t *testing.T, uri string, want []string, wantQuery url.Values) {
	t.Helper()
	rawPath, rawQuery, _ := strings.Cut(uri, "?")
	if strings.Contains(uri, "#") {
		t.Errorf("request URI %q contains a fragment", uri)
	}
	if !strings.HasPrefix(rawPath, "/") {
		t.Fatalf("request URI %q is not an absolute path", uri)
	}
	raw := strings.Split(rawPath[1:], "/")
	var got []string
	for _, seg := range raw {
		switch seg {
		case "", ".", "..":
			t.Errorf("request URI %q has the segment %q, which path normalization removes", uri, seg)
		}
		dec, err := url.PathUnescape(seg)
		if err != nil {
			t.Errorf("request URI %q: segment %q is not valid percent-encoding: %v", uri, seg, err)
		}
		got = append(got, dec)
	}
	if !slices.Equal(got, want) {
		t.Errorf("request URI %q has the decoded segments %q, want %q", uri, got, want)
	}
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		t.Errorf("request URI %q: query %q does not parse: %v", uri, rawQuery, err)
	}
	if len(q) != len(wantQuery) {
		t.Errorf("request URI %q has the query %v, want %v", uri, q, wantQuery)
		return
	}
	for k, v := range wantQuery {
		if !slices.Equal(q[k], v) {
			t.Errorf("request URI %q has the query %v, want %v", uri, q, wantQuery)
		}
	}
}

// TestRequestURLReachesTheSandbox checks, against the sandbox's own routing,
// that ids full of reserved characters name exactly their own conversation
// and attachment: an upload to one conversation is not visible from another
// whose id differs only in escaping.
func TestRequestURLReachesTheSandbox(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		conversation string
	}{
		{name: "slash", conversation: "a/b"},
		{name: "question mark", conversation: "a?b"},
		{name: "percent-encoded slash", conversation: "a%2Fb"},
		{name: "space and unicode", conversation: "a b é"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			env := newSandboxEnv(t, sandbox.Options{}, nil)
			ctx := context.Background()
			conv := Conversation{PropertyID: testProperty, ConversationID: tt.conversation}
			content := pngFile(100)
			a, err := upload(ctx, env.client, conv, FileHeader{Name: "x.png", Type: "image/png", Size: 100}, content)
			if err != nil {
				t.Fatalf("upload to conversation %q = %v, want success", tt.conversation, err)
			}
			f, ok := env.sandbox.Attachment(testProperty, tt.conversation, a.ID)
			if !ok || !bytes.Equal(f.Content, content) {
				t.Fatalf("sandbox.Attachment(%d, %q, %q) = %v, %v; want the uploaded bytes", testProperty, tt.conversation, a.ID, len(f.Content), ok)
			}
			ref := AttachmentRef{PropertyID: testProperty, ConversationID: tt.conversation, AttachmentID: a.ID}
			if info, err := env.client.FileInfo(ctx, ref); err != nil || info.Size != 100 {
				t.Errorf("FileInfo(%+v) = %+v, %v; want size 100", ref, info, err)
			}
			// The same attachment id under the first segment of the id only.
			other := ref
			other.ConversationID = "a"
			_, err = env.client.FileInfo(ctx, other)
			env.checkErrorText(t, "FileInfo of another conversation", err)
			if e := asError(t, "FileInfo of another conversation", err); e.Kind != KindNotFound {
				t.Errorf("FileInfo(%+v) = %v, want KindNotFound", other, err)
			}
		})
	}
}
