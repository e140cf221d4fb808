package bookingapi_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log"
	"net/http/httptest"

	"github.com/booking-attachment-gateway/gateway/bookingapi"
	"github.com/booking-attachment-gateway/gateway/bookingapi/sandbox"
)

// A 1×1 grey PNG image.
var tinyPNG = []byte{
	0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d,
	0x49, 0x48, 0x44, 0x52, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01,
	0x08, 0x00, 0x00, 0x00, 0x00, 0x3a, 0x7e, 0x9b, 0x55, 0x00, 0x00, 0x00,
	0x0e, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x62, 0x3a, 0x01, 0x08, 0x00,
	0x00, 0xff, 0xff, 0x00, 0xce, 0x00, 0xcb, 0x3b, 0x58, 0x70, 0x9f, 0x00,
	0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
}

// This example uploads an image to a conversation, reads its metadata and
// downloads it again. It talks to the in-process sandbox; against Booking,
// leave BaseURL and AuthURL empty and give the machine account's credentials.
func ExampleClient() {
	srv := httptest.NewServer(sandbox.New(sandbox.Options{}))
	defer srv.Close()

	client, err := bookingapi.New(bookingapi.Config{
		BaseURL:      srv.URL,
		AuthURL:      srv.URL + "/token-based-authentication/exchange",
		ClientID:     sandbox.DefaultClientID,
		ClientSecret: sandbox.DefaultClientSecret,
	})
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	conv := bookingapi.Conversation{PropertyID: 1234, ConversationID: "conv-42"}

	// Upload: write the bytes, then Close commits the attachment.
	up, err := client.NewUploader(ctx, conv, bookingapi.FileHeader{
		Name: "pixel.png",
		Type: "image/png",
		Size: int64(len(tinyPNG)),
	})
	if err != nil {
		log.Fatal(err)
	}
	if _, err := up.Write(tinyPNG); err != nil {
		up.Close() // Close even after a failed Write.
		log.Fatal(err)
	}
	attachment, err := up.Close()
	if err != nil {
		log.Fatal(err)
	}

	ref := bookingapi.AttachmentRef{
		PropertyID:     conv.PropertyID,
		ConversationID: conv.ConversationID,
		AttachmentID:   attachment.ID,
	}
	info, err := client.FileInfo(ctx, ref)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s: %s, %d bytes\n", info.Name, info.Type, info.Size)

	// Download the whole file: from offset 0, info.Size bytes.
	var downloaded bytes.Buffer
	r, err := client.NewReader(ctx, ref, info.Size, 0, info.Size)
	if err != nil {
		log.Fatal(err)
	}
	defer r.Close()
	if _, err := io.Copy(&downloaded, r); err != nil {
		log.Fatal(err)
	}
	fmt.Println("same bytes:", bytes.Equal(downloaded.Bytes(), tinyPNG))
	// Output:
	// pixel.png: image/png, 71 bytes
	// same bytes: true
}
