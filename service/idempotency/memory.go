package idempotency

import (
	"context"
	"sync"
	"time"
)

// Defaults of MemoryOptions.
const (
	DefaultTTL        = 24 * time.Hour
	DefaultMaxRecords = 100_000
)

// MemoryOptions configure a Memory store. Zero values give the defaults
// documented on each field.
type MemoryOptions struct {
	// TTL is how long a record lives after its call finished (or, for a
	// call still running, after its claim). 0 means DefaultTTL.
	TTL time.Duration
	// MaxRecords bounds the records held, running ones included; when they
	// are all live, Claim fails with ErrFull rather than forget one whose
	// repeat would do the work twice. 0 means DefaultMaxRecords.
	MaxRecords int
	// Now is the clock. Nil means time.Now.
	Now func() time.Time
}

// Memory is a Store in the process's memory, for a single replica.
type Memory struct {
	ttl time.Duration
	max int
	now func() time.Time

	mu      sync.Mutex
	records map[string]*memoryRecord
	// expiries lists keys in the order their records expire: all live
	// ttl, so the order of claims and finishes is that of expiry. An entry
	// whose record has since been released, finished or claimed anew is
	// stale, and skipped.
	expiries []expiry
}

type memoryRecord struct {
	Record
	expires time.Time
	done    chan struct{} // closed when the call finishes or is released
}

type expiry struct {
	key string
	at  time.Time
}

var _ Store = (*Memory)(nil)

// NewMemory returns an empty Memory store.
func NewMemory(opts MemoryOptions) *Memory {
	if opts.TTL <= 0 {
		opts.TTL = DefaultTTL
	}
	if opts.MaxRecords <= 0 {
		opts.MaxRecords = DefaultMaxRecords
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Memory{ttl: opts.TTL, max: opts.MaxRecords, now: opts.Now, records: make(map[string]*memoryRecord)}
}

// Claim implements Store.
func (m *Memory) Claim(_ context.Context, key, fingerprint string) (Record, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	m.expire(now)
	if r, ok := m.records[key]; ok {
		return r.Record, false, nil
	}
	if len(m.records) >= m.max {
		return Record{}, false, ErrFull
	}
	r := &memoryRecord{Record: Record{Fingerprint: fingerprint}, done: make(chan struct{})}
	m.keep(key, r, now)
	return r.Record, true, nil
}

// Finish implements Store.
func (m *Memory) Finish(_ context.Context, key string, rec Record) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.records[key]
	if !ok || r.Done {
		return nil // expired while running, or finished twice: nothing to keep
	}
	r.Record = rec
	r.Done = true
	m.keep(key, r, m.now())
	close(r.done)
	return nil
}

// Release implements Store.
func (m *Memory) Release(_ context.Context, key string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if r, ok := m.records[key]; ok && !r.Done {
		delete(m.records, key)
		close(r.done)
	}
	return nil
}

// Wait implements Store.
func (m *Memory) Wait(ctx context.Context, key string) (Record, bool, error) {
	for {
		m.mu.Lock()
		m.expire(m.now())
		r, ok := m.records[key]
		var rec Record
		var done chan struct{}
		if ok {
			rec, done = r.Record, r.done
		}
		m.mu.Unlock()
		switch {
		case !ok:
			return Record{}, false, nil
		case rec.Done:
			return rec, true, nil
		}
		select {
		case <-done:
		case <-ctx.Done():
			return Record{}, false, ctx.Err()
		}
	}
}

// keep sets r's expiry from now and stores it. m.mu must be held.
func (m *Memory) keep(key string, r *memoryRecord, now time.Time) {
	r.expires = now.Add(m.ttl)
	m.records[key] = r
	m.expiries = append(m.expiries, expiry{key: key, at: r.expires})
}

// expire forgets the records that have expired at now. m.mu must be held.
func (m *Memory) expire(now time.Time) {
	n := 0
	for ; n < len(m.expiries) && !m.expiries[n].at.After(now); n++ {
		e := m.expiries[n]
		if r, ok := m.records[e.key]; ok && r.expires.Equal(e.at) {
			delete(m.records, e.key)
			if !r.Done {
				close(r.done)
			}
		}
	}
	m.expiries = m.expiries[n:]
	// Stale entries (of released keys, of claims since finished) wait for
	// their time; drop them when they outnumber the records.
	if len(m.expiries) > 2*len(m.records)+64 {
		live := m.expiries[:0]
		for _, e := range m.expiries {
			if r, ok := m.records[e.key]; ok && r.expires.Equal(e.at) {
				live = append(live, e)
			}
		}
		clear(m.expiries[len(live):])
		m.expiries = live
	}
}
