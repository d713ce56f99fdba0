#!/usr/bin/env bash
# Tier: the code paths that depend on the instruction set, each one run.
#  1. x86_64: kstream-kpl's lane MD5 has AVX-512, AVX2 and portable kernels, chosen at run time;
#     a CPU runs only one of them. Here each is built with the choice made when compiling
#     (--cfg kstream_md5x_static, -C target-feature) and the crate's tests run against it.
#  2. arm64 (the Lambda architecture), under qemu user-mode emulation: kstream-kpl (the lane MD5,
#     NEON there) and kstream-transform (the chunked JSON scanner). Release builds, so the
#     auto-vectorized code is what runs. Linked with the zig that cargo-lambda brings;
#     qemu-user-static and the arm64 C library (libc6-arm64-cross) come from the Debian archive
#     and are installed when missing and apt-get can (root). Where they cannot be had, this part
#     says so loudly and is skipped; set KSTREAM_REQUIRE_ARM64=1 to make that an error instead.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=lib/common.sh
source scripts/lib/common.sh
make --no-print-directory venv
kstream_require_venv

if [ "$(uname -m)" = x86_64 ]; then
  # Release builds (the vectorized code), one target dir per kernel so a re-run rebuilds nothing.
  for kernel in portable avx2; do
    flags="--cfg kstream_md5x_static"
    [ "$kernel" = portable ] || flags+=" -C target-feature=+$kernel"
    log "kstream-kpl with the $kernel lane MD5 kernel"
    CARGO_TARGET_DIR=$PWD/target/md5x-$kernel RUSTFLAGS=$flags KSTREAM_MD5X_KERNEL=$kernel \
      cargo test -q --release -p kstream-kpl --test tests
  done
fi

sysroot=/usr/aarch64-linux-gnu
missing() { ! command -v qemu-aarch64-static >/dev/null || [ ! -e "$sysroot/lib/ld-linux-aarch64.so.1" ]; }
if missing && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "==> installing qemu-user-static and libc6-arm64-cross (apt-get)"
  DEBIAN_FRONTEND=noninteractive timeout 300 apt-get install -y -q qemu-user-static libc6-arm64-cross >/dev/null ||
    { timeout 300 apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive timeout 300 apt-get install -y -q qemu-user-static libc6-arm64-cross >/dev/null; } || true
fi
if missing; then
  msg="qemu-aarch64-static or the arm64 C library ($sysroot) is missing and could not be installed"
  [ "${KSTREAM_REQUIRE_ARM64:-0}" = 1 ] && die "$msg"
  echo "!!! SKIPPED: $msg; the arm64 tests did not run" >&2
  exit 0
fi
rustup target list --installed 2>/dev/null | grep -qx aarch64-unknown-linux-gnu ||
  rustup target add aarch64-unknown-linux-gnu

# A linker (and C compiler) for the test binaries: zig, for an older glibc than al2023's.
linker=$PWD/target/arm64-test/zig-cc
mkdir -p "$(dirname "$linker")"
# (cc-rs adds a --target=<rust triple> that zig does not read: dropped.)
cat >"$linker" <<SH
#!/bin/sh
for a in "\$@"; do shift; case "\$a" in --target=*) ;; *) set -- "\$@" "\$a" ;; esac; done
exec "$KSTREAM_VENV/bin/python" -m ziglang cc -target aarch64-linux-gnu.2.28 "\$@"
SH
printf '#!/bin/sh\nexec %q -m ziglang ar "$@"\n' "$KSTREAM_VENV/bin/python" >"${linker%/*}/zig-ar"
chmod +x "$linker" "${linker%/*}/zig-ar"

export CARGO_TARGET_DIR=$PWD/target/arm64-test
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_LINKER=$linker
# C code in the dependency tree (built by cc-rs) goes through zig too.
export CC_aarch64_unknown_linux_gnu=$linker AR_aarch64_unknown_linux_gnu=${linker%/*}/zig-ar
export CARGO_TARGET_AARCH64_UNKNOWN_LINUX_GNU_RUNNER="qemu-aarch64-static -L $sysroot"
KSTREAM_MD5X_KERNEL=neon cargo test -q --release --target aarch64-unknown-linux-gnu -p kstream-kpl -p kstream-transform
