package sandbox_test

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/booking-attachment-gateway/gateway/bookingapi/sandbox"
)

// This example exchanges the default credentials for a token, uploads a
// small PNG and reads its metadata back.
func Example() {
	srv := httptest.NewServer(sandbox.New(sandbox.Options{}))
	defer srv.Close()

	post := func(path, token, body string) *http.Response {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			panic(err)
		}
		return resp
	}

	resp := post("/token-based-authentication/exchange", "",
		`{"client_id": "sandbox-client", "client_secret": "sandbox-secret"}`)
	var tok struct{ JWT string }
	json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()

	png := []byte("\x89PNG\r\n\x1a\n" + "not really an image")
	resp = post("/messaging/properties/1234/conversations/c1/attachments", tok.JWT, fmt.Sprintf(
		`{"attachment": {"file_name": "a.png", "file_type": "image/png", "file_size": %d, "file_content": %q}}`,
		len(png), base64.StdEncoding.EncodeToString(png)))
	var uploaded struct {
		Data struct {
			OK           string `json:"ok"`
			AttachmentID string `json:"attachment_id"`
		} `json:"data"`
	}
	json.NewDecoder(resp.Body).Decode(&uploaded)
	resp.Body.Close()
	fmt.Println("upload:", resp.StatusCode, uploaded.Data.OK)

	req, _ := http.NewRequest(http.MethodGet,
		srv.URL+"/messaging/properties/1234/conversations/c1/attachments/"+uploaded.Data.AttachmentID+"/file_info", nil)
	req.Header.Set("Authorization", "Bearer "+tok.JWT)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		panic(err)
	}
	var info struct {
		Data json.RawMessage `json:"data"`
	}
	json.NewDecoder(resp.Body).Decode(&info)
	resp.Body.Close()
	fmt.Println("file_info:", resp.StatusCode, string(info.Data))

	// Output:
	// upload: 200 true
	// file_info: 200 {"file_type":"image/png","file_name":"a.png","file_size":27}
}
