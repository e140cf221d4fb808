package main

import (
	"context"
	"net/http"
	"testing"

	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	"github.com/booking-attachment-gateway/gateway/bookingapi/sandbox"
	attachmentsv1 "github.com/booking-attachment-gateway/gateway/gen/attachments/v1"
)

// TestMessagesInMetricsAndLogs posts messages that Booking takes, refuses
// and may have taken, and repeats one by its request_id: the metrics count
// each by result, and the log lines name the message, the request_id and
// Booking's ruid.
func TestMessagesInMetricsAndLogs(t *testing.T) {
	sb, env := sandboxEnv(t, "right-secret", nil)
	inst := start(t, env)
	conn := inst.client(t)
	waitHealth(t, conn, "", healthpb.HealthCheckResponse_SERVING)
	client := attachmentsv1.NewAttachmentServiceClient(conn)
	ctx := context.Background()
	send := func(content, requestID string) (*attachmentsv1.SendMessageResponse, error) {
		return client.SendMessage(ctx, &attachmentsv1.SendMessageRequest{PropertyId: 1, ConversationId: "c1", Content: content, RequestId: requestID})
	}

	posted, err := send("hello", "req-1")
	if err != nil {
		t.Fatal(err)
	}
	if again, err := send("hello", "req-1"); err != nil || again.GetMessageId() != posted.GetMessageId() {
		t.Fatalf("the repeat = %v, %v; want the first answer", again, err)
	}
	sb.InjectFault(sandbox.Fault{Endpoint: sandbox.EndpointMessages, Status: http.StatusForbidden})
	if _, err := send("refused", ""); status.Code(err) != codes.PermissionDenied {
		t.Fatalf("a refused post = %v", err)
	}
	sb.InjectFault(sandbox.Fault{Endpoint: sandbox.EndpointMessages, Drop: true, Processed: true})
	if _, err := send("lost", ""); status.Code(err) != codes.Unavailable {
		t.Fatalf("a post whose answer was lost = %v", err)
	}

	m := scrape(t, inst.metricsAddr)
	checks := []struct {
		family string
		labels []string
		want   float64
	}{
		{"attachmentd_messages_total", []string{"result=posted"}, 1},
		{"attachmentd_messages_total", []string{"result=failed"}, 1},
		{"attachmentd_messages_total", []string{"result=unknown"}, 1},
		{"attachmentd_request_id_replays_total", nil, 1},
		{"attachmentd_booking_requests_total", []string{"call=message"}, 3},
		{"grpc_server_handled_total", []string{"grpc_method=SendMessage", "grpc_code=OK"}, 2},
		{"grpc_server_handled_total", []string{"grpc_method=SendMessage", "grpc_code=Unavailable"}, 1},
	}
	for _, c := range checks {
		if got := value(m, c.family, c.labels...); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.family, c.labels, got, c.want)
		}
	}

	line := inst.logs.waitFor(t, "finished call", "grpc.method", "SendMessage", "request_id", "req-1")
	ruids, _ := line["booking_ruids"].([]any)
	if line["message_id"] != posted.GetMessageId() || line["property_id"] != float64(1) || len(ruids) != 1 || ruids[0] != sb.Requests()[1].RUID {
		t.Errorf("log line %v, want the message_id %s, the property and Booking's ruid %s", line, posted.GetMessageId(), sb.Requests()[1].RUID)
	}
}
