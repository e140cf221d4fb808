package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	attachmentsv1 "github.com/booking-attachment-gateway/gateway/gen/attachments/v1"
)

var (
	perf    = flag.Bool("perf", false, "run TestPerformance, the load run of make bench")
	perfBin = flag.String("perf-bin", "", "with -perf: measure this attachmentd binary, such as an older build, instead of building this one")
)

// The load run's sizes.
const (
	perfFileBytes  = 10_000_000 // a large photo, in chunks and ranges
	perfMessage    = 1 << 20    // the client's message size
	perfRounds     = 5          // measurements per figure; the median is shown
	perfPerRound   = 6          // calls per CPU measurement
	perfConcurrent = 32
	perfSmallCalls = 500
	perfSmallBytes = 20_000

	// The memory limit of the runs that measure peak memory, as a
	// container's manifest would set it.
	perfMemLimit      = "304MiB"
	perfMemLimitBytes = 304 << 20
)

// TestPerformance is the load run of make bench: the built attachmentd
// against a fast fake Booking (fakeBooking), driven over loopback gRPC. It
// prints CPU per MB of the attachmentd process next to the least work each
// direction needs (measured in this process, in the same run), wall times
// with Booking's latency, peak resident memory under 32 concurrent 10 MB
// calls, and a burst of small uploads. It asserts nothing about speed:
// these machines are shared, so the figures are to be read, as ratios.
func TestPerformance(t *testing.T) {
	if !*perf {
		t.Skip("the load run: go test -run TestPerformance -v ./cmd/attachmentd -args -perf")
	}
	bin := *perfBin
	if bin == "" {
		bin = filepath.Join(t.TempDir(), "attachmentd")
		if out, err := exec.Command("go", "build", "-trimpath", "-o", bin, ".").CombinedOutput(); err != nil {
			t.Fatalf("go build: %v\n%s", err, out)
		}
	}
	file := perfFile(perfFileBytes)
	fake := newFakeBooking(file)
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	booking := &http.Server{Handler: fake}
	go booking.Serve(lis)
	defer booking.Close()
	bookingURL := "http://" + lis.Addr().String()

	var report strings.Builder
	fmt.Fprintf(&report, "\nCPU of the attachmentd process per MB (1,000,000 bytes), median of %d measurements of %d calls of %d bytes:\n\n", perfRounds, perfPerRound, perfFileBytes)
	fmt.Fprintf(&report, "| direction | attachmentd | least work needed, same run | ratio |\n|---|---:|---:|---:|\n")
	gw := startPerfGateway(t, bin, bookingURL)
	encode := median(perfRounds, func() float64 {
		return msPerMB(timeIt(func() {
			for range perfPerRound {
				encodeAndHash(file)
			}
		}), perfPerRound*len(file))
	})
	up := median(perfRounds, func() float64 {
		return gw.cpuPerMB(t, perfPerRound*len(file), func() { gw.uploadN(t, file, perfPerRound) })
	})
	fmt.Fprintf(&report, "| upload (declared size) | %.2f ms/MB | base64 encode + sha256: %.2f ms/MB | %.2f× |\n", up, encode, up/encode)
	whole := fake.rangeAnswer("0", "")
	decode := median(perfRounds, func() float64 {
		return msPerMB(timeIt(func() {
			for range perfPerRound {
				decodeBase64(whole)
			}
		}), perfPerRound*len(file))
	})
	down := median(perfRounds, func() float64 {
		return gw.cpuPerMB(t, perfPerRound*len(file), func() { gw.downloadN(t, len(file), perfPerRound) })
	})
	fmt.Fprintf(&report, "| download | %.2f ms/MB | base64 decode: %.2f ms/MB | %.2f× |\n", down, decode, down/decode)

	fmt.Fprintf(&report, "\nWall time of one %d-byte call with Booking's latency per request, median of 3:\n\n", perfFileBytes)
	fmt.Fprintf(&report, "| latency | upload | download |\n|---:|---:|---:|\n")
	for _, latency := range []time.Duration{0, 20 * time.Millisecond, 100 * time.Millisecond} {
		fake.latency.Store(int64(latency))
		upWall := median(3, func() float64 { return seconds(timeIt(func() { gw.uploadN(t, file, 1) })) })
		downWall := median(3, func() float64 { return seconds(timeIt(func() { gw.downloadN(t, len(file), 1) })) })
		fmt.Fprintf(&report, "| %v | %.0f ms | %.0f ms |\n", latency, 1000*upWall, 1000*downWall)
	}
	fake.latency.Store(0)
	gw.stop()

	fmt.Fprintf(&report, "\nPeak resident memory of a fresh attachmentd during %d concurrent calls of %d bytes, with GOMEMLIMIT=%s (so --max-memory is %d MiB, by default):\n\n",
		perfConcurrent, perfFileBytes, perfMemLimit, defaultMaxMemory(perfMemLimitBytes)>>20)
	fmt.Fprintf(&report, "| calls | peak RSS | calls that failed |\n|---|---:|---|\n")
	for _, direction := range []string{"upload", "download"} {
		gw := startPerfGateway(t, bin, bookingURL, "GOMEMLIMIT="+perfMemLimit)
		failures := gw.concurrently(perfConcurrent, func(int) error {
			if direction == "upload" {
				return gw.upload(file)
			}
			return gw.download(len(file))
		})
		fmt.Fprintf(&report, "| %d × %s | %.0f MiB | %s |\n", perfConcurrent, direction, gw.peakRSSMiB(t), failures)
		gw.stop()
	}

	gw = startPerfGateway(t, bin, bookingURL)
	small := perfFile(perfSmallBytes)
	start := time.Now()
	failures := gw.concurrently(perfSmallCalls, func(int) error { return gw.upload(small) })
	took := time.Since(start)
	fmt.Fprintf(&report, "\n%d concurrent uploads of %d bytes: %.0f calls/s, peak RSS %.0f MiB, failures: %s\n",
		perfSmallCalls, perfSmallBytes, perfSmallCalls/took.Seconds(), gw.peakRSSMiB(t), failures)
	gw.stop()
	t.Log(report.String())
}

// perfGateway is a running attachmentd and a client of it.
type perfGateway struct {
	cmd    *exec.Cmd
	conn   *grpc.ClientConn
	client attachmentsv1.AttachmentServiceClient
}

func startPerfGateway(t *testing.T, bin, bookingURL string, env ...string) *perfGateway {
	t.Helper()
	cmd := exec.Command(bin, "--listen", "127.0.0.1:0", "--metrics-listen", "", "--drain-delay", "0s")
	cmd.Env = append(os.Environ(), "BOOKING_API_URL="+bookingURL, "BOOKING_AUTH_URL="+bookingURL+"/token-based-authentication/exchange",
		"BOOKING_CLIENT_ID=bench", "BOOKING_CLIENT_SECRET=bench")
	cmd.Env = append(cmd.Env, env...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := bufio.NewScanner(stderr)
	var addr string
	for addr == "" && lines.Scan() {
		var line struct{ Msg, Listen string }
		if json.Unmarshal(lines.Bytes(), &line) == nil && line.Msg == "attachmentd is serving" {
			addr = line.Listen
		}
	}
	go io.Copy(io.Discard, stderr)
	if addr == "" {
		t.Fatal("attachmentd did not start")
	}
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	return &perfGateway{cmd: cmd, conn: conn, client: attachmentsv1.NewAttachmentServiceClient(conn)}
}

func (g *perfGateway) stop() {
	g.conn.Close()
	g.cmd.Process.Signal(os.Interrupt)
	g.cmd.Wait()
}

// upload sends content as one upload with its size declared, in messages
// of perfMessage bytes.
func (g *perfGateway) upload(content []byte) error {
	stream, err := g.client.UploadAttachment(context.Background())
	if err != nil {
		return err
	}
	meta := &attachmentsv1.UploadMetadata{PropertyId: 1, ConversationId: "perf", FileName: "perf.jpg", FileSize: int64(len(content))}
	if err := stream.Send(&attachmentsv1.UploadAttachmentRequest{Part: &attachmentsv1.UploadAttachmentRequest_Metadata{Metadata: meta}}); err != nil {
		_, err = stream.CloseAndRecv()
		return err
	}
	for rest := content; len(rest) > 0; {
		n := min(len(rest), perfMessage)
		if stream.Send(&attachmentsv1.UploadAttachmentRequest{Part: &attachmentsv1.UploadAttachmentRequest_Data{Data: rest[:n]}}) != nil {
			break
		}
		rest = rest[n:]
	}
	_, err = stream.CloseAndRecv()
	return err
}

// download reads the fake's file whole, and checks its length.
func (g *perfGateway) download(size int) error {
	stream, err := g.client.DownloadAttachment(context.Background(), &attachmentsv1.DownloadAttachmentRequest{
		PropertyId: 1, ConversationId: "perf", AttachmentId: "bench"})
	if err != nil {
		return err
	}
	got := 0
	for {
		msg, err := stream.Recv()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		got += len(msg.GetData())
	}
	if got != size {
		return fmt.Errorf("downloaded %d bytes, want %d", got, size)
	}
	return nil
}

func (g *perfGateway) uploadN(t *testing.T, content []byte, n int) {
	for range n {
		if err := g.upload(content); err != nil {
			t.Fatalf("upload: %v", err)
		}
	}
}

func (g *perfGateway) downloadN(t *testing.T, size, n int) {
	for range n {
		if err := g.download(size); err != nil {
			t.Fatalf("download: %v", err)
		}
	}
}

// concurrently runs n calls at once and describes their failures by code.
func (g *perfGateway) concurrently(n int, call func(i int) error) string {
	var mu sync.Mutex
	failed := map[string]int{}
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			if err := call(i); err != nil {
				mu.Lock()
				failed[status.Code(err).String()]++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(failed) == 0 {
		return "none"
	}
	var parts []string
	for code, count := range failed {
		parts = append(parts, fmt.Sprintf("%d %s", count, code))
	}
	slices.Sort(parts)
	return strings.Join(parts, ", ")
}

// cpuPerMB runs work and returns the CPU the gateway's process spent on it,
// in milliseconds per 1,000,000 of the bytes it moved.
func (g *perfGateway) cpuPerMB(t *testing.T, moved int, work func()) float64 {
	before := g.cpu(t)
	work()
	return msPerMB(g.cpu(t)-before, moved)
}

// cpu reads the time the process's threads have run, user and system,
// from /proc, to the nanosecond.
func (g *perfGateway) cpu(t *testing.T) time.Duration {
	tasks, err := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/schedstat", g.cmd.Process.Pid))
	if err != nil || len(tasks) == 0 {
		t.Fatalf("no threads of the gateway in /proc: %v", err)
	}
	var total time.Duration
	for _, task := range tasks {
		b, err := os.ReadFile(task)
		if err != nil {
			continue // a thread that ended; the Go runtime keeps its threads
		}
		ns, _ := strconv.ParseInt(strings.Fields(string(b))[0], 10, 64)
		total += time.Duration(ns)
	}
	return total
}

// peakRSSMiB reads the process's peak resident memory from /proc.
func (g *perfGateway) peakRSSMiB(t *testing.T) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", g.cmd.Process.Pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, _ := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 64)
			return kb / 1024
		}
	}
	t.Fatal("no VmHWM in /proc/pid/status")
	return 0
}

// perfFile is n bytes of a JPEG: its signature, then random bytes.
func perfFile(n int) []byte {
	b := make([]byte, n)
	rand.NewChaCha8([32]byte{7}).Read(b)
	copy(b, []byte{0xFF, 0xD8, 0xFF, 0xE0})
	return b
}

// encodeAndHash is the least work an upload needs: the base64 of the file
// and its SHA-256.
func encodeAndHash(file []byte) {
	dst := make([]byte, base64.StdEncoding.EncodedLen(len(file)))
	base64.StdEncoding.Encode(dst, file)
	sha256.Sum256(file)
}

// decodeBase64 is the least work a download needs: decoding the base64 of
// the file, found in an answer.
func decodeBase64(answer []byte) {
	start := bytes.Index(answer, []byte(`"file_content":"`)) + len(`"file_content":"`)
	end := start + bytes.IndexByte(answer[start:], '"')
	dst := make([]byte, base64.StdEncoding.DecodedLen(end-start))
	base64.StdEncoding.Decode(dst, answer[start:end])
}

func timeIt(f func()) time.Duration {
	start := time.Now()
	f()
	return time.Since(start)
}

func msPerMB(d time.Duration, bytes int) float64 {
	return float64(d) / float64(time.Millisecond) / (float64(bytes) / 1e6)
}

func seconds(d time.Duration) float64 { return d.Seconds() }

// median runs measure n times and returns the median.
func median(n int, measure func() float64) float64 {
	values := make([]float64, n)
	for i := range values {
		values[i] = measure()
	}
	slices.Sort(values)
	return values[n/2]
}
