package service_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/booking-attachment-gateway/gateway/bookingapi/sandbox"
	attachmentsv1 "github.com/booking-attachment-gateway/gateway/gen/attachments/v1"
)

func TestOneTokenExchangeForManyCalls(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	content := image("image/png", 2_000, 1)
	var wg sync.WaitGroup
	ids := make(chan string, 20)
	errs := make(chan error, 20)
	for range 20 {
		wg.Go(func() {
			resp, err := e.upload(context.Background(), metadata("many.png", len(content)), content, evenSplit(500))
			if err != nil {
				errs <- err
				return
			}
			ids <- resp.GetAttachmentId()
		})
	}
	wg.Wait()
	close(errs)
	close(ids)
	for err := range errs {
		t.Fatalf("upload: %v", err)
	}
	for id := range ids {
		e.readBack(t, id, content)
	}
	if n := e.sandbox.TokenExchanges(); n != 1 {
		t.Errorf("%d token exchanges for 20 uploads and 20 downloads, want 1", n)
	}
}

// A 401 makes the service exchange its credentials once more and send the
// request again; a second 401 soon after is the service's own fault,
// reported as INTERNAL, without spending another of the account's tokens.
func TestRefreshAfter401(t *testing.T) {
	e := newEnv(t, sandbox.Options{})
	content := image("image/jpeg", 1_200_000, 2)
	first := e.mustUpload(t, metadata("a.jpg", len(content)), content)

	e.sandbox.RevokeTokens()
	second := e.mustUpload(t, metadata("b.jpg", len(content)), content)
	e.readBack(t, second.GetAttachmentId(), content)
	if n := e.sandbox.TokenExchanges(); n != 2 {
		t.Errorf("%d token exchanges, want 2: one at first, one after the 401", n)
	}

	e.sandbox.RevokeTokens()
	_, err := e.client.GetAttachmentInfo(context.Background(), &attachmentsv1.GetAttachmentInfoRequest{
		PropertyId: testProperty, ConversationId: testConversation, AttachmentId: first.GetAttachmentId(),
	})
	wantCode(t, err, codes.Internal)
	if n := e.sandbox.TokenExchanges(); n != 2 {
		t.Errorf("%d token exchanges, want still 2", n)
	}
}

func TestWrongCredentialsAreInternalAndNeverShown(t *testing.T) {
	const secret = "s3cr3t-that-must-not-leak"
	e := newEnvWith(t, sandbox.Options{}, envConfig{secret: secret})
	content := image("image/png", 100, 1)
	_, err := e.upload(context.Background(), metadata("a.png", len(content)), content, evenSplit(100))
	wantCode(t, err, codes.Internal)
	if msg := status.Convert(err).Message(); !strings.Contains(msg, "credentials") || strings.Contains(msg, secret) {
		t.Errorf("message %q should blame the gateway's credentials without quoting them", msg)
	}
	if strings.Contains(e.logs.String(), secret) {
		t.Errorf("the secret appears in the logs")
	}
	for _, r := range e.sandbox.Requests() {
		if r.Endpoint != sandbox.EndpointToken {
			t.Errorf("a %s request went out without a token", r.Endpoint)
		}
	}
}

func TestPermissionDenied(t *testing.T) {
	e := newEnv(t, sandbox.Options{DeniedPropertyIDs: []int64{testProperty}})
	content := image("image/png", 100, 1)
	_, err := e.upload(context.Background(), metadata("a.png", len(content)), content, evenSplit(100))
	wantCode(t, err, codes.PermissionDenied)
	if msg := status.Convert(err).Message(); !strings.Contains(msg, "doesn't have access") {
		t.Errorf("message %q does not carry Booking's text", msg)
	}
}

// Booking's envelope is read tolerantly: ok as true or "true", null ids.
func TestEnvelopeVariants(t *testing.T) {
	for _, booleanOK := range []bool{false, true} {
		e := newEnv(t, sandbox.Options{BooleanOK: booleanOK})
		content := image("image/png", 1_700_000, 5)
		resp := e.mustUpload(t, metadata("ok.png", len(content)), content)
		e.readBack(t, resp.GetAttachmentId(), content)
	}
}

// A finish or single upload answered without an attachment_id is an error,
// never a success with an empty id.
func TestMissingAttachmentIDIsAnError(t *testing.T) {
	for _, size := range []int{500, 1_500_000} {
		e := newEnvWith(t, sandbox.Options{}, envConfig{wrap: dropAttachmentIDs})
		content := image("image/png", size, 6)
		_, err := e.upload(context.Background(), metadata("lost.png", size), content, evenSplit(100_000))
		wantCode(t, err, codes.Internal)
		if msg := status.Convert(err).Message(); !strings.Contains(msg, "attachment_id") {
			t.Errorf("message %q does not say what was missing", msg)
		}
	}
}

// dropAttachmentIDs removes data.attachment_id from the sandbox's answers.
var dropAttachmentIDs = rewriteData(
	func(*http.Request) bool { return true },
	func(data map[string]any) { delete(data, "attachment_id") })
