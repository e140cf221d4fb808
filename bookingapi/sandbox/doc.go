// Package sandbox emulates, in process, the parts of Booking.com's APIs
// that the gateway uses: the token exchange and the Messaging API's four
// attachment endpoints. A Server is an http.Handler: tests serve it with
// httptest.NewServer, and the gateway's --sandbox flag serves it on
// 127.0.0.1.
//
// The emulation follows Booking's reference for the attachment endpoints
// (single upload, chunked upload, download, file_info) and its
// token-based authentication page. Its purpose is to be strict: a client
// that passes against the sandbox should pass against Booking, so the
// sandbox rejects every mistake it can detect, and where Booking's
// documentation is ambiguous it either takes the stricter reading or lets
// the test choose (see Options).
//
// # Endpoints
//
//	POST /token-based-authentication/exchange
//	POST /messaging/properties/{property_id}/conversations/{conversation_id}/attachments
//	POST /messaging/properties/{property_id}/conversations/{conversation_id}/attachment_chunks
//	GET  /messaging/properties/{property_id}/conversations/{conversation_id}/attachments/{attachment_id}
//	GET  /messaging/properties/{property_id}/conversations/{conversation_id}/attachments/{attachment_id}/file_info
//
// The token exchange takes {"client_id", "client_secret"} and answers
// {"jwt", "ruid"}. Every other answer, errors included, is Booking's
// envelope:
//
//	{"data": {...} | null, "errors": [{"code": 400, "message": "..."}], "warnings": [], "meta": {"ruid": "..."}}
//
// with a fresh ruid each time; data is null on errors, and each error
// message says exactly what was wrong. Any other path answers 404 and any
// other method on a known path 405, in the same envelope.
//
// # What is strict
//
// Each messaging request goes through these checks, in this order, and
// the first that fails is the answer:
//
//   - Injected faults (see Fault), which fire before any check; a
//     Processed fault lets the request through and acts on its answer.
//   - Authentication (401): "Authorization: Bearer <token>", the scheme
//     spelled exactly so, with a token this server issued that is
//     unexpired and not revoked.
//   - property_id (400): a positive decimal integer without sign or
//     leading zeros; a property in Options.DeniedPropertyIDs gets 403.
//   - POST bodies: Content-Type application/json, with charset utf-8 if a
//     charset is given (415); at most 32 MiB (413); a JSON object (400).
//     Member names must match exactly, case included; unknown members are
//     ignored. file_size must be a JSON integer; chunk_number and
//     chunk_size may be JSON integers or strings of decimal digits.
//     Base64 must be standard, padded and canonical, with no line breaks.
//   - The endpoint's own rules (400): file types (image/jpeg, image/png)
//     and their signatures in the first bytes, declared sizes that match
//     the decoded bytes, the 1MB and 10MB limits, the order of chunks and
//     actions, ranges inside the file.
//   - Memory (507): storing must not go over Options.MaxStoredBytes; the
//     message says what holds the memory and to try again later.
//
// An upload_id that is unknown in the conversation (never started there,
// finished, expired or evicted) gets 400, not 404: it is a mistake in the
// request body, not a missing resource in the path. A rejected chunk
// leaves its upload unchanged, and a new start for the same file is always
// allowed, as Booking tells clients to start over after an error. An
// unfinished upload expires one hour after its start, by Options.Now;
// until it is dropped its bytes count against MaxStoredBytes. When memory
// is needed, the server drops expired uploads, then abandoned ones:
// uploads superseded by a later start of the same file in the same
// conversation that have had no chunk for a minute, longest idle first.
// It never drops an upload still in flight, superseded or not, since two
// clients may be sending the same file at once: a request that does not
// fit gets 507, not a 400 for an upload_id that the client would take
// for its own mistake.
//
// A download needs from for attachments larger than 1MB; the range it
// returns is not capped, because Booking's limit is unknown.
//
// # Settings
//
// Booking leaves some things undocumented or contradictory; Options
// selects the reading:
//
//   - MegabyteBytes: whether "1MB" is 1,000,000 or 1,048,576 decoded bytes.
//   - InclusiveTo: whether download's to is inclusive or exclusive.
//   - BooleanOK: whether data.ok is the string "true" (Booking's examples)
//     or the boolean true (its tables).
//
// Run a client's tests against every combination to be sure it depends on
// none of them.
//
// # Inspecting and misbehaving
//
// Requests, TokenExchanges, Attachment and AttachmentIDs let tests see
// what the client sent and what the server kept. RevokeTokens and
// Options.Now test token refresh and expiry. InjectFault makes chosen
// requests misbehave in every way an answer can go wrong: late, never,
// cut short, lost after the server did the work, replaced by an error
// envelope or a load balancer's HTML page, padded to a huge size, or with
// altered data.
package sandbox
