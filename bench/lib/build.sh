# shellcheck shell=bash
# The release binaries the benchmark suites run, built by ONE cargo invocation; sourced by
# bench/<suite>/run.sh (run from the repository's root).
#   bench_build      builds every function of functions/ and the suites' harnesses
#                    (firehose-transform's transform_bench, kstream-producer's bench_producer,
#                    which drives the producer through the AWS SDK: feature kstream-producer/sdk;
#                    kds-consumer's runtime_floor and socket_floor)
#   bench_functions  sets the array FUNCTION_PACKAGES to `-p <function>` for every function
#
# One package set for every suite: cargo unifies dependency features over the packages of an
# invocation, so `-p kds-consumer` alone and the seven functions together need differently
# built dependencies (the AWS SDK crates among them), and each suite building only its own
# package rebuilt them. With the same set, the first suite builds and the others find it done.

bench_functions() {
  local function
  FUNCTION_PACKAGES=()
  for function in functions/*/; do FUNCTION_PACKAGES+=(-p "$(basename "$function")"); done
}

bench_build() {
  bench_functions
  echo "building the benchmarks' binaries (release)..." >&2
  cargo build --release --quiet "${FUNCTION_PACKAGES[@]}" -p kstream-producer --bins \
    --features kstream-producer/sdk --example transform_bench --example bench_producer \
    --example runtime_floor --example socket_floor
}
