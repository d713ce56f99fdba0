#!/usr/bin/env bash
# Terraform wrapper that picks the provider source.
#
#   scripts/tf.sh init <dir> [terraform init args...]   terraform init in <dir>
#   scripts/tf.sh <command> <dir> [args...]             any other terraform command in <dir>
# <dir> is a path, or a pattern name under patterns/ (01-apigw-kds-lambda, as `make deploy` passes).
#
# When KSTREAM_TF_MIRROR names a directory (a filesystem mirror laid out as
# registry.terraform.io/hashicorp/<type>/<version>/<os_arch>/...), hashicorp/*
# providers are installed from it and nothing is downloaded; otherwise from the
# public registry. The mirror is declared in a temporary CLI configuration that
# TF_CLI_CONFIG_FILE points at for the one terraform run, so the user's own
# ~/.terraformrc is not touched. Unset, it is /opt/tf-plugins where that exists.
set -euo pipefail
# shellcheck source=scripts/lib/common.sh
. "$(dirname "$0")/lib/common.sh"

usage() {
  sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//' >&2
  exit 2
}

[ $# -ge 2 ] || usage
cmd=$1
dir=$2
shift 2
if [ ! -d "$dir" ] && [ -d "$(dirname "$0")/../patterns/$dir" ]; then
  dir="$(dirname "$0")/../patterns/$dir"
fi
[ -d "$dir" ] || { echo "tf.sh: no such directory: $dir" >&2; exit 2; }

kstream_tf_cli_config_guard
kstream_default_tf_mirror

if [ -n "${KSTREAM_TF_MIRROR:-}" ]; then
  if [ ! -d "$KSTREAM_TF_MIRROR/registry.terraform.io" ]; then
    echo "tf.sh: KSTREAM_TF_MIRROR=$KSTREAM_TF_MIRROR has no registry.terraform.io/ directory" >&2
    exit 2
  fi
  cli_config=$(mktemp "${TMPDIR:-/tmp}/kstream-tfrc.XXXXXX")
  trap 'rm -f "$cli_config"' EXIT
  mirror=$(cd "$KSTREAM_TF_MIRROR" && pwd)
  cat >"$cli_config" <<CONFIG
provider_installation {
  filesystem_mirror {
    path    = "$mirror"
    include = ["registry.terraform.io/hashicorp/*"]
  }
  direct {
    exclude = ["registry.terraform.io/hashicorp/*"]
  }
}
CONFIG
  export TF_CLI_CONFIG_FILE=$cli_config
fi

case $cmd in
  init) terraform -chdir="$dir" init -input=false "$@" ;;
  *) terraform -chdir="$dir" "$cmd" "$@" ;;
esac
