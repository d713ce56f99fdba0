#!/usr/bin/env bash
# The cargo-fuzz targets (fuzz/): builds them once, runs each for a set time, reports crashes.
#   scripts/fuzz.sh            `make fuzz`: every target (the local data plane's too), release
#                              build with AddressSanitizer, FUZZ_SECONDS (600) each
#   scripts/fuzz.sh --smoke    the `make test` smoke (scripts/test-fuzz.sh): the default targets
#                              (no AWS SDK to build), debug build without sanitizer, the seed
#                              corpus and FUZZ_RUNS (2000) mutations with a fixed seed, 5 s at most
# Environment:
#   FUZZ_SECONDS     seconds per target (default 600; the smoke: 5)
#   FUZZ_TARGETS     space-separated targets to run (default: all the mode builds)
#   FUZZ_SANITIZER   cargo fuzz's -s (default address; the smoke: none)
#   FUZZ_JOBS        parallel libFuzzer workers per target (default 1)
#   FUZZ_PROFILE     release (default) or dev: a debug build, faster to build (no optimization;
#                    with FUZZ_SANITIZER=none it shares the smoke's dependencies), slower to run
#   FUZZ_TARGET_DIR  cargo's target directory for the build (default fuzz/target): a second one
#                    lets a long build (the local data plane's) run beside runs of built targets
#                    (cargo locks its target directory while it builds). Corpora and logs stay
#                    in fuzz/target.
# Needs the nightly toolchain (rustup toolchain install nightly); cargo-fuzz is installed pinned
# into the per-machine tool cache (kstream_cargo_tool). New inputs go to
# fuzz/target/corpus/<target>/ (fuzz/corpus/<target>/ is the committed seed corpus, read only);
# a crash is written to fuzz/artifacts/<target>/ and fails the run (exit 1).
# Reproduce one: cargo +nightly fuzz run [--features local] <target> fuzz/artifacts/<target>/<file>
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=lib/common.sh
. scripts/lib/common.sh

CARGO_FUZZ_VERSION=0.13.2
# A record, template or query that grows memory past this is a finding (the bounded-work rules).
RSS_LIMIT_MB=512
# One input that takes longer than this is a hang (jq's own bound is 1 s per record).
INPUT_TIMEOUT_S=20

smoke=false
[ "${1:-}" = --smoke ] && smoke=true

cargo +nightly --version >/dev/null 2>&1 ||
  die "the nightly toolchain is needed for cargo-fuzz: rustup toolchain install nightly"
fuzz_bin=$(kstream_cargo_tool cargo-fuzz "$CARGO_FUZZ_VERSION")
PATH="$(dirname "$fuzz_bin"):$PATH"
export PATH

if $smoke; then
  # Deterministic, so that `make test` is not flaky: a fixed seed and a fixed number of runs
  # (the seeds, then mutations of them), capped by the time.
  seconds=${FUZZ_SECONDS:-5} sanitizer=${FUZZ_SANITIZER:-none}
  build=(--dev) profile=debug extra=(-seed=1 -runs="${FUZZ_RUNS:-2000}")
else
  seconds=${FUZZ_SECONDS:-600} sanitizer=${FUZZ_SANITIZER:-address}
  case ${FUZZ_PROFILE:-release} in
    release) build=(--release) profile=release ;;
    dev) build=(--dev) profile=debug ;;
    *) die "FUZZ_PROFILE is release or dev, not ${FUZZ_PROFILE}" ;;
  esac
  extra=()
  # The local data plane's targets (required-features = ["local"]) bring the AWS SDK: built only
  # when one of them is to run.
  local_targets=$(awk '/^\[\[bin\]\]/ { name = "" } /^name = / { gsub(/"/, "", $3); name = $3 }
    /^required-features = .*"local"/ { print name }' fuzz/Cargo.toml)
  for t in ${FUZZ_TARGETS:-$local_targets}; do
    grep -qx "$t" <<<"$local_targets" && { build+=(--features local); break; }
  done
fi
# One target asked for: only its binary is linked (a release link with the sanitizer takes minutes).
only=()
read -ra asked <<<"${FUZZ_TARGETS:-}"
[ "${#asked[@]}" -eq 1 ] && only=("${asked[0]}")
target_dir=${FUZZ_TARGET_DIR:-fuzz/target}
case $target_dir in /*) ;; *) target_dir=$PWD/$target_dir ;; esac
# Fuzzing builds are never edited: incremental caches would only take disk.
export CARGO_INCREMENTAL=0

t0=$(date +%s)
log "building the fuzz targets (cargo +nightly fuzz build ${build[*]} -s $sanitizer)"
(cd fuzz && cargo +nightly fuzz build "${build[@]}" -s "$sanitizer" --target-dir "$target_dir" "${only[@]}")
log "built in $(( $(date +%s) - t0 ))s"

bin_dir=$target_dir/x86_64-unknown-linux-gnu/$profile
all=$(cd fuzz && cargo +nightly fuzz list)
targets=()
for t in ${FUZZ_TARGETS:-$all}; do
  grep -qx "$t" <<<"$all" || die "no fuzz target $t (have: $(tr '\n' ' ' <<<"$all"))"
  if [ -x "$bin_dir/$t" ]; then
    targets+=("$t")
  elif [ -n "${FUZZ_TARGETS:-}" ]; then
    die "fuzz target $t is not built in this mode (the local data plane's need make fuzz)"
  fi
done

# Parallel workers only when asked: libFuzzer's -jobs writes each worker's log to fuzz-N.log in
# the current directory.
parallel=()
[ "${FUZZ_JOBS:-1}" -gt 1 ] && parallel=(-jobs="$FUZZ_JOBS" -workers="$FUZZ_JOBS")
crashed=()
for t in "${targets[@]}"; do
  corpus=fuzz/target/corpus/$t artifacts=fuzz/artifacts/$t
  mkdir -p "$corpus" "$artifacts"
  $smoke && { rm -rf "$corpus"; mkdir -p "$corpus"; } # the smoke starts from the seeds only
  out=fuzz/target/$t.log
  log "fuzz $t for ${seconds}s"
  rc=0
  "$bin_dir/$t" -max_total_time="$seconds" -rss_limit_mb="$RSS_LIMIT_MB" -timeout="$INPUT_TIMEOUT_S" \
    "${parallel[@]}" "${extra[@]}" -print_final_stats=1 \
    -artifact_prefix="$artifacts/" "$corpus" "fuzz/corpus/$t" >"$out" 2>&1 || rc=$?
  stats=$(sed -n 's/^Done \([0-9]*\) runs in \([0-9]*\) second.*/\1 execs in \2 s/p' "$out" | tail -1)
  if [ "$rc" -ne 0 ]; then
    crashed+=("$t")
    warn "$t: CRASH (exit $rc); log $out; input:"
    grep -E 'panicked at|assertion|ERROR: libFuzzer|SUMMARY|Test unit written' -A2 "$out" | head -20 >&2
  else
    log "$t: ${stats:-ran}, no crash"
  fi
done

if [ "${#crashed[@]}" -ne 0 ]; then
  die "fuzz targets crashed: ${crashed[*]} (inputs in fuzz/artifacts/<target>/)"
fi
log "fuzz: ${#targets[@]} targets, ${seconds}s each, no crash ($(( $(date +%s) - t0 ))s in all)"
