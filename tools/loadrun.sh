#!/usr/bin/env bash
# A load run: attachmentd on its built-in sandbox, driven by ghz over
# loopback, with a bounded number of calls per scenario. Prints, per
# scenario, ghz's summary, then the server's peak resident memory.
#
# The sandbox keeps every attachment in memory (512 MiB at most), so the
# 2.5 MB uploads are fewer, and the peak memory includes what it holds.
#
# Usage: tools/loadrun.sh [calls per scenario] [concurrency]
set -euo pipefail
cd "$(dirname "$0")/.."
calls=${1:-1000}
concurrency=${2:-16}
large_calls=$((calls < 100 ? calls : 100))
ghz() { go tool -modfile=tools/go.mod ghz "$@"; }

work=$(mktemp -d)
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT
go build -o "$work/attachmentd" ./cmd/attachmentd
"$work/attachmentd" --sandbox --listen 127.0.0.1:0 --metrics-listen "" --log-format json 2>"$work/log" &
pid=$!
for _ in $(seq 100); do
  grep -q '"attachmentd is serving"' "$work/log" && break
  sleep 0.1
done
addr=$(sed -n 's/.*"msg":"attachmentd is serving".*"listen":"\([^"]*\)".*/\1/p' "$work/log" | head -n 1)
[ -n "$addr" ] || { echo "attachmentd did not start:"; cat "$work/log"; exit 1; }

# upload_data SIZE NAME: the messages of an upload of a SIZE-byte PNG.
upload_data() {
  local file="$work/$2.png"
  { printf '\x89PNG\r\n\x1a\n'; head -c "$(($1 - 8))" /dev/urandom; } >"$file"
  printf '[{"metadata":{"property_id":1,"conversation_id":"load","file_name":"%s.png","file_size":%d}},{"data":"%s"}]' \
    "$2" "$1" "$(base64 -w0 "$file")" >"$work/$2.json"
}
upload_data 100000 small
upload_data 2500000 large

# run NAME CALLS GHZ-ARGS...: one scenario, and ghz's summary without its histogram.
run() {
  local name=$1 n=$2; shift 2
  echo "== $name: $n calls, $concurrency at a time"
  ghz --insecure -n "$n" -c "$concurrency" --format summary "$@" "$addr" |
    sed -n '/^Summary:/,/^Response time histogram:/p;/^Latency distribution:/,$p' | grep -v '^Response time histogram:'
}

run "upload 100 kB (single POST)" "$calls" --call attachments.v1.AttachmentService/UploadAttachment -D "$work/small.json"
run "upload 2.5 MB (chunked)" "$large_calls" --call attachments.v1.AttachmentService/UploadAttachment -D "$work/large.json"

# One attachment to read back, uploaded with grpcurl, which takes the same
# messages one per line.
sed 's/^\[//; s/\]$//; s/},{"data"/}\n{"data"/' "$work/large.json" >"$work/large.lines"
id=$(go tool -modfile=tools/go.mod grpcurl -plaintext -d @ "$addr" attachments.v1.AttachmentService/UploadAttachment <"$work/large.lines" |
  sed -n 's/.*"attachmentId": "\([^"]*\)".*/\1/p')
ref=$(printf '{"property_id":1,"conversation_id":"load","attachment_id":"%s"}' "$id")
run "GetAttachmentInfo" "$calls" --call attachments.v1.AttachmentService/GetAttachmentInfo -d "$ref"
run "download 2.5 MB" "$calls" --call attachments.v1.AttachmentService/DownloadAttachment -d "$ref"

echo "== attachmentd peak resident memory: $(awk '/VmHWM/ {print $2, $3}' /proc/"$pid"/status)"
