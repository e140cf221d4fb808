package service_test

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/code"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/status"

	"github.com/booking-attachment-gateway/gateway/bookingapi"
	"github.com/booking-attachment-gateway/gateway/bookingapi/sandbox"
	attachmentsv1 "github.com/booking-attachment-gateway/gateway/gen/attachments/v1"
)

var updateReadme = flag.Bool("update-readme", false, "rewrite the README's fault table from what TestFaultTable observes")

// The README's fault table lies between these lines.
const (
	faultTableStart = "<!-- fault table: kept true by TestFaultTable (service/faulttable_test.go) -->"
	faultTableEnd   = "<!-- end of the fault table -->"
)

// faultStep is a step of a call at which a fault strikes.
type faultStep struct {
	name     string
	endpoint sandbox.Endpoint
	action   string // chunks only
	call     func(e *env, ref attachmentRef) error
	// tries counts the times the step was tried, from the sandbox's log:
	// its requests, or for a chunked upload the times it started.
	tries func(reqs []sandbox.Request) int
}

// attachmentRef names a seeded attachment, for the steps that read one.
type attachmentRef struct{ id string }

// The sizes the steps use: a single upload (and a download of one range),
// and a file of three chunks.
const (
	smallFile   = 1000
	chunkedFile = 2_000_001
)

var faultSteps = []faultStep{
	{name: "token exchange", endpoint: sandbox.EndpointToken, call: uploadOf(smallFile), tries: count(sandbox.EndpointToken, "")},
	{name: "upload", endpoint: sandbox.EndpointUpload, call: uploadOf(smallFile), tries: count(sandbox.EndpointUpload, "")},
	{name: "chunk start", endpoint: sandbox.EndpointChunks, action: "start", call: uploadOf(chunkedFile), tries: count(sandbox.EndpointChunks, "start")},
	{name: "chunk resume", endpoint: sandbox.EndpointChunks, action: "resume", call: uploadOf(chunkedFile), tries: count(sandbox.EndpointChunks, "start")},
	{name: "chunk finish", endpoint: sandbox.EndpointChunks, action: "finish", call: uploadOf(chunkedFile), tries: count(sandbox.EndpointChunks, "start")},
	{name: "file_info", endpoint: sandbox.EndpointFileInfo, call: infoOf, tries: count(sandbox.EndpointFileInfo, "")},
	{name: "message post", endpoint: sandbox.EndpointMessages, call: postOf, tries: count(sandbox.EndpointMessages, "")},
	// A download of one range: the ranges of a larger one are fetched
	// several at a time, so which one a fault strikes first would vary.
	{name: "download range", endpoint: sandbox.EndpointDownload, call: downloadOf, tries: count(sandbox.EndpointDownload, "")},
}

// faultRow is a fault at Booking, applied in turn at every step.
type faultRow struct {
	name  string
	fault sandbox.Fault
}

var faultRows = []faultRow{
	{"503, once", sandbox.Fault{Status: 503}},
	{"503, every time", sandbox.Fault{Status: 503, Times: 100}},
	{"429, once", sandbox.Fault{Status: 429}},
	{"429 with Retry-After: 3600", sandbox.Fault{Status: 429, RetryAfter: "3600", Times: 100}},
	{"500 before processing, once", sandbox.Fault{Status: 500}},
	{"500 after processing, once", sandbox.Fault{Status: 500, Processed: true}},
	{"connection dropped before processing, once", sandbox.Fault{Drop: true}},
	{"answer lost after processing, once", sandbox.Fault{Drop: true, Processed: true}},
	{"answer cut off, once", sandbox.Fault{CutAfter: 12}},
	{"answer cut off, every time", sandbox.Fault{CutAfter: 12, Times: 100}},
	{"502 HTML page from a proxy, once", sandbox.Fault{Status: 502, HTML: true}},
	{"no answer, once", sandbox.Fault{Hang: true}},
	{"no answer, every time", sandbox.Fault{Hang: true, Times: 100}},
	{"400", sandbox.Fault{Status: 400, Times: 100}},
	{"answer over 16 MiB", sandbox.Fault{PadBytes: 17 << 20, Times: 100}},
}

// TestFaultTable applies every fault at every step of the calls and checks
// that what a caller sees is what the README's fault table says. With
// -update-readme it writes the table it observed into the README instead.
func TestFaultTable(t *testing.T) {
	t.Parallel()
	observed := make([][]string, len(faultRows))
	var mu sync.Mutex
	t.Run("cases", func(t *testing.T) {
		for i, row := range faultRows {
			observed[i] = make([]string, len(faultSteps))
			for j, step := range faultSteps {
				t.Run(row.name+"/"+step.name, func(t *testing.T) {
					t.Parallel()
					got := observeFault(t, row, step)
					mu.Lock()
					observed[i][j] = got
					mu.Unlock()
				})
			}
		}
	})
	table := renderFaultTable(observed)
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	before, rest, ok1 := strings.Cut(string(readme), faultTableStart+"\n")
	_, after, ok2 := strings.Cut(rest, faultTableEnd)
	if !ok1 || !ok2 {
		t.Fatalf("README.md has no fault table between %q and %q", faultTableStart, faultTableEnd)
	}
	written := strings.TrimSuffix(rest[:len(rest)-len(after)-len(faultTableEnd)], "\n")
	if *updateReadme {
		updated := before + faultTableStart + "\n" + table + "\n" + faultTableEnd + after
		if err := os.WriteFile("../README.md", []byte(updated), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if written != table {
		t.Errorf("README.md's fault table differs from what a caller sees; run go test ./service -run TestFaultTable -update-readme and review the diff. Observed:\n%s", table)
	}
}

// observeFault runs step's call with row's fault and describes what the
// caller saw, in the table's words.
func observeFault(t *testing.T, row faultRow, step faultStep) string {
	var cfg envConfig
	if row.fault.Hang {
		// Short enough to keep the table quick, long enough for a chunk
		// under -race on a loaded machine.
		cfg.booking = func(c *bookingapi.Config) { c.ResponseTimeout = 1500 * time.Millisecond }
	}
	e := newEnvWith(t, sandbox.Options{}, cfg)
	var ref attachmentRef
	seeded := 0
	if step.endpoint == sandbox.EndpointFileInfo || step.endpoint == sandbox.EndpointDownload {
		ref.id = e.mustUpload(t, metadata("seed.png", smallFile), image("image/png", smallFile, 1)).GetAttachmentId()
		seeded = 1
	}
	before := len(e.sandbox.Requests())
	fault := row.fault
	fault.Endpoint, fault.Action = step.endpoint, step.action
	e.sandbox.InjectFault(fault)
	err := step.call(e, ref)
	waitFor(t, "the sandbox to finish every request", func() bool { return e.sandbox.Pending() == 0 })
	reqs := e.sandbox.Requests()[before:]
	tries := step.tries(reqs)
	orphans := len(e.sandbox.AttachmentIDs(testProperty, testConversation)) - seeded
	if err == nil && (step.endpoint == sandbox.EndpointToken || step.endpoint == sandbox.EndpointUpload || step.endpoint == sandbox.EndpointChunks) {
		orphans-- // the one the call returned
	}

	var words []string
	if err == nil {
		words = append(words, "OK")
		if tries > 1 && step.endpoint == sandbox.EndpointChunks {
			words = append(words, "restarted")
		} else if tries > 1 {
			words = append(words, "sent again")
		}
	} else {
		st := status.Convert(err)
		words = append(words, code.Code(st.Code()).String())
		if tries > 1 {
			words[0] += fmt.Sprintf(" after %d tries", tries)
		} else {
			words[0] += " at once"
		}
		for _, d := range st.Details() {
			switch d := d.(type) {
			case *errdetails.RetryInfo:
				words = append(words, "RetryInfo "+d.GetRetryDelay().AsDuration().String())
			case *errdetails.ErrorInfo:
				if d.GetReason() == "BOOKING_OUTCOME_UNKNOWN" {
					words = append(words, d.GetReason())
				}
			}
		}
	}
	if step.endpoint == sandbox.EndpointMessages && err != nil {
		// What the guest sees, which the caller cannot tell.
		if len(e.messages()) > 0 {
			words = append(words, "posted")
		} else {
			words = append(words, "not posted")
		}
	}
	switch {
	case orphans == 1:
		words = append(words, "1 orphan")
	case orphans > 1:
		words = append(words, fmt.Sprintf("%d orphans", orphans))
	}
	return strings.Join(words, ", ")
}

// renderFaultTable lays out the observations as a Markdown table.
func renderFaultTable(observed [][]string) string {
	var b strings.Builder
	b.WriteString("| fault at Booking |")
	for _, step := range faultSteps {
		fmt.Fprintf(&b, " %s |", step.name)
	}
	b.WriteString("\n|---|")
	b.WriteString(strings.Repeat("---|", len(faultSteps)))
	for i, row := range faultRows {
		fmt.Fprintf(&b, "\n| %s |", row.name)
		for _, cell := range observed[i] {
			fmt.Fprintf(&b, " %s |", cell)
		}
	}
	return b.String()
}

// count returns a tries function that counts the requests to ep (with
// action, for chunks).
func count(ep sandbox.Endpoint, action string) func([]sandbox.Request) int {
	return func(reqs []sandbox.Request) int {
		n := 0
		for _, r := range reqs {
			if r.Endpoint == ep && (action == "" || r.Action == action) {
				n++
			}
		}
		return n
	}
}

func uploadOf(size int) func(*env, attachmentRef) error {
	return func(e *env, _ attachmentRef) error {
		_, err := e.upload(context.Background(), metadata("fault.png", size), image("image/png", size, 2), evenSplit(256<<10))
		return err
	}
}

func infoOf(e *env, ref attachmentRef) error {
	_, err := e.client.GetAttachmentInfo(context.Background(), &attachmentsv1.GetAttachmentInfoRequest{
		PropertyId: testProperty, ConversationId: testConversation, AttachmentId: ref.id,
	})
	return err
}

func downloadOf(e *env, ref attachmentRef) error {
	stream, err := e.client.DownloadAttachment(context.Background(), &attachmentsv1.DownloadAttachmentRequest{
		PropertyId: testProperty, ConversationId: testConversation, AttachmentId: ref.id,
	})
	if err != nil {
		return err
	}
	for {
		if _, err := stream.Recv(); err == io.EOF {
			return nil
		} else if err != nil {
			return err
		}
	}
}

func postOf(e *env, _ attachmentRef) error {
	_, err := e.client.SendMessage(context.Background(), sendReq("See you tomorrow"))
	return err
}
