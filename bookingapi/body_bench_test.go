package bookingapi

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"testing"
)

// BenchmarkChunkBody measures encoding the body of a full chunk.
func BenchmarkChunkBody(b *testing.B) {
	content := make([]byte, MaxChunkBytes)
	file := FileHeader{Name: "room.jpg", Type: "image/jpeg", Size: 5_000_000}
	b.SetBytes(MaxChunkBytes)
	b.ReportAllocs()
	for b.Loop() {
		body := chunkBody(actionResume, "upload-1", file, 1, [][]byte{content}, len(content))
		body.release()
	}
}

// BenchmarkChunkBodyOfMessages measures encoding the body of a full chunk
// held as the 64 KiB messages it came in.
func BenchmarkChunkBodyOfMessages(b *testing.B) {
	content := make([]byte, MaxChunkBytes)
	var segments [][]byte
	for rest := content; len(rest) > 0; rest = rest[min(len(rest), 64<<10):] {
		segments = append(segments, rest[:min(len(rest), 64<<10)])
	}
	file := FileHeader{Name: "room.jpg", Type: "image/jpeg", Size: 5_000_000}
	b.SetBytes(MaxChunkBytes)
	b.ReportAllocs()
	for b.Loop() {
		body := chunkBody(actionResume, "upload-1", file, 1, segments, len(content))
		body.release()
	}
}

// TestBodiesAreBookingsDocuments reads the bodies back with the field names
// of Booking's reference.
func TestBodiesAreBookingsDocuments(t *testing.T) {
	content := []byte{0xFF, 0xD8, 0xFF, 0, 1, 2, 250}
	file := FileHeader{Name: `a "quoted" <name> é.jpg`, Type: "image/jpeg", Size: 2_000_000}
	var chunk struct {
		Attachment struct {
			Action   string  `json:"action"`
			UploadID *string `json:"upload_id"`
			FileName string  `json:"file_name"`
			FileType string  `json:"file_type"`
			FileSize int64   `json:"file_size"`
			Chunk    struct {
				ChunkNumber  int    `json:"chunk_number"`
				ChunkSize    int    `json:"chunk_size"`
				ChunkContent []byte `json:"chunk_content"`
			} `json:"chunk"`
		} `json:"attachment"`
	}
	if err := json.Unmarshal(chunkBody(actionStart, "", file, 0, [][]byte{content[:2], content[2:]}, len(content)).bytes, &chunk); err != nil {
		t.Fatalf("chunk body is not JSON: %v", err)
	}
	a := chunk.Attachment
	if a.Action != "start" || a.UploadID != nil || a.FileName != file.Name || a.FileType != file.Type ||
		a.FileSize != file.Size || a.Chunk.ChunkNumber != 0 || a.Chunk.ChunkSize != len(content) ||
		string(a.Chunk.ChunkContent) != string(content) {
		t.Errorf("chunk body decodes to %+v, want start of %+v with %v", a, file, content)
	}
	var single struct {
		Attachment struct {
			FileName    string `json:"file_name"`
			FileType    string `json:"file_type"`
			FileSize    int    `json:"file_size"`
			FileContent []byte `json:"file_content"`
		} `json:"attachment"`
	}
	if err := json.Unmarshal(singleUploadBody(file, [][]byte{content[:1], content[1:5], content[5:]}, len(content)).bytes, &single); err != nil {
		t.Fatalf("single upload body is not JSON: %v", err)
	}
	if s := single.Attachment; s.FileName != file.Name || s.FileType != file.Type || s.FileSize != len(content) || string(s.FileContent) != string(content) {
		t.Errorf("single upload body decodes to %+v", s)
	}
}

// BenchmarkRangeAnswer decodes the answer to a range of MaxRangeBytes with
// the fast path and with encoding/json alone, next to base64's decoding of
// its content, the least work it needs.
func BenchmarkRangeAnswer(b *testing.B) {
	content := pngFile(MaxRangeBytes)
	encoded := base64.StdEncoding.EncodeToString(content)
	body := []byte(`{"data":{"ok":"true","file_content":"` + encoded + `","attachment_id":"a","conversation_id":"c"},"meta":{"ruid":"R"},"errors":[],"warnings":[]}`)
	a := &answer{status: 200, header: http.Header{}, body: body}
	b.Run("fast path", func(b *testing.B) {
		b.SetBytes(MaxRangeBytes)
		b.ReportAllocs()
		for b.Loop() {
			got, _, err := decodeRangeAnswer(a)
			if err != nil || len(got.bytes) != MaxRangeBytes {
				b.Fatal(err)
			}
			got.release()
		}
	})
	b.Run("encoding/json", func(b *testing.B) {
		b.SetBytes(MaxRangeBytes)
		b.ReportAllocs()
		for b.Loop() {
			var out rangeData
			if _, err := decodeResponse(OpDownload, a, &out); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("base64 alone", func(b *testing.B) {
		dst := make([]byte, MaxRangeBytes)
		b.SetBytes(MaxRangeBytes)
		b.ReportAllocs()
		for b.Loop() {
			base64.StdEncoding.Decode(dst, []byte(encoded))
		}
	})
}
