#!/usr/bin/env bash
# generate.sh OUTDIR: writes the Python stubs that example.py imports into
# OUTDIR, from the project's proto/ and the examples' minimal google/rpc
# protos in ../proto. Uses Debian's python3-grpc-tools, installed for
# /usr/bin/python3 (override with $PYTHON).
set -euo pipefail

out="${1:?usage: generate.sh OUTDIR}"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
python="${PYTHON:-/usr/bin/python3}"

mkdir -p "$out"
# The service: messages and the gRPC stub.
"$python" -m grpc_tools.protoc -I "$root/proto" \
  --python_out="$out" --grpc_python_out="$out" \
  attachments/v1/attachments.proto
# The error details: messages only (they define no service).
"$python" -m grpc_tools.protoc -I "$root/examples/proto" \
  --python_out="$out" \
  google/rpc/status.proto google/rpc/error_details.proto
