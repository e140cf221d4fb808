// Package sandbox emulates, in process, the parts of Booking.com's APIs
// that the gateway uses: the token exchange, the Messaging API's four
// attachment endpoints, and the message post that sends attachments to
// the guest. A Server is an http.Handler: tests serve it with
// httptest.NewServer, and the gateway's --sandbox flag serves it on
// 127.0.0.1.
//
// The emulation follows Booking's reference for the attachment endpoints
// (single upload, chunked upload, download, file_info), its
// token-based authentication page, and what its managing-conversations
// page says of posting a message. Its purpose is to be strict: a client
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
//	POST /messaging/properties/{property_id}/conversations/{conversation_id}
//
// The token exchange takes {"client_id", "client_secret"} and answers
// {"jwt", "ruid"}. Every other answer, errors included, is Booking's
// envelope (unless a Fault sends an HTML page):
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
//     actions, ranges inside the file; a message's content and
//     attachment_ids (see below).
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
// A message is {"message": {"content": "...", "attachment_ids": [...]}}.
// content is required and must hold more than white space; it is capped
// at 64 KiB of UTF-8, a limit of the sandbox's own, as Booking documents
// none. attachment_ids is optional: an array of distinct ids, each of an
// attachment stored in the same conversation of the same property (an
// attachment of another conversation is unknown here). An attachment may
// be sent in more than one message. The answer's data is {"message_id",
// "ok", "guest_has_account"}, the last always false. Messages are not
// counted against MaxStoredBytes.
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
// Requests, TokenExchanges, Attachment, AttachmentIDs and Messages let
// tests see what the client sent, what the server kept, and what the
// guest would see. RevokeTokens and
// Options.Now test token refresh and expiry. InjectFault makes chosen
// requests misbehave in every way an answer can go wrong: late, never,
// cut short, lost after the server did the work, replaced by an error
// envelope or a load balancer's HTML page, padded to a huge size, or with
// altered data; ClearFaults forgets the faults injected so far.
//
// cmd/booking-sandbox serves a Server as a process of its own, with an
// HTTP control API for faults and inspection, for clients that are not
// written in Go or run in another process.
package sandbox
