package sandbox

import (
	"fmt"
	"net/http"
	"slices"
)

// reserve accounts for n more bytes, freeing memory if needed by dropping
// uploads that no client is sending any more (expired or abandoned ones),
// never keep. It returns 507 if that is not enough. st.mu must be held.
func (st *store) reserve(n int64, keep uploadKey) *apiError {
	if st.usedBytes+n > st.maxBytes {
		st.evict(n, keep)
	}
	if st.usedBytes+n > st.maxBytes {
		return st.full(n)
	}
	st.usedBytes += n
	return nil
}

// evict drops every expired upload, then abandoned uploads, longest idle
// first, until n more bytes fit in the cap; it never drops keep. An upload
// in flight is never dropped: one that two clients of the same file send
// at once would otherwise be lost to the other, and its client would get
// a 400 for an upload_id that looks like its own mistake. st.mu must be
// held.
func (st *store) evict(n int64, keep uploadKey) {
	now := st.now()
	var abandoned []uploadKey
	for k, u := range st.uploads {
		switch {
		case k == keep:
		case u.expired(now):
			st.drop(k)
		case u.abandoned(now):
			abandoned = append(abandoned, k)
		}
	}
	slices.SortFunc(abandoned, func(a, b uploadKey) int {
		return st.uploads[a].lastChunk.Compare(st.uploads[b].lastChunk)
	})
	for _, k := range abandoned {
		if st.usedBytes+n <= st.maxBytes {
			break
		}
		st.drop(k)
	}
}

// drop forgets the upload k and frees its bytes. st.mu must be held.
func (st *store) drop(k uploadKey) {
	st.usedBytes -= st.uploads[k].received
	delete(st.uploads, k)
}

// full returns the 507 for a request that needs n more bytes than fit.
// st.mu must be held.
func (st *store) full(n int64) *apiError {
	var uploadBytes int64
	for _, u := range st.uploads {
		uploadBytes += u.received
	}
	return errorf(http.StatusInsufficientStorage,
		"insufficient storage: the sandbox's memory (MaxStoredBytes, %d bytes) is full: "+
			"%d bytes are held by %s and %d by %s, and this request needs %d more; "+
			"uploads in flight are never evicted, so try again later",
		st.maxBytes, uploadBytes, plural(len(st.uploads), "unfinished upload"),
		st.usedBytes-uploadBytes, plural(len(st.attachments), "attachment"), n)
}

// plural returns n and noun, with an s unless n is 1.
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
