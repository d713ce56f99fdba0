#!/usr/bin/env python3
"""The IaC scan's gate: checkov over planned resources, compared with a committed baseline.

    checkov_gate.py --checkov BIN --baseline security/checkov-baseline.yaml PLAN.json...

Each PLAN.json is `terraform show -json` of a saved plan, named after its pattern
(01-apigw-kds-lambda.json). One checkov run (framework terraform_plan) scans them all; then, per
pattern, every failed check must be listed in the baseline as "CHECK_ID resource.address", and every
baseline entry of a scanned pattern must still fail (a fixed finding leaves the baseline). Every
check id in the baseline has a reason under `reasons`. Prints passed/failed/baselined per pattern;
exits 1 on a new finding, a stale entry or a check without a reason.
"""

import argparse
import json
import os
import subprocess
import sys
from collections import defaultdict

import yaml


def load_baseline(path):
    with open(path, encoding="utf-8") as f:
        doc = yaml.safe_load(f) or {}
    reasons = doc.get("reasons") or {}
    accepted = {}
    problems = []
    for pattern, entries in (doc.get("patterns") or {}).items():
        accepted[pattern] = set()
        for entry in entries or []:
            parts = entry.split()
            if len(parts) != 2:
                problems.append(f"{path}: {pattern}: '{entry}' is not 'CHECK_ID resource.address'")
                continue
            if parts[0] not in reasons:
                problems.append(f"{path}: {pattern}: {parts[0]} has no reason under 'reasons'")
            accepted[pattern].add(tuple(parts))
    return accepted, reasons, problems


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkov", required=True, help="the checkov executable")
    ap.add_argument("--baseline", required=True)
    ap.add_argument("plans", nargs="+")
    args = ap.parse_args()

    accepted, reasons, problems = load_baseline(args.baseline)
    cmd = [args.checkov, "--framework", "terraform_plan", "--output", "json", "--compact",
           "--skip-download", "--soft-fail"]
    for plan in args.plans:
        cmd += ["--file", plan]
    run = subprocess.run(cmd, capture_output=True, text=True, check=False)
    try:
        report = json.loads(run.stdout)
    except json.JSONDecodeError:
        sys.stderr.write(run.stderr)
        print(f"checkov-gate: checkov printed no JSON report (exit {run.returncode})", file=sys.stderr)
        return 1
    # One report for one framework; a list when checkov ran more than one.
    reports = report if isinstance(report, list) else [report]

    def pattern_of(file_path):
        return os.path.splitext(os.path.basename(file_path))[0]

    passed = defaultdict(int)
    failed = defaultdict(set)
    for r in reports:
        for check in r.get("results", {}).get("passed_checks", []):
            passed[pattern_of(check["file_path"])] += 1
        for check in r.get("results", {}).get("failed_checks", []):
            failed[pattern_of(check["file_path"])].add((check["check_id"], check["resource"]))

    bad = bool(problems)
    for p in problems:
        print(f"FAIL  {p}")
    for plan in args.plans:
        pattern = pattern_of(plan)
        if passed[pattern] == 0 and not failed[pattern]:
            print(f"FAIL  {pattern}: checkov checked nothing in {plan}")
            bad = True
            continue
        base = accepted.get(pattern, set())
        new = sorted(failed[pattern] - base)
        stale = sorted(base - failed[pattern])
        baselined = len(failed[pattern] & base)
        status = "ok   " if not new and not stale else "FAIL "
        print(f"{status} checkov {pattern}: {passed[pattern]} passed, {len(failed[pattern])} failed, "
              f"{baselined} of them baselined ({args.baseline})")
        for check_id, resource in new:
            print(f"        new finding: {check_id} {resource}")
        for check_id, resource in stale:
            print(f"        baselined but no longer failing (remove it): {check_id} {resource}")
        bad = bad or bool(new) or bool(stale)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
