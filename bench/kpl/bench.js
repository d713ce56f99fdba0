#!/usr/bin/env node
// Node aws-kinesis-agg on the shared KPL bench datasets (made by the Rust harness).
// Usage: NODE_PATH=bench/node_modules node bench/kpl/bench.js DIR   -> JSON on stdout
// Each measurement is the best of several passes (at least MIN_PASSES and MIN_SECONDS), in process
// CPU time (GC threads included), so that other processes competing for the cores skew it less.
'use strict';
const fs = require('fs');
const { deaggregateSync, RecordAggregator } = require('aws-kinesis-agg');
const aggVersion = require('aws-kinesis-agg/package.json').version;

const MIN_PASSES = 3;
const MIN_SECONDS = 1.0;
const SIZES = [100, 1024];

function best(fn) {
  const start = process.hrtime.bigint();
  let bestT = Infinity;
  let passes = 0;
  while (passes < MIN_PASSES || Number(process.hrtime.bigint() - start) / 1e9 < MIN_SECONDS) {
    const t = process.cpuUsage();
    fn();
    const used = process.cpuUsage(t);
    bestT = Math.min(bestT, (used.user + used.system) / 1e6);
    passes += 1;
  }
  return bestT;
}

const rate = (bytes, records, seconds) => ({ seconds, mb_per_s: bytes / 1e6 / seconds, records_per_s: records / seconds });

function measure(path) {
  const d = JSON.parse(fs.readFileSync(path, 'utf8'));
  const users = d.userRecords.map((u) => ({ partitionKey: u.partitionKey, data: Buffer.from(u.data, 'base64') }));
  const kinesis = d.kinesisRecords.map((k) => ({ partitionKey: k.partitionKey, sequenceNumber: k.sequenceNumber, data: k.data }));
  const kinesisBytes = d.kinesisRecords.reduce((s, k) => s + Buffer.from(k.data, 'base64').length, 0);
  const userBytes = users.reduce((s, u) => s + u.data.length, 0);

  let count = 0;
  const tDeagg = best(() => {
    count = 0;
    for (const k of kinesis) {
      // Checksums on, as kstream-kpl always verifies the MD5.
      deaggregateSync(k, true, (err, recs) => {
        if (err) throw err;
        count += recs.length;
      });
    }
  });
  if (count !== users.length) throw new Error(`deaggregated ${count} of ${users.length}`);

  let out = 0;
  const tAgg = best(() => {
    // The Node aggregator has no size setting: it fills aggregates up to 1 MiB.
    out = 0;
    const agg = new RecordAggregator();
    agg.aggregateRecords(users, true, (err) => {
      if (err) throw err;
      out += 1;
    });
  });
  return {
    record_size: d.recordSize,
    user_records: users.length,
    deaggregate: rate(kinesisBytes, users.length, tDeagg),
    aggregate: rate(userBytes, users.length, tAgg),
    aggregate_kinesis_records: out,
  };
}

const dir = process.argv[2];
console.log(JSON.stringify({
  implementation: `aws-kinesis-agg ${aggVersion} (Node ${process.version})`,
  clock: 'process CPU time',
  throughput: SIZES.map((s) => measure(`${dir}/dataset-${s}.json`)),
}, null, 1));
