package bookingapi

import "encoding/base64"

// heldFile keeps the bytes of an upload, cut into chunks of MaxChunkBytes,
// as segments: slices that a caller handed over with take, which are kept
// as they are, and buffers of its own that write copies into. A file is
// held once, however it arrives.
type heldFile struct {
	chunks []heldChunk
	size   int64
}

// heldChunk is one chunk: its segments in order, n bytes in all.
type heldChunk struct {
	segments [][]byte
	n        int
	// tail tells that the last segment is a buffer of the heldFile's own,
	// which write may fill up to its capacity.
	tail bool
}

// smallTake is the largest slice that take copies rather than keeps, so
// that a file handed over in tiny pieces does not become as many segments.
const smallTake = 4096

// last returns the chunk that the next byte goes to.
func (f *heldFile) last() *heldChunk {
	if len(f.chunks) == 0 || f.chunks[len(f.chunks)-1].n == MaxChunkBytes {
		f.chunks = append(f.chunks, heldChunk{})
	}
	return &f.chunks[len(f.chunks)-1]
}

// take keeps p itself as the file's next bytes. The caller must not change
// p afterwards.
func (f *heldFile) take(p []byte) {
	for len(p) > 0 {
		c := f.last()
		n := min(len(p), MaxChunkBytes-c.n)
		// The capacity is cut so that write never appends into p's array.
		c.segments = append(c.segments, p[:n:n])
		c.n += n
		c.tail = false
		f.size += int64(n)
		p = p[n:]
	}
}

// write copies p as the file's next bytes, into buffers of its own. When a
// new buffer is needed, capacity (given the room left in the chunk and the
// bytes to come) says how large it is; it may fail, and then write stops.
func (f *heldFile) write(p []byte, capacity func(room, need int) (int, error)) error {
	for len(p) > 0 {
		c := f.last()
		var seg []byte
		if c.tail {
			seg = c.segments[len(c.segments)-1]
		}
		if len(seg) == cap(seg) {
			room := MaxChunkBytes - c.n
			size, err := capacity(room, min(len(p), room))
			if err != nil {
				return err
			}
			seg = make([]byte, 0, size)
			c.segments = append(c.segments, seg)
			c.tail = true
		}
		n := min(len(p), MaxChunkBytes-c.n, cap(seg)-len(seg))
		seg = append(seg, p[:n]...)
		c.segments[len(c.segments)-1] = seg
		c.n += n
		f.size += int64(n)
		p = p[n:]
	}
	return nil
}

// bytes returns the whole file in one slice, copying it unless it is one
// segment.
func (f *heldFile) bytes() []byte {
	if len(f.chunks) == 1 && len(f.chunks[0].segments) == 1 {
		return f.chunks[0].segments[0]
	}
	out := make([]byte, 0, f.size)
	for _, c := range f.chunks {
		for _, s := range c.segments {
			out = append(out, s...)
		}
	}
	return out
}

// encodeBase64 writes the standard base64 of the concatenated segments to
// dst, which has room for it, and returns the bytes written. A group of
// three bytes that straddles two segments is encoded from a copy.
func encodeBase64(dst []byte, segments [][]byte) int {
	var carry [3]byte
	carried, written := 0, 0
	for _, s := range segments {
		if carried > 0 {
			n := copy(carry[carried:], s)
			carried += n
			s = s[n:]
			if carried < 3 {
				continue
			}
			base64.StdEncoding.Encode(dst[written:], carry[:])
			written += 4
			carried = 0
		}
		whole := len(s) / 3 * 3
		base64.StdEncoding.Encode(dst[written:], s[:whole])
		written += whole / 3 * 4
		carried = copy(carry[:], s[whole:])
	}
	if carried > 0 {
		base64.StdEncoding.Encode(dst[written:], carry[:carried])
		written += 4
	}
	return written
}
