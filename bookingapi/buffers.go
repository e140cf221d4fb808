package bookingapi

// bufferPool keeps up to a fixed number of free buffers of one size for
// reuse. Unlike a sync.Pool, which keeps what it is given until the garbage
// collector runs, it holds no more than its capacity, so that the memory it
// keeps outside every reservation stays small and known. Safe for
// concurrent use.
type bufferPool struct {
	size int // capacity of the buffers it makes
	free chan []byte
}

func newBufferPool(size, keep int) *bufferPool {
	return &bufferPool{size: size, free: make(chan []byte, keep)}
}

// fits reports whether a buffer of n bytes is one to take from the pool:
// one near its size, not a small one that would hold a large buffer.
func (p *bufferPool) fits(n int) bool { return n > p.size/2 && n <= p.size }

// get returns an empty buffer of at least the pool's size.
func (p *bufferPool) get() []byte {
	select {
	case b := <-p.free:
		return b
	default:
		return make([]byte, 0, p.size)
	}
}

// put keeps b for reuse if there is room, and leaves it to the garbage
// collector otherwise.
func (p *bufferPool) put(b []byte) {
	if cap(b) < p.size {
		return
	}
	select {
	case p.free <- b[:0]:
	default:
	}
}
