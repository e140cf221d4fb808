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
// Network errors, 429 and 5xx answers are retried with exponential backoff
// and full jitter, a bounded number of times, waiting at least as long as a
// Retry-After header asks. Other 4xx answers are final. A failed chunk
// restarts the chunked upload from start, as Booking's reference asks, from
// the bytes the [Uploader] still holds. A 401 makes the client exchange its
// credentials for a new token once and send the request again.
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
