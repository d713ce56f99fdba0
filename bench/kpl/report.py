#!/usr/bin/env python3
"""Side-by-side table of the KPL bench: kstream-kpl vs Python aws_kinesis_agg vs Node aws-kinesis-agg.

Usage: report.py DIR OUT.md   (DIR holds rust.json, python.json, node.json from bench/kpl/run.sh)
Prints the table, writes it to OUT.md and the figures with their goals to bench/results/kpl.json.
"""
import json
import os
import platform
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from lib import results  # noqa: E402  (bench/lib)

GOAL_VS_PYTHON = 10.0
GOAL_VS_NODE = 4.0
# Deaggregation over the base64 + lane-MD5 bound: issue 14 raises it to 0.9 at 100 B; 0.70 elsewhere.
GOAL_OF_BOUND = {100: 0.90}
GOAL_OF_BOUND_OTHER = 0.70
# Aggregation over Node's, at every size (issue 14).
GOAL_AGGREGATE_VS_NODE = 2.0
# Wire efficiency at 100 B (issue 4): 0.95, or 0.99 of the format's ceiling for the same records
# where that ceiling is itself below 0.95 (a unique 36-byte key per 100-byte record: every record
# carries its key in the key table, 0.944 at most; see kpl.rs, format_floor_bytes).
GOAL_EFFICIENCY_100 = 0.95
GOAL_OF_CEILING = 0.99
SIDES = ["kstream", "Python aws_kinesis_agg", "Node aws-kinesis-agg"]


def goal_of_bound(size):
    return GOAL_OF_BOUND.get(size, GOAL_OF_BOUND_OTHER)


def load(directory, name):
    with open(os.path.join(directory, name)) as f:
        return json.load(f)


def by_size(doc):
    return {t["record_size"]: t for t in doc["throughput"]}


def mbs(r):
    return f"{r['mb_per_s']:.0f} MB/s ({r['records_per_s'] / 1e6:.2f} M rec/s)"


def verdict(value, goal):
    return "met" if value >= goal else "**not met**"


def efficiency_goal(w):
    """The data + keys goal of a wire-efficiency row (100 B rows only)."""
    return min(GOAL_EFFICIENCY_100, GOAL_OF_CEILING * w["format_ceiling_data_and_keys"])


def size_label(size):
    return f"{size} B" if size < 1024 else f"{size // 1024} KiB"


def write_result(rust, r, p, n):
    """bench/results/kpl.json: the tables' throughputs and the goals' verdicts."""
    sizes = sorted(r)

    def values(kind):
        return {f"{size_label(s)} records": {SIDES[0]: r[s][kind]["mb_per_s"], SIDES[1]: p[s][kind]["mb_per_s"],
                                             SIDES[2]: n[s][kind]["mb_per_s"]} for s in sizes}

    goals = []
    for s in sizes:
        ours, label = r[s]["deaggregate"]["mb_per_s"], size_label(s)
        goals += [
            results.goal(f"deaggregation vs Python, {label}", ours / p[s]["deaggregate"]["mb_per_s"],
                         GOAL_VS_PYTHON, ">=", "×"),
            results.goal(f"deaggregation vs Node, {label}", ours / n[s]["deaggregate"]["mb_per_s"],
                         GOAL_VS_NODE, ">=", "×"),
            results.goal(f"deaggregation of the base64 + lane-MD5 bound, {label}",
                         ours / r[s]["bound_base64_md5"]["mb_per_s"], goal_of_bound(s), ">=", "of bound"),
        ]
    for s in sizes:
        goals.append(results.goal(f"aggregation vs Node, {size_label(s)}",
                                  r[s]["aggregate"]["mb_per_s"] / n[s]["aggregate"]["mb_per_s"],
                                  GOAL_AGGREGATE_VS_NODE, ">=", "×"))
    for w in rust["wire_efficiency"]:
        if w["record_size"] == 100:
            goals.append(results.goal(f"aggregation wire efficiency (data + keys), 100 B, keys: {w['keys']}",
                                      w["efficiency_data_and_keys"], efficiency_goal(w), ">=", ""))
    return results.write(
        "kpl", "KPL deaggregation and aggregation: kstream-kpl vs Python and Node",
        results.command("bench/kpl/run.sh"), SIDES,
        [results.metric("deaggregation throughput (Kinesis record data)", "MB/s", True, values("deaggregate"),
                        plot=True),
         results.metric("aggregation throughput (user data)", "MB/s", True, values("aggregate"), plot=True)],
        goals)


def main():
    directory, out_path = sys.argv[1], sys.argv[2]
    rust, py, node = (load(directory, f) for f in ("rust.json", "python.json", "node.json"))
    r, p, n = by_size(rust), by_size(py), by_size(node)
    lines = []
    add = lines.append
    add("# KPL aggregation benchmark: kstream-kpl vs Python and Node")
    add("")
    add(f"Run {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} on {os.cpu_count()} cores "
        f"({platform.machine()}), load average at the end {os.getloadavg()[0]:.1f}; `make bench` / bench/kpl/run.sh.")
    add("")
    add(f"- kstream-kpl (Rust, release build, {rust.get('md5x_kernel', '?')} lane-MD5 kernel; {rust['clock']})")
    add(f"- {py['implementation']} ({py['clock']})")
    add(f"- {node['implementation']} ({node['clock']})")
    add("")
    add("Same input for all three: user records of 100 B and 1 KiB (JSON-like text, 100 partition keys), and the "
        "Kinesis records they aggregate to with the KPL defaults, as a Lambda event carries them (base64). Every figure "
        "is the best of several passes over the whole dataset, in CPU time, one implementation after the other.")
    add("")
    add("## Deaggregation")
    add("")
    batch = r[min(r)].get("batch_size", 100)
    add("Base64 Kinesis records in, user records (partition key, explicit hash key, data, sequence and subsequence "
        "numbers) out, MD5 checked (Node with `computeChecksums = true`). MB/s of Kinesis record data (decoded).")
    add("")
    add(f"- **kstream-kpl**: what the kds-consumer Lambda does, in batches of {batch} Kinesis records (the event "
        "source mapping's default BatchSize): every record's base64 decoded (base64-simd), then "
        "`deaggregate_batch` on the batch (MD5s of its aggregates in 16 SIMD lanes, each aggregate parsed in one pass "
        "as its MD5 completes, user records borrowed from the decoded data and kept compactly), every user record "
        "made and visited with its outer sequence number.")
    add("- **Python** / **Node**: their standard deaggregation call, one record at a time, from the same base64 text "
        "(bench/kpl/bench.py, bench/kpl/bench.js).")
    add(f"- **bound**: base64-decoding and MD5-digesting the same bytes and nothing else, with the fastest base64 and "
        f"MD5 the deaggregator itself uses (base64-simd; the lane MD5 over each batch of {batch}): what any "
        "implementation built from those parts must spend at least. *Scalar bound*: the same with the md-5 crate "
        "one record after the other (the bound of the one-at-a-time API).")
    add("")
    add("| records | kstream-kpl | Python | Node | × Python (goal ≥ 10) | × Node (goal ≥ 4) "
        "| bound: base64 + lane MD5 | kstream / bound (goal ≥ 0.90 at 100 B, ≥ 0.70 at 1 KiB) |")
    add("|---|---|---|---|---|---|---|---|")
    for size in sorted(r):
        ours, bound = r[size]["deaggregate"], r[size]["bound_base64_md5"]
        vp = ours["mb_per_s"] / p[size]["deaggregate"]["mb_per_s"]
        vn = ours["mb_per_s"] / n[size]["deaggregate"]["mb_per_s"]
        of_bound = ours["mb_per_s"] / bound["mb_per_s"]
        add(f"| {size_label(size)} | {mbs(ours)} | {mbs(p[size]['deaggregate'])} | {mbs(n[size]['deaggregate'])} "
            f"| {vp:.1f}× ({verdict(vp, GOAL_VS_PYTHON)}) | {vn:.1f}× ({verdict(vn, GOAL_VS_NODE)}) "
            f"| {bound['mb_per_s']:.0f} MB/s | {of_bound:.2f} ({verdict(of_bound, goal_of_bound(size))}) |")
    add("")
    add("Where the time goes (Rust, same bytes, MB/s):")
    add("")
    add("| records | base64 decode (base64-simd) | MD5, 16 lanes | MD5, md-5 crate | scalar bound: base64 + md-5 | "
        "kstream-kpl one record at a time (`deaggregate_record`, owned) |")
    add("|---|---|---|---|---|---|")
    for s_ in sorted(r):
        t = r[s_]
        add(f"| {size_label(s_)} | {t['base64_decode_only']['mb_per_s']:.0f} | {t['md5_lanes_only']['mb_per_s']:.0f} "
            f"| {t['md5_only']['mb_per_s']:.0f} | {t['bound_base64_md5_scalar']['mb_per_s']:.0f} "
            f"| {t['deaggregate_owned_per_record']['mb_per_s']:.0f} |")
    add("")
    add("The Rust figures are taken in turns (one sample of each measurement, round after round) so that they see the "
        "same load; each sample repeats the pass for at least 0.25 s of thread CPU time.")
    add("")
    add("## Aggregation")
    add("")
    add("User records in, encoded Kinesis records (magic, protobuf, MD5) out, all for one shard. kstream and Python at "
        "the KPL's 51200-byte AggregationMaxSize; Node has no size setting and fills 1 MiB aggregates. MB/s of user "
        "data.")
    add("")
    add("- **kstream-kpl**: as the producer finishes the aggregates it has ready together (several shards' aggregates "
        "flushed at once, or a burst that fills several): `Aggregator::add_unfinished` writes each record's protobuf "
        "fields into the buffer the aggregate is sent in, and the full aggregates are finished 16 at a time by "
        "`finish_all`, their MD5s side by side in the 16-lane MD5. *One at a time*: `Aggregator::add`, each "
        "aggregate's MD5 computed alone (md-5 crate) when it is emitted, the producer's case when only one aggregate "
        "is ready.")
    add("- **Python** (`RecordAggregator.add_user_record`, `get_contents`) and **Node** (`RecordAggregator."
        "aggregateRecords`): one MD5 per aggregate, computed when it is emitted (Node's with `crypto`, i.e. OpenSSL).")
    add("")
    add("| records | kstream-kpl | kstream-kpl, one at a time | Python | Node | × Python | × Node (goal ≥ 2) "
        "| one at a time × Node | Kinesis records (kstream / Python / Node) |")
    add("|---|---|---|---|---|---|---|---|---|")
    for size in sorted(r):
        ours, one = r[size]["aggregate"], r[size]["aggregate_one_at_a_time"]
        vp = ours["mb_per_s"] / p[size]["aggregate"]["mb_per_s"]
        vn = ours["mb_per_s"] / n[size]["aggregate"]["mb_per_s"]
        vn_one = one["mb_per_s"] / n[size]["aggregate"]["mb_per_s"]
        add(f"| {size_label(size)} | {mbs(ours)} | {mbs(one)} | {mbs(p[size]['aggregate'])} "
            f"| {mbs(n[size]['aggregate'])} | {vp:.1f}× | {vn:.1f}× ({verdict(vn, GOAL_AGGREGATE_VS_NODE)}) "
            f"| {vn_one:.1f}× | {r[size]['aggregate_kinesis_records']} / {p[size]['aggregate_kinesis_records']} "
            f"/ {n[size]['aggregate_kinesis_records']} |")
    add("")
    add("## Wire efficiency")
    add("")
    add("20000 user records aggregated by kstream-kpl with the KPL defaults (51200 bytes), one shard. "
        "*Data + keys*: what a non-aggregating producer would send (user data + partition keys) over what is sent "
        "(aggregate data + its partition key `a`); above 1 when repeated keys are deduplicated. *Data only*: user data "
        "over the bytes sent. The format costs at least 6 bytes per record (record tag and length, key index, data tag "
        "and length), so *data only* is at most 100/106 = 0.943 for 100-byte records. *Format ceiling*: data + keys "
        "over the fewest bytes any encoder of the format could send the same records in (each distinct key once in a "
        "key table, each record with a one-byte key index, the fewest aggregates); a unique 36-byte key per 100-byte "
        "record caps it at 136/144 = 0.944. Goal at 100 B: data + keys ≥ 0.95, or ≥ 0.99 of the format ceiling where "
        "that is below 0.95.")
    add("")
    add("| record size | partition keys | user records per Kinesis record | data + keys | goal | format ceiling "
        "| of ceiling | data only |")
    add("|---|---|---|---|---|---|---|---|")
    for w in rust["wire_efficiency"]:
        eff, ceiling = w["efficiency_data_and_keys"], w["format_ceiling_data_and_keys"]
        goal = (f"≥ {efficiency_goal(w):.3f} ({verdict(eff, efficiency_goal(w))})"
                if w["record_size"] == 100 else "")
        add(f"| {size_label(w['record_size'])} | {w['keys']} | {w['user_records_per_kinesis_record']:.0f} "
            f"| {eff:.3f} | {goal} | {ceiling:.3f} | {eff / ceiling:.3f} | {w['efficiency_data_only']:.3f} |")
    add("")
    text = "\n".join(lines)
    print(text)
    with open(out_path, "w") as f:
        f.write(text)
    print(f"wrote {out_path} and {write_result(rust, r, p, n)}", file=sys.stderr)


main()
