#!/usr/bin/env python3
"""Example client of attachments.v1.AttachmentService (attachmentd), in Python.

    PYTHONPATH=STUBS python3 example.py [ADDRESS [FILE]]

STUBS is the folder that generate.sh (beside this file) wrote the Python
stubs into. ADDRESS is the gateway's host:port (or $ATTACHMENTD_ADDRESS,
default localhost:50051), FILE a JPEG or PNG of at most 10 MiB (or
$EXAMPLE_FILE). $PROPERTY_ID (default 1234) and $CONVERSATION_ID (default
conv-1) name the conversation. The program

  1. uploads FILE as a stream: the metadata first (file_size and sha256
     declared), then the bytes in data messages of at most 1 MiB;
  2. downloads it back and checks it byte for byte;
  3. sends a message with the attachment (SendMessage with a request_id);
  4. provokes an error (GetAttachmentInfo of an id that does not exist) and
     prints Booking's ruid, decoded from the error's google.rpc.ErrorInfo.

It prints one line per step and exits non-zero on any failure.
"""

import hashlib
import os
import sys
import uuid

try:
    import grpc
except ImportError as e:
    sys.exit(
        "python example FAILED: %s: install Debian's python3-grpcio and run this with "
        "/usr/bin/python3, the Python it is installed for" % e
    )

try:
    from attachments.v1 import attachments_pb2 as pb
    from attachments.v1 import attachments_pb2_grpc as pb_grpc
    from google.rpc import error_details_pb2, status_pb2
except ImportError as e:
    sys.exit(
        "python example FAILED: the generated stubs are missing (%s): run generate.sh OUTDIR "
        "beside this file and put OUTDIR on PYTHONPATH" % e
    )

# The most bytes one data message carries: well under gRPC's default message
# limit of 4 MiB.
CHUNK_BYTES = 1 << 20


class ExampleError(Exception):
    """A step did not do what it should."""


# --- error details ---------------------------------------------------------


def status_details(err):
    """Decode the grpc-status-details-bin trailer of a failed call.

    It is a serialized google.rpc.Status whose details are
    google.protobuf.Any. Returns the Status, or None when the error carries
    none.
    """
    for key, value in err.trailing_metadata() or ():
        if key == "grpc-status-details-bin":
            return status_pb2.Status.FromString(value)
    return None


def error_info(st):
    """The first google.rpc.ErrorInfo among a Status's details, or None."""
    for detail in st.details if st is not None else ():
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            return info
    return None


def describe(err):
    """One line for any error: for a gRPC error its code, its message, and
    the ErrorInfo (reason, ruid, http_status) and RetryInfo it carries."""
    if not isinstance(err, grpc.RpcError):
        return str(err)
    line = "%s: %s" % (err.code().name, err.details())
    st = status_details(err)
    for detail in st.details if st is not None else ():
        if detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR):
            info = error_details_pb2.ErrorInfo()
            detail.Unpack(info)
            line += "; ErrorInfo reason %s domain %s" % (info.reason, info.domain)
            for key in sorted(info.metadata):
                line += " %s %s" % (key, info.metadata[key])
        elif detail.Is(error_details_pb2.RetryInfo.DESCRIPTOR):
            retry = error_details_pb2.RetryInfo()
            detail.Unpack(retry)
            line += "; RetryInfo retry_delay %ss" % retry.retry_delay.ToTimedelta().total_seconds()
        else:
            line += "; detail %s" % detail.type_url.rsplit("/", 1)[-1]
    return line


# --- calls -----------------------------------------------------------------


def sha256_file(path):
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(CHUNK_BYTES), b""):
            digest.update(block)
    return digest.hexdigest()


def upload(stub, conversation, path):
    """Stream path: the metadata, then data messages of at most CHUNK_BYTES.

    gRPC pulls from the generator as the stream has room, so the file is
    never held whole in memory."""
    size = os.path.getsize(path)
    sha256 = sha256_file(path)
    sent = {"messages": 0}

    def requests():
        yield pb.UploadAttachmentRequest(
            metadata=pb.UploadMetadata(
                file_name=os.path.basename(path),
                file_size=size,  # declared: the gateway sends to Booking while we stream
                sha256=sha256,  # optional: the gateway commits only if the bytes match
                **conversation
            )
        )
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(CHUNK_BYTES), b""):
                sent["messages"] += 1
                yield pb.UploadAttachmentRequest(data=block)

    res = stub.UploadAttachment(requests(), timeout=120)
    if res.sha256 != sha256:
        raise ExampleError("the gateway reports sha256 %s, the file has %s" % (res.sha256, sha256))
    return res, size, sent["messages"]


def download(stub, conversation, attachment_id):
    """Read the whole attachment: the info message first, then data."""
    info, parts = None, []
    for msg in stub.DownloadAttachment(
        pb.DownloadAttachmentRequest(attachment_id=attachment_id, **conversation), timeout=120
    ):
        part = msg.WhichOneof("part")
        if part == "info":
            if info is not None or parts:
                raise ExampleError("the download stream sent its info message twice or after data")
            info = msg.info
        elif part == "data":
            if info is None:
                raise ExampleError("the download stream sent data before its info message")
            parts.append(msg.data)
    if info is None:
        raise ExampleError("the download stream ended without its info message")
    return info, b"".join(parts), len(parts)


# --- the example -----------------------------------------------------------


def run(address, path, conversation):
    with grpc.insecure_channel(address) as channel:
        # Fail fast with a clear message when nothing listens at address.
        try:
            grpc.channel_ready_future(channel).result(timeout=10)
        except grpc.FutureTimeoutError:
            raise ExampleError("cannot reach the gateway at %s within 10s" % address)
        stub = pb_grpc.AttachmentServiceStub(channel)

        # 1. Upload.
        res, size, messages = upload(stub, conversation, path)
        attachment_id = res.attachment_id
        print(
            "attachment_id %s (%d bytes sent in %d data messages, %s, sha256 %s)"
            % (attachment_id, size, messages, res.info.file_type, res.sha256)
        )

        # 2. Download and compare.
        info, data, messages = download(stub, conversation, attachment_id)
        with open(path, "rb") as f:
            original = f.read()
        match = data == original and info.file_size == len(original)
        print(
            "downloaded %d bytes in %d data messages (info: %s, %s, %d bytes): %s"
            % (len(data), messages, info.file_name, info.file_type, info.file_size,
               "match" if match else "MISMATCH")
        )
        if not match:
            raise ExampleError("the downloaded bytes differ from %s" % path)

        # 3. Send a message that shows the attachment to the guest. The
        # request_id makes the call safe to repeat: a retry with the same id
        # gets the first answer and never posts twice.
        request_id = "example-python-%s" % uuid.uuid4()
        sent = stub.SendMessage(
            pb.SendMessageRequest(
                content="Here is the photo you asked for.",
                attachment_ids=[attachment_id],
                request_id=request_id,
                **conversation
            ),
            timeout=60,
        )
        if not sent.message_id:
            raise ExampleError("SendMessage returned no message_id")
        print("message_id %s (request_id %s)" % (sent.message_id, request_id))

        # 4. Provoke an error: an attachment id that Booking never issued.
        missing = str(uuid.uuid4())
        try:
            stub.GetAttachmentInfo(
                pb.GetAttachmentInfoRequest(attachment_id=missing, **conversation), timeout=30
            )
        except grpc.RpcError as err:
            if err.code() != grpc.StatusCode.NOT_FOUND:
                raise
            st = status_details(err)
            info = error_info(st)
            ruid = info.metadata.get("ruid", "") if info is not None else ""
            if not ruid:
                raise ExampleError("NOT_FOUND without an ErrorInfo ruid: %s" % describe(err))
            if st.code != err.code().value[0]:
                raise ExampleError(
                    "grpc-status-details-bin holds code %d, the status is %s" % (st.code, err.code().name)
                )
            print("GetAttachmentInfo(%s) failed as expected: %s" % (missing, describe(err)))
            print(
                "error NOT_FOUND reason %s http_status %s ruid %s"
                % (info.reason, info.metadata.get("http_status", ""), ruid)
            )
        else:
            raise ExampleError("GetAttachmentInfo of the missing attachment %s succeeded" % missing)


def main():
    address = (sys.argv[1:2] or [os.environ.get("ATTACHMENTD_ADDRESS", "localhost:50051")])[0]
    path = (sys.argv[2:3] or [os.environ.get("EXAMPLE_FILE", "")])[0]
    if not path:
        print(
            "python example FAILED: usage: example.py [ADDRESS [FILE]] "
            "(or set ATTACHMENTD_ADDRESS and EXAMPLE_FILE)",
            file=sys.stderr,
        )
        return 1
    conversation = {
        "property_id": int(os.environ.get("PROPERTY_ID", "1234")),
        "conversation_id": os.environ.get("CONVERSATION_ID", "conv-1"),
    }
    try:
        run(address, path, conversation)
    except (grpc.RpcError, ExampleError, OSError) as err:
        print("python example FAILED: %s" % describe(err), file=sys.stderr)
        return 1
    print("python example: all steps passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
