#!/usr/bin/env node
// Example client of attachments.v1.AttachmentService (attachmentd), in Node.
//
//   node example.js [ADDRESS [FILE]]
//
// ADDRESS is the gateway's host:port (or $ATTACHMENTD_ADDRESS, default
// localhost:50051), FILE a JPEG or PNG of at most 10 MiB (or $EXAMPLE_FILE).
// $PROPERTY_ID (default 1234) and $CONVERSATION_ID (default conv-1) name the
// conversation. The program
//
//   1. uploads FILE as a stream: the metadata first (file_size and sha256
//      declared), then the bytes in data messages of at most 1 MiB;
//   2. downloads it back and checks it byte for byte;
//   3. sends a message with the attachment (SendMessage with a request_id);
//   4. provokes an error (GetAttachmentInfo of an id that does not exist) and
//      prints Booking's ruid, decoded from the error's google.rpc.ErrorInfo.
//
// It prints one line per step and exits non-zero on any failure. The service
// is loaded from ../../proto at run time; the google.rpc messages that the
// error details need come from ../proto (see ../README.md).
'use strict';

const crypto = require('node:crypto');
const fs = require('node:fs');
const fsp = require('node:fs/promises');
const path = require('node:path');
const { once } = require('node:events');

const grpc = require('@grpc/grpc-js');
const protoLoader = require('@grpc/proto-loader');
const protobuf = require('protobufjs');

const PROJECT_PROTO = path.join(__dirname, '..', '..', 'proto'); // attachments/v1/attachments.proto
const RPC_PROTO = path.join(__dirname, '..', 'proto'); // google/rpc/{status,error_details}.proto

// The most bytes one data message carries: well under gRPC's default message
// limit of 4 MiB.
const CHUNK_BYTES = 1 << 20;

// --- loading the contract -------------------------------------------------

function loadService() {
  const definition = protoLoader.loadSync('attachments/v1/attachments.proto', {
    includeDirs: [PROJECT_PROTO],
    keepCase: true, // field names as in the .proto: attachment_id, file_size, ...
    longs: Number, // int64 as JS numbers: sizes and property ids fit
    enums: String,
    defaults: true,
    oneofs: true, // a message's oneof "part" says which of its fields is set
  });
  return grpc.loadPackageDefinition(definition).attachments.v1.AttachmentService;
}

// rpcTypes loads the google.rpc messages with protobufjs, which proto-loader
// itself uses. google/protobuf/any.proto and duration.proto come with
// protobufjs; the google.rpc ones are the examples' own minimal copies.
function loadRpcTypes() {
  const root = new protobuf.Root();
  root.resolvePath = (origin, target) => path.join(RPC_PROTO, target); // RPC_PROTO is the include dir
  root.loadSync(['google/rpc/status.proto', 'google/rpc/error_details.proto'], { keepCase: true });
  return root;
}

// --- error details --------------------------------------------------------

// statusDetails decodes an error's grpc-status-details-bin trailer: a
// serialized google.rpc.Status whose details are google.protobuf.Any. It
// returns the Status's code and message and its details as
// { type, value } with value decoded when the type is known (ErrorInfo,
// RetryInfo) and null otherwise; or null when the error has no details.
function statusDetails(rpcTypes, err) {
  const raw = err.metadata ? err.metadata.get('grpc-status-details-bin') : [];
  if (raw.length === 0) {
    return null;
  }
  const Status = rpcTypes.lookupType('google.rpc.Status');
  const st = Status.decode(raw[0]);
  const details = st.details.map((any) => {
    // type.googleapis.com/google.rpc.ErrorInfo -> google.rpc.ErrorInfo
    const type = any.type_url.slice(any.type_url.lastIndexOf('/') + 1);
    let value = null;
    try {
      const T = rpcTypes.lookupType(type);
      value = T.toObject(T.decode(any.value), { longs: Number, defaults: true });
    } catch (e) {
      // a detail type these examples do not know: keep its name only
    }
    return { type, value };
  });
  return { code: st.code, message: st.message, details };
}

function codeName(code) {
  return Object.keys(grpc.status).find((k) => grpc.status[k] === code) || `code ${code}`;
}

// describe turns any error into one line: for a gRPC error its code, its
// message, and the ErrorInfo (reason, ruid, http_status) and RetryInfo it
// carries.
function describe(rpcTypes, err) {
  if (typeof err.code !== 'number' || !err.metadata) {
    return err instanceof Error ? err.message : String(err);
  }
  let line = `${codeName(err.code)}: ${err.details}`;
  const st = statusDetails(rpcTypes, err);
  for (const d of st ? st.details : []) {
    if (d.type === 'google.rpc.ErrorInfo' && d.value) {
      const m = d.value.metadata || {};
      line += `; ErrorInfo reason ${d.value.reason} domain ${d.value.domain}`;
      for (const k of Object.keys(m).sort()) {
        line += ` ${k} ${m[k]}`;
      }
    } else if (d.type === 'google.rpc.RetryInfo' && d.value) {
      const delay = d.value.retry_delay || {};
      line += `; RetryInfo retry_delay ${(delay.seconds || 0) + (delay.nanos || 0) / 1e9}s`;
    } else {
      line += `; detail ${d.type}`;
    }
  }
  return line;
}

// --- calls ----------------------------------------------------------------

// Every call gets a deadline: without one, a call to a gateway that waits on
// Booking could wait long.
const deadline = (seconds) => new Date(Date.now() + seconds * 1000);

function unary(client, method, request, seconds) {
  return new Promise((resolve, reject) => {
    client[method](request, { deadline: deadline(seconds) }, (err, response) =>
      err ? reject(err) : resolve(response),
    );
  });
}

async function sha256File(file) {
  const hash = crypto.createHash('sha256');
  for await (const chunk of fs.createReadStream(file)) {
    hash.update(chunk);
  }
  return hash.digest('hex');
}

// upload streams file: the metadata, then data messages of at most
// CHUNK_BYTES, honouring the stream's back-pressure.
async function upload(client, conversation, file) {
  const { size } = await fsp.stat(file);
  const sha256 = await sha256File(file);
  let call;
  let finished = false;
  const response = new Promise((resolve, reject) => {
    call = client.UploadAttachment({ deadline: deadline(120) }, (err, res) => {
      finished = true;
      return err ? reject(err) : resolve(res);
    });
  });
  const settled = response.then(
    () => {},
    () => {},
  );
  call.write({
    metadata: {
      ...conversation,
      file_name: path.basename(file),
      file_size: size, // declared: the gateway sends to Booking while we stream
      sha256, // optional: the gateway commits only if the bytes match
    },
  });
  let messages = 0;
  for await (const chunk of fs.createReadStream(file, { highWaterMark: CHUNK_BYTES })) {
    if (finished) {
      break; // the call failed early; its error is in response
    }
    messages++;
    if (!call.write({ data: chunk })) {
      await Promise.race([once(call, 'drain'), settled]);
    }
  }
  call.end();
  const res = await response;
  if (res.sha256 !== sha256) {
    throw new Error(`the gateway reports sha256 ${res.sha256}, the file has ${sha256}`);
  }
  return { res, size, messages };
}

// download reads the whole attachment: the info message first, then data.
async function download(client, request) {
  const call = client.DownloadAttachment(request, { deadline: deadline(120) });
  let info = null;
  const parts = [];
  for await (const msg of call) {
    if (msg.part === 'info') {
      if (info !== null || parts.length > 0) {
        throw new Error('the download stream sent its info message twice or after data');
      }
      info = msg.info;
    } else if (msg.part === 'data') {
      if (info === null) {
        throw new Error('the download stream sent data before its info message');
      }
      parts.push(msg.data);
    }
  }
  if (info === null) {
    throw new Error('the download stream ended without its info message');
  }
  return { info, data: Buffer.concat(parts), messages: parts.length };
}

// --- the example ----------------------------------------------------------

async function main(rpcTypes) {
  const address = process.argv[2] || process.env.ATTACHMENTD_ADDRESS || 'localhost:50051';
  const file = process.argv[3] || process.env.EXAMPLE_FILE;
  if (!file) {
    throw new Error('usage: node example.js [ADDRESS [FILE]] (or set ATTACHMENTD_ADDRESS and EXAMPLE_FILE)');
  }
  const conversation = {
    property_id: Number(process.env.PROPERTY_ID || 1234),
    conversation_id: process.env.CONVERSATION_ID || 'conv-1',
  };

  const AttachmentService = loadService();
  const client = new AttachmentService(address, grpc.credentials.createInsecure());
  try {
    // Fail fast with a clear message when nothing listens at address.
    await new Promise((resolve, reject) =>
      client.waitForReady(deadline(10), (err) =>
        err ? reject(new Error(`cannot reach the gateway at ${address}: ${err.message}`)) : resolve(),
      ),
    );

    // 1. Upload.
    const up = await upload(client, conversation, file);
    const id = up.res.attachment_id;
    console.log(
      `attachment_id ${id} (${up.size} bytes sent in ${up.messages} data messages, ` +
        `${up.res.info.file_type}, sha256 ${up.res.sha256})`,
    );

    // 2. Download and compare.
    const down = await download(client, { ...conversation, attachment_id: id });
    const original = await fsp.readFile(file);
    const match = down.data.equals(original) && down.info.file_size === original.length;
    console.log(
      `downloaded ${down.data.length} bytes in ${down.messages} data messages ` +
        `(info: ${down.info.file_name}, ${down.info.file_type}, ${down.info.file_size} bytes): ` +
        (match ? 'match' : 'MISMATCH'),
    );
    if (!match) {
      throw new Error(`the downloaded bytes differ from ${file}`);
    }

    // 3. Send a message that shows the attachment to the guest. The
    // request_id makes the call safe to repeat: a retry with the same id gets
    // the first answer and never posts twice.
    const requestId = `example-node-${crypto.randomUUID()}`;
    const sent = await unary(
      client,
      'SendMessage',
      {
        ...conversation,
        content: 'Here is the photo you asked for.',
        attachment_ids: [id],
        request_id: requestId,
      },
      60,
    );
    if (!sent.message_id) {
      throw new Error('SendMessage returned no message_id');
    }
    console.log(`message_id ${sent.message_id} (request_id ${requestId})`);

    // 4. Provoke an error: an attachment id that Booking never issued.
    const missing = crypto.randomUUID();
    try {
      await unary(client, 'GetAttachmentInfo', { ...conversation, attachment_id: missing }, 30);
      throw new Error(`GetAttachmentInfo of the missing attachment ${missing} succeeded`);
    } catch (err) {
      if (err.code !== grpc.status.NOT_FOUND) {
        throw err;
      }
      const st = statusDetails(rpcTypes, err);
      const info = st && st.details.find((d) => d.type === 'google.rpc.ErrorInfo');
      const ruid = info && info.value && info.value.metadata ? info.value.metadata.ruid : '';
      if (!ruid) {
        throw new Error(`NOT_FOUND without an ErrorInfo ruid: ${describe(rpcTypes, err)}`);
      }
      if (st.code !== err.code) {
        throw new Error(`grpc-status-details-bin holds code ${st.code}, the status is ${err.code}`);
      }
      console.log(`GetAttachmentInfo(${missing}) failed as expected: ${describe(rpcTypes, err)}`);
      console.log(
        `error NOT_FOUND reason ${info.value.reason} http_status ${info.value.metadata.http_status} ruid ${ruid}`,
      );
    }
  } finally {
    client.close();
  }
}

const rpcTypes = loadRpcTypes();
main(rpcTypes).then(
  () => console.log('node example: all steps passed'),
  (err) => {
    console.error(`node example FAILED: ${describe(rpcTypes, err)}`);
    process.exitCode = 1;
  },
);
