// Package bookingapi is a client for the part of Booking.com's Messaging API
// that handles attachments: the token exchange, the single upload, the
// chunked upload, byte-range downloads and file_info. It knows HTTP and JSON
// and nothing of gRPC.
//
// A [Client] is safe for concurrent use and shares one cached access token
// among all its calls.
//
// # The protocol subset
//
// Booking accepts JPEG and PNG images. A file of up to "1MB" goes in one POST
// (attachments); a larger one, up to "10MB", goes in chunks (attachment_chunks)
// with the actions start, resume and finish, the upload_id that start returned,
// and chunk numbers counting up from 0. Every request body carries the file's
// bytes in standard base64. Downloads are GETs with optional from and to query
// parameters; file_info returns the name, type and size.
//
// # What "1MB" means
//
// Booking's reference does not say whether 1MB is 1,000,000 or 1,048,576
// bytes. This package is right under both readings: every single upload and
// every chunk carries at most [MaxChunkBytes] (1,000,000) decoded bytes, and a
// file of at most 1,000,000 bytes goes by single POST. A file above that goes
// by chunks; if Booking rejects the chunked start with a 400 and the file is
// at most [BinaryMegabyteBytes], it goes by single POST instead, since Booking
// then evidently counts in binary megabytes. Files above [MaxFileBytes]
// (10 MiB) are refused locally; between 10,000,000 and 10,485,760 bytes,
// Booking decides.
//
// Whether download's to parameter is inclusive is not documented either. The
// [Reader] never depends on it: it asks for at most 1,000,000 bytes whichever
// way to is read, advances by the bytes that actually came back, and checks
// the total against file_info.
//
// # Retries
//
// Every failed request is classified by what Booking may have done with it
// ([Outcome]): not sent, refused (429, 503, 507), maybe processed (a lost or
// cut-off answer, a timeout, 500, 502, 504) or final (other 4xx, ok: false).
// Whether it may be sent again is a property of the request: GETs, the
// token exchange and the chunks that do not commit (start, resume) are sent
// again after any but a final failure; so are commits (the single upload,
// finish), whose repeat after a lost answer may leave an orphan attachment
// that is reported to the Observer and logged. A failed chunk restarts the
// chunked upload from start, as Booking's reference asks, from the bytes the
// [Uploader] still holds. A 401 makes the client exchange its credentials
// for a new token once and send the request again.
//
// Retries back off exponentially with full jitter, a bounded number of
// times, waiting at least as long as a Retry-After header asks; a longer
// Retry-After than [RetryPolicy].MaxDelay, or one past the deadline, fails
// the request at once with the wait in [Error].RetryAfter. A retry budget
// shared by all calls keeps an outage of Booking from multiplying its load.
// Each attempt waits at most [Config].ResponseTimeout for the headers and
// again for the body; each request with its retries at most
// [Config].RequestTimeout; at most [Config].MaxInFlight requests are in
// flight at once.
//
// # Errors
//
// Every failure caused by Booking's answer, or by its absence, is an [*Error]
// carrying the call, the HTTP status, Booking's own error text and the ruid
// that Booking's support asks for. Its [Kind] tells what the caller can do
// about it. Mistakes in the data given to an Uploader are reported with
// [ErrFileTooLarge], [ErrSizeMismatch] and [ErrEmptyFile] before anything is
// sent. Error texts never contain the client secret or a token.
package bookingapi
