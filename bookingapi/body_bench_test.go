package bookingapi

import (
	"encoding/json"
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
