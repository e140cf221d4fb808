package sandbox

import (
	"bytes"
	"slices"
	"sync"
	"time"
)

// File is a stored attachment.
type File struct {
	Name    string // file_name
	Type    string // file_type: image/jpeg or image/png
	Content []byte // the decoded bytes
}

// Attachment returns the attachment stored under the given ids, for tests
// to compare bytes. The returned Content is a copy.
func (s *Server) Attachment(propertyID int64, conversationID, attachmentID string) (File, bool) {
	f, ok := s.store.attachment(attachmentKey{propertyID, conversationID, attachmentID})
	if ok {
		f.Content = bytes.Clone(f.Content)
	}
	return f, ok
}

// AttachmentIDs returns the ids of the attachments stored in a
// conversation, sorted. Tests count them to find attachments a client
// committed twice, for instance after an answer was lost.
func (s *Server) AttachmentIDs(propertyID int64, conversationID string) []string {
	return s.store.attachmentIDs(propertyID, conversationID)
}

type attachmentKey struct {
	propertyID     int64
	conversationID string
	attachmentID   string
}

type conversationKey struct {
	propertyID     int64
	conversationID string
}

type uploadKey struct {
	propertyID     int64
	conversationID string
	uploadID       string
}

// upload is an unfinished chunked upload.
type upload struct {
	name, fileType string
	size           int64    // file_size declared with start
	received       int64    // bytes accepted so far
	next           int64    // the chunk_number expected next
	chunks         [][]byte // accepted chunks, in order
	started        time.Time
	lastChunk      time.Time // when the last chunk was accepted

	// superseded is set when a later start for the same file arrives in
	// the same conversation: the client may have given this one up, or
	// may be sending both at once.
	superseded bool
}

// expired reports whether u has outlived uploadTTL at now.
func (u *upload) expired(now time.Time) bool {
	return !now.Before(u.started.Add(uploadTTL))
}

// abandoned reports whether u is superseded and has had no chunk for
// abandonedAfter at now: its client has clearly started over.
func (u *upload) abandoned(now time.Time) bool {
	return u.superseded && !now.Before(u.lastChunk.Add(abandonedAfter))
}

// store holds attachments and unfinished uploads within a cap on their
// decoded bytes. It is safe for concurrent use.
type store struct {
	now func() time.Time

	mu          sync.Mutex
	maxBytes    int64
	usedBytes   int64
	attachments map[attachmentKey]File
	uploads     map[uploadKey]*upload

	// messages holds each conversation's posted messages in posting
	// order. They are small, and not counted against maxBytes.
	messages map[conversationKey][]Message
}

func newStore(maxBytes int64, now func() time.Time) *store {
	return &store{
		now:         now,
		maxBytes:    maxBytes,
		attachments: make(map[attachmentKey]File),
		uploads:     make(map[uploadKey]*upload),
		messages:    make(map[conversationKey][]Message),
	}
}

func (st *store) attachment(k attachmentKey) (File, bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	f, ok := st.attachments[k]
	return f, ok
}

func (st *store) attachmentIDs(propertyID int64, conversationID string) []string {
	st.mu.Lock()
	defer st.mu.Unlock()
	var ids []string
	for k := range st.attachments {
		if k.propertyID == propertyID && k.conversationID == conversationID {
			ids = append(ids, k.attachmentID)
		}
	}
	slices.Sort(ids)
	return ids
}

// addAttachment stores f in a conversation and returns its new id.
func (st *store) addAttachment(propertyID int64, conversationID string, f File) (string, *apiError) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if err := st.reserve(int64(len(f.Content)), uploadKey{}); err != nil {
		return "", err
	}
	id := newUUID()
	st.attachments[attachmentKey{propertyID, conversationID, id}] = f
	return id, nil
}

// startUpload stores u, whose first chunk is in u.chunks, and returns its
// new upload id.
func (st *store) startUpload(propertyID int64, conversationID string, u *upload) (string, *apiError) {
	st.mu.Lock()
	defer st.mu.Unlock()
	// Mark older starts of the same file first, so that this start may
	// evict those that are abandoned.
	for k, other := range st.uploads {
		if k.propertyID == propertyID && k.conversationID == conversationID &&
			other.name == u.name && other.fileType == u.fileType && other.size == u.size {
			other.superseded = true
		}
	}
	if err := st.reserve(u.received, uploadKey{}); err != nil {
		return "", err
	}
	u.started = st.now()
	u.lastChunk = u.started
	id := newUUID()
	st.uploads[uploadKey{propertyID, conversationID, id}] = u
	return id, nil
}

// continueUpload adds chunk to the upload k after check has accepted it;
// check sees the upload as it is before the chunk. If finish is set, the
// upload becomes an attachment whose new id is returned, and k is
// forgotten. A rejected chunk leaves the upload as it was.
func (st *store) continueUpload(k uploadKey, chunk []byte, finish bool, check func(*upload) *apiError) (attachmentID string, err *apiError) {
	st.mu.Lock()
	defer st.mu.Unlock()
	u, ok := st.uploads[k]
	switch {
	case !ok:
		return "", badRequest("attachment.upload_id %q is unknown in this conversation: "+
			"it was never started here, has finished, or was dropped; start again with action start", k.uploadID)
	case u.expired(st.now()):
		st.drop(k)
		return "", badRequest("attachment.upload_id %q has expired: unfinished uploads are dropped "+
			"%v after their start; start again with action start", k.uploadID, uploadTTL)
	}
	if err := check(u); err != nil {
		return "", err
	}
	if err := st.reserve(int64(len(chunk)), k); err != nil {
		return "", err
	}
	u.chunks = append(u.chunks, chunk)
	u.received += int64(len(chunk))
	u.next++
	u.lastChunk = st.now()
	if !finish {
		return "", nil
	}
	delete(st.uploads, k) // its bytes now belong to the attachment
	attachmentID = newUUID()
	st.attachments[attachmentKey{k.propertyID, k.conversationID, attachmentID}] = File{
		Name:    u.name,
		Type:    u.fileType,
		Content: bytes.Join(u.chunks, nil),
	}
	return attachmentID, nil
}

// postMessage stores m, with a new id that it returns, after checking that
// each of its attachments is stored in the conversation.
func (st *store) postMessage(propertyID int64, conversationID string, m Message) (string, *apiError) {
	st.mu.Lock()
	defer st.mu.Unlock()
	for i, id := range m.AttachmentIDs {
		if _, ok := st.attachments[attachmentKey{propertyID, conversationID, id}]; !ok {
			return "", badRequest("message.attachment_ids[%d] %q is not an attachment of conversation %q of property %d: "+
				"upload it to this conversation first", i, id, conversationID, propertyID)
		}
	}
	m.ID = newUUID()
	k := conversationKey{propertyID, conversationID}
	st.messages[k] = append(st.messages[k], m)
	return m.ID, nil
}

// conversationMessages returns copies of a conversation's messages.
func (st *store) conversationMessages(propertyID int64, conversationID string) []Message {
	st.mu.Lock()
	defer st.mu.Unlock()
	ms := slices.Clone(st.messages[conversationKey{propertyID, conversationID}])
	for i := range ms {
		ms[i].AttachmentIDs = slices.Clone(ms[i].AttachmentIDs)
	}
	return ms
}
