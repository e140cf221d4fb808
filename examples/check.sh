#!/usr/bin/env bash
# check.sh: runs the Node and Python examples against a fresh attachmentd
# serving the built-in sandbox of Booking, and checks what they print.
#
#   examples/check.sh
#
# It builds attachmentd into a temporary folder, starts it with --sandbox on
# a free loopback port, installs what the examples need (npm ci in
# examples/node; Debian's python3-grpcio and python3-grpc-tools with apt-get,
# only when they are missing), generates the Python stubs into the temporary
# folder, makes a test PNG of about 2.5 MB (so that the upload goes in
# several data messages), runs both examples and stops the server. It exits
# non-zero when anything fails.
#
# EXAMPLES_ADDRESS=host:port runs the examples against that gateway instead
# of starting one (a `make run` in another terminal, say).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
GO="${GO:-go}"
PYTHON=/usr/bin/python3 # Debian's python3-grpcio is installed for this one
EXAMPLE_TIMEOUT=300     # seconds, for each example program

tmp="$(mktemp -d)"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -TERM "$server_pid" 2>/dev/null || true
    for _ in $(seq 50); do
      kill -0 "$server_pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

say() { printf '== %s\n' "$*"; }
die() {
  printf 'examples check FAILED: %s\n' "$*" >&2
  exit 1
}

for tool in node npm; do
  command -v "$tool" >/dev/null || die "$tool is not installed"
done

# --- what the examples need -------------------------------------------------

say "node $(node --version), npm $(npm --version): npm ci in examples/node"
(cd "$here/node" && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error) ||
  die "npm ci failed in examples/node"

# python3-pkg-resources too: `python3 -m grpc_tools.protoc` imports
# pkg_resources, and python3-grpc-tools does not depend on it.
py_packages=(python3-grpcio python3-grpc-tools python3-pkg-resources)
if ! dpkg -s "${py_packages[@]}" >/dev/null 2>&1; then
  say "installing ${py_packages[*]} with apt-get"
  sudo=""
  [ "$(id -u)" = 0 ] || sudo="sudo"
  (export DEBIAN_FRONTEND=noninteractive &&
    $sudo apt-get update -q &&
    $sudo apt-get install -y -q --no-install-recommends "${py_packages[@]}") >"$tmp/apt.log" 2>&1 || {
    tail -n 30 "$tmp/apt.log" >&2
    die "apt-get install ${py_packages[*]} failed"
  }
fi
say "$("$PYTHON" --version), grpcio $("$PYTHON" -c 'import grpc; print(grpc.__version__)'),"\
" protobuf $("$PYTHON" -c 'import google.protobuf as p; print(p.__version__)'): generating the Python stubs"
"$here/python/generate.sh" "$tmp/stubs" || die "generating the Python stubs failed"

# --- a test image --------------------------------------------------------------

# A real PNG of random pixels, which do not compress: 1000 x 830 RGB, about
# 2.5 MB, so that the upload takes three data messages of at most 1 MiB.
image="$tmp/example-photo.png"
node - "$image" <<'EOF'
const crypto = require('node:crypto');
const fs = require('node:fs');
const zlib = require('node:zlib');
const [width, height] = [1000, 830];
const crcTable = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
const crc32 = (buf) => {
  let c = 0xffffffff;
  for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
};
const chunk = (type, data) => {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(data.length);
  const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(body));
  return Buffer.concat([len, body, crc]);
};
const ihdr = Buffer.alloc(13);
ihdr.writeUInt32BE(width, 0);
ihdr.writeUInt32BE(height, 4);
ihdr.set([8, 2, 0, 0, 0], 8); // 8-bit RGB, no interlace
const rows = [];
for (let y = 0; y < height; y++) rows.push(Buffer.from([0]), crypto.randomBytes(width * 3)); // filter 0
const png = Buffer.concat([
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
  chunk('IHDR', ihdr),
  chunk('IDAT', zlib.deflateSync(Buffer.concat(rows), { level: 1 })),
  chunk('IEND', Buffer.alloc(0)),
]);
fs.writeFileSync(process.argv[2], png);
EOF
image_bytes="$(stat -c %s "$image")"
[ "$image_bytes" -gt 2097152 ] || die "the test image has only $image_bytes bytes"
say "test image: $image_bytes bytes"

# --- the gateway -----------------------------------------------------------------

if [ -n "${EXAMPLES_ADDRESS:-}" ]; then
  address="$EXAMPLES_ADDRESS"
  say "using the gateway at $address (EXAMPLES_ADDRESS)"
else
  command -v "$GO" >/dev/null || die "$GO is not installed"
  say "building attachmentd"
  (cd "$root" && "$GO" build -o "$tmp/attachmentd" ./cmd/attachmentd) || die "go build failed"
  "$tmp/attachmentd" --sandbox --listen 127.0.0.1:0 --metrics-listen "" --drain-delay 0 \
    2>"$tmp/server.log" >/dev/null &
  server_pid=$!
  address=""
  for _ in $(seq 300); do # 30 s
    line="$(grep -m1 '"msg":"attachmentd is serving"' "$tmp/server.log" || true)"
    if [ -n "$line" ]; then
      address="$(printf '%s' "$line" | sed -n 's/.*"listen":"\([^"]*\)".*/\1/p')"
      break
    fi
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  if [ -z "$address" ]; then
    cat "$tmp/server.log" >&2
    die "attachmentd did not say it is serving"
  fi
  say "attachmentd (pid $server_pid) serving the sandbox on $address"
fi

# --- the examples ----------------------------------------------------------------

passed=0
failed=0

# expect FILE REGEX WHAT: FILE has a line matching the extended REGEX.
expect() {
  if ! grep -Eq "$2" "$1"; then
    printf 'examples check: no line says %s (/%s/)\n' "$3" "$2" >&2
    return 1
  fi
}

# check_output FILE: the lines every example prints when all went well.
check_output() {
  local out="$1" ok=0
  expect "$out" "^attachment_id [0-9a-fA-F-]+ \\($image_bytes bytes sent in ([2-9]|[1-9][0-9]+) data messages, image/png," \
    "the upload went in several data messages" || ok=1
  expect "$out" "^downloaded $image_bytes bytes in [0-9]+ data messages .*: match\$" \
    "the download matched byte for byte" || ok=1
  expect "$out" '^message_id [^ ]+ \(request_id [^ ]+\)$' "SendMessage returned a message_id" || ok=1
  expect "$out" '^error NOT_FOUND reason [A-Z_]+ http_status 404 ruid [A-Za-z0-9+/=]{16,}$' \
    "the NOT_FOUND error's ruid was decoded from its ErrorInfo" || ok=1
  expect "$out" 'all steps passed$' "every step passed" || ok=1
  # The ruid decoded from the ErrorInfo is the one Booking (the sandbox)
  # answered: attachmentd logs the ruids of each call's requests.
  local ruid
  ruid="$(sed -n 's/^error NOT_FOUND .* ruid \([^ ]*\)$/\1/p' "$out")"
  if [ -n "$ruid" ] && [ -n "$server_pid" ] && ! grep -qF "\"$ruid\"" "$tmp/server.log"; then
    printf 'examples check: ruid %s is not among the ruids attachmentd logged\n' "$ruid" >&2
    ok=1
  fi
  return "$ok"
}

# run_example NAME COMMAND...: runs one example, shows its output, checks it.
run_example() {
  local name="$1" rc=0
  shift
  say "$name example"
  timeout "$EXAMPLE_TIMEOUT" "$@" >"$tmp/$name.out" 2>&1 || rc=$?
  sed 's/^/  /' "$tmp/$name.out"
  if [ "$rc" -ne 0 ]; then
    printf 'examples check: the %s example exited with %d\n' "$name" "$rc" >&2
    failed=$((failed + 1))
  elif ! check_output "$tmp/$name.out"; then
    failed=$((failed + 1))
  else
    passed=$((passed + 1))
  fi
}

run_example node bash -c 'cd "$1" && exec node example.js "$2" "$3"' _ "$here/node" "$address" "$image"
run_example python env PYTHONPATH="$tmp/stubs" "$PYTHON" "$here/python/example.py" "$address" "$image"

if [ -n "$server_pid" ] && ! kill -0 "$server_pid" 2>/dev/null; then
  cat "$tmp/server.log" >&2
  die "attachmentd exited while the examples ran"
fi
if [ "$failed" -ne 0 ] && [ -s "$tmp/server.log" ]; then
  echo "-- attachmentd's log (last 10 lines):" >&2
  tail -n 10 "$tmp/server.log" >&2
fi
echo "examples: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
