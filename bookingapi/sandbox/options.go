package sandbox

import "time"

// DefaultClientID and DefaultClientSecret are the credentials the token
// exchange accepts when Options leaves ClientID and ClientSecret empty.
const (
	DefaultClientID     = "sandbox-client"
	DefaultClientSecret = "sandbox-secret"
)

const (
	defaultMegabyteBytes  = 1_000_000
	defaultMaxStoredBytes = 512 << 20
	defaultTokenTTL       = time.Hour

	// maxBodyBytes caps every request body; a larger body gets 413.
	maxBodyBytes = 32 << 20

	// maxContentBytes caps a message's content, in bytes of UTF-8. Booking
	// documents no limit; 64 KiB is far more than a message to a guest
	// needs.
	maxContentBytes = 64 << 10

	// uploadTTL is how long an unfinished chunked upload lives after its
	// start. Booking does not document it; an hour is the token lifetime.
	uploadTTL = time.Hour

	// abandonedAfter is how long a superseded upload (see upload) may go
	// without a chunk before it may be evicted to make room.
	abandonedAfter = time.Minute
)

// Options configure a Server. Zero values give the defaults documented on
// each field.
type Options struct {
	// MegabyteBytes is what Booking means by "1MB" in its size limits, in
	// decoded bytes: 1_000_000 (the default when 0 or negative) or
	// 1_048_576. Any other positive value is used as given, which lets
	// tests work with small files.
	MegabyteBytes int64

	// InclusiveTo makes download's `to` query parameter inclusive (bytes
	// from..to). By default it is exclusive (bytes from..to-1).
	InclusiveTo bool

	// MaxStoredBytes caps the decoded bytes held in memory: finished
	// attachments plus the chunks of unfinished chunked uploads. A request
	// that would go over it gets 507, after expired and abandoned uploads
	// are dropped; uploads in flight never are. Posted messages are not
	// counted. Zero or negative means 512 MiB.
	MaxStoredBytes int64

	// ClientID and ClientSecret are the credentials the token exchange
	// accepts. Empty means DefaultClientID and DefaultClientSecret.
	ClientID, ClientSecret string

	// TokenTTL is how long an issued token is accepted. Zero or negative
	// means one hour, as at Booking.
	TokenTTL time.Duration

	// DeniedPropertyIDs lists properties this account may not access:
	// every messaging call on them gets 403 "This account doesn't have
	// access to this property".
	DeniedPropertyIDs []int64

	// BooleanOK sends data.ok as the JSON boolean true. By default it is
	// the string "true", as in Booking's examples (its tables say boolean).
	BooleanOK bool

	// Now is the clock used for token expiry, upload expiry and how long
	// an upload has gone without a chunk. Nil means time.Now.
	Now func() time.Time
}

// withDefaults returns o with every zero value replaced by its default.
func (o Options) withDefaults() Options {
	if o.MegabyteBytes <= 0 {
		o.MegabyteBytes = defaultMegabyteBytes
	}
	if o.MaxStoredBytes <= 0 {
		o.MaxStoredBytes = defaultMaxStoredBytes
	}
	if o.ClientID == "" {
		o.ClientID = DefaultClientID
	}
	if o.ClientSecret == "" {
		o.ClientSecret = DefaultClientSecret
	}
	if o.TokenTTL <= 0 {
		o.TokenTTL = defaultTokenTTL
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	return o
}
