#!/usr/bin/env bash
# Every pattern follows the skeleton written down in patterns/README.md. For each patterns/NN-name/:
#   - the file set: main.tf variables.tf outputs.tf versions.tf providers.tf dashboard.tf README.md
#     .terraform.lock.hcl and tests/ with a *.tftest.hcl (no other *.tf file);
#   - the shared variables (same names, the alarm topic created by default) and outputs;
#   - the function packages: <role>_package_path, default target/lambda/<package>/bootstrap.zip;
#   - modules by relative path (../../infra/modules/...), the dashboard body in
#     dashboards/NN-name.json.tftpl rendered by dashboard.tf;
#   - a variable that names the module variable it is handed to, "(module: variable)" at the end of
#     its description, has no validation of its own (the module's speaks);
#   - the checks in their places (tests/, scripts/smoke-NN.sh, tests/e2e-NN.sh), linked from the README.
#   scripts/lint-patterns.sh [pattern dir...]   (default: every patterns/[0-9][0-9]-*/)
set -euo pipefail
cd "$(dirname "$0")/.."

files=(main.tf variables.tf outputs.tf versions.tf providers.tf dashboard.tf README.md .terraform.lock.hcl)
shared_variables=(region name_prefix tags stream_arn stream_mode shard_count retention_period_hours
  stream_kms_key_arn enhanced_monitoring create_alarm_topic alarm_topic_arn alarm_email)
shared_outputs=(region stream_name stream_arn dashboard_name alarm_names alarm_topic_arn)

problems=0
problem() {
  echo "lint-patterns: $1: $2 (see patterns/README.md)" >&2
  problems=$((problems + 1))
}

# The body of block `<kind> "<name>"` in FILE (from its first line to the closing brace at column 0).
block() { awk -v head="$1 \"$2\" {" '$0 == head { on = 1 } on { print } on && /^}/ { exit }' "$3"; }
# The names of the blocks of KIND in FILE.
names() { sed -n "s/^$1 \"\\([^\"]*\\)\" {\$/\\1/p" "$2"; }

if [ $# -gt 0 ]; then
  dirs=("$@")
else
  dirs=(patterns/[0-9][0-9]-*/)
fi
[ -e "${dirs[0]}" ] || { echo "lint-patterns: no pattern directories" >&2; exit 1; }

for dir in "${dirs[@]}"; do
  dir=${dir%/}
  name=$(basename "$dir")
  num=${name%%-*}
  [[ "$name" =~ ^[0-9]{2}-[a-z0-9-]+$ ]] || problem "$dir" "the directory name must be NN-name"

  for f in "${files[@]}"; do
    [ -f "$dir/$f" ] || problem "$dir" "missing $f"
  done
  ls "$dir"/tests/*.tftest.hcl >/dev/null 2>&1 || problem "$dir" "missing tests/*.tftest.hcl (terraform test)"
  for f in "$dir"/*.tf; do
    case " ${files[*]} " in
      *" $(basename "$f") "*) ;;
      *) problem "$dir" "$(basename "$f") is not in the skeleton's file set" ;;
    esac
  done
  [ -f "$dir/variables.tf" ] && [ -f "$dir/outputs.tf" ] && [ -f "$dir/main.tf" ] || continue

  vars=$(names variable "$dir/variables.tf")
  for v in "${shared_variables[@]}"; do
    grep -qx "$v" <<<"$vars" || problem "$dir" "variables.tf lacks the shared variable $v"
  done
  for v in aws_region create_sns_topic sns_topic_arn; do
    grep -qx "$v" <<<"$vars" && problem "$dir" "variable $v: the skeleton's name is different"
  done
  block variable create_alarm_topic "$dir/variables.tf" | grep -Eq '^ +default += true$' ||
    problem "$dir" "create_alarm_topic must default to true (an alarm that notifies nobody is no alarm)"
  outs=$(names output "$dir/outputs.tf")
  for o in "${shared_outputs[@]}"; do
    grep -qx "$o" <<<"$outs" || problem "$dir" "outputs.tf lacks the shared output $o"
  done

  packages=$(grep -x '[a-z_]*_package_path' <<<"$vars" || true)
  [ -n "$packages" ] || problem "$dir" "no <role>_package_path variable for the function package"
  for v in $packages; do
    block variable "$v" "$dir/variables.tf" | grep -Eq '^ +default += "target/lambda/[a-z0-9-]+/bootstrap.zip"$' ||
      problem "$dir" "$v must default to \"target/lambda/<package>/bootstrap.zip\" (relative to the repository root)"
  done

  for v in $vars; do
    body=$(block variable "$v" "$dir/variables.tf")
    if grep -Eq '^ +description += ".*\([a-z0-9-]+( and [a-z0-9-]+)?: [a-z_]+[^)]*\)\."$' <<<"$body" &&
      grep -q '^  validation {' <<<"$body"; then
      problem "$dir" "variable $v is handed to a module (its description says which) but has a validation of its own"
    fi
  done

  while read -r src; do
    [[ "$src" == ../../infra/modules/* ]] || problem "$dir" "module source $src is not ../../infra/modules/<name>"
  done < <(sed -n 's/^  source *= *"\(.*\)"$/\1/p' "$dir"/*.tf)

  template=dashboards/$name.json.tftpl
  [ -f "$template" ] || problem "$dir" "missing its dashboard body $template"
  grep -q "\"\${path.module}/../../$template\"" "$dir/dashboard.tf" 2>/dev/null ||
    problem "$dir" "dashboard.tf must render \"\${path.module}/../../$template\""

  for check in "scripts/smoke-$num.sh" "tests/e2e-$num.sh"; do
    [ -f "$check" ] || problem "$dir" "missing its check $check"
    grep -q "(../../$check)" "$dir/README.md" 2>/dev/null || problem "$dir" "README.md does not link ../../$check"
  done
  grep -q "(tests/)" "$dir/README.md" 2>/dev/null || problem "$dir" "README.md does not link tests/"
  grep -q "(../../$template)" "$dir/README.md" 2>/dev/null || problem "$dir" "README.md does not link ../../$template"
done

if [ "$problems" -gt 0 ]; then
  echo "lint-patterns: $problems problem(s)" >&2
  exit 1
fi
echo "lint-patterns: ${#dirs[@]} pattern(s) follow patterns/README.md"
