package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	attachmentsv1 "github.com/booking-attachment-gateway/gateway/gen/attachments/v1"
	"github.com/booking-attachment-gateway/gateway/service/client"
)

// upload is attachctl upload FILE.
func upload(s *session, args []string) error {
	fs := s.newFlags("FILE ", 1)
	name := fs.String("name", "", "the file name the guest sees (default: FILE's base name)")
	fileType := fs.String("type", "", "image/jpeg or image/png (default: detected from the bytes)")
	message := fs.String("message", "", "post this text to the guest with the image, in the same call")
	requestID := fs.String("request-id", "", "make the call safe to repeat: up to 64 of A-Za-z0-9._- (a UUID, say)")
	if err := s.parse(args); err != nil {
		return err
	}
	path := s.positional[0]
	var r io.Reader = s.stdin
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		r = f
		if *name == "" {
			*name = filepath.Base(path)
		}
	}
	if *name == "" {
		return badUsage("--name is required when the file comes from standard input")
	}
	c, ctx, err := s.connect()
	if err != nil {
		return err
	}
	defer s.close()
	file := client.File{Name: *name, Type: *fileType}
	if f, ok := r.(*os.File); ok {
		if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
			file.Size = st.Size() // the bar knows its end before the hash
		}
	}
	bar := s.newProgress("upload "+*name, file.Size)
	up, err := c.Upload(ctx, s.conversation(), file, r, client.UploadOptions{
		MessageContent: *message,
		RequestID:      *requestID,
		Progress:       bar.set,
	})
	if err != nil {
		return err
	}
	bar.finish()
	if s.jsonOut {
		return s.printJSON(&attachmentsv1.UploadAttachmentResponse{
			AttachmentId: up.AttachmentID,
			MessageId:    up.MessageID,
			Sha256:       up.SHA256,
			Info:         &attachmentsv1.AttachmentInfo{FileName: up.Info.Name, FileType: up.Info.Type, FileSize: up.Info.Size},
		})
	}
	fmt.Fprintln(s.stdout, up.AttachmentID)
	if up.MessageID != "" {
		fmt.Fprintln(s.stdout, up.MessageID)
	}
	return nil
}

// download is attachctl download ATTACHMENT_ID -o FILE.
func download(s *session, args []string) error {
	fs := s.newFlags("ATTACHMENT_ID ", 1)
	out := fs.String("o", "", "the file to write (- for standard output); required")
	offset := fs.Int64("offset", 0, "the first byte to read")
	limit := fs.Int64("limit", 0, "the most bytes to read (default: to the end)")
	resume := fs.Bool("continue", false, "resume into a partial FILE: read from its end, append, and check its size")
	if err := s.parse(args); err != nil {
		return err
	}
	switch {
	case *out == "":
		return badUsage("-o FILE is required (- for standard output)")
	case *resume && *out == "-":
		return badUsage("--continue needs -o FILE, not standard output")
	case *resume && (*offset != 0 || *limit != 0):
		return badUsage("--continue reads from the file's end: it takes no --offset or --limit")
	}
	var w io.Writer = s.stdout
	var file *os.File
	if *out != "-" {
		mode := os.O_WRONLY | os.O_CREATE | os.O_TRUNC
		if *resume {
			mode = os.O_WRONLY | os.O_CREATE | os.O_APPEND
		}
		f, err := os.OpenFile(*out, mode, 0o644)
		if err != nil {
			return err
		}
		defer f.Close()
		if *resume {
			st, err := f.Stat()
			if err != nil {
				return err
			}
			*offset = st.Size()
		}
		w, file = f, f
	}
	c, ctx, err := s.connect()
	if err != nil {
		return err
	}
	defer s.close()
	bar := s.newProgress("download "+s.positional[0], 0)
	info, _, err := c.Download(ctx, s.ref(s.positional[0]), w, client.DownloadOptions{
		Offset: *offset, Limit: *limit, Progress: bar.set,
	})
	if err != nil {
		return err
	}
	bar.finish()
	if file != nil {
		if err := file.Sync(); err != nil {
			return err
		}
		if st, err := file.Stat(); err == nil && *limit == 0 && *resume && st.Size() != info.Size {
			return fmt.Errorf("%s has %d bytes, but the attachment has %d", *out, st.Size(), info.Size)
		}
	}
	if s.jsonOut && *out != "-" {
		return s.printJSON(&attachmentsv1.AttachmentInfo{FileName: info.Name, FileType: info.Type, FileSize: info.Size})
	}
	return nil
}

// info is attachctl info ATTACHMENT_ID.
func info(s *session, args []string) error {
	s.newFlags("ATTACHMENT_ID ", 1)
	if err := s.parse(args); err != nil {
		return err
	}
	c, ctx, err := s.connect()
	if err != nil {
		return err
	}
	defer s.close()
	i, err := c.GetInfo(ctx, s.ref(s.positional[0]))
	if err != nil {
		return err
	}
	if s.jsonOut {
		return s.printJSON(&attachmentsv1.AttachmentInfo{FileName: i.Name, FileType: i.Type, FileSize: i.Size})
	}
	fmt.Fprintf(s.stdout, "file_name: %s\nfile_type: %s\nfile_size: %d\n", i.Name, i.Type, i.Size)
	return nil
}

// send is attachctl send --text TEXT [--attachment ID]....
func send(s *session, args []string) error {
	fs := s.newFlags("", 0)
	text := fs.String("text", "", "the message's text; required")
	var attachments repeated
	fs.Var(&attachments, "attachment", "an attachment to show with the message; repeat for more")
	requestID := fs.String("request-id", "", "make the call safe to repeat: up to 64 of A-Za-z0-9._- (a UUID, say)")
	if err := s.parse(args); err != nil {
		return err
	}
	if *text == "" {
		return badUsage("--text is required")
	}
	c, ctx, err := s.connect()
	if err != nil {
		return err
	}
	defer s.close()
	id, err := c.SendMessage(ctx, s.conversation(), client.Message{Content: *text, AttachmentIDs: attachments, RequestID: *requestID})
	if err != nil {
		return err
	}
	if s.jsonOut {
		return s.printJSON(&attachmentsv1.SendMessageResponse{MessageId: id})
	}
	_, err = fmt.Fprintln(s.stdout, id)
	return err
}

// repeated is a flag that may be given more than once.
type repeated []string

func (r *repeated) String() string { return fmt.Sprint(*r) }

func (r *repeated) Set(v string) error {
	if v == "" {
		return errors.New("an empty value")
	}
	*r = append(*r, v)
	return nil
}
