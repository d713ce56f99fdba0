#!/usr/bin/env node
// Aggregates every case of cases.json with Node aws-kinesis-agg and writes vectors/node.json.
// Usage: NODE_PATH=bench/node_modules node tests/interop/gen_node.js tests/interop/cases.json tests/interop/vectors/node.json
'use strict';
const fs = require('fs');
const path = require('path');
const { RecordAggregator } = require('aws-kinesis-agg');
const aggVersion = require('aws-kinesis-agg/package.json').version;

const [casesPath, outPath] = process.argv.slice(2);
const cases = JSON.parse(fs.readFileSync(casesPath, 'utf8')).cases;

const vectors = cases.map((c) => {
  // The Node aggregator has no size setting: it always fills up to 1 MiB.
  const records = c.records.map((r) => {
    const rec = { partitionKey: r.partitionKey, data: Buffer.from(r.data, 'base64') };
    if (r.explicitHashKey !== null) rec.explicitHashKey = r.explicitHashKey;
    return rec;
  });
  const counts = [];
  const out = [];
  const agg = new RecordAggregator();
  // aggregateRecords calls back synchronously with each full aggregate, and once more at the end.
  agg.aggregateRecords(records, true, (err, encoded) => {
    if (err) throw err;
    out.push(encoded);
  });
  // Count user records per aggregate by decoding (the callback does not say).
  const { AggregatedRecord } = require('aws-kinesis-agg/lib/common');
  for (const e of out) {
    counts.push(AggregatedRecord.decode(e.data.slice(4, e.data.length - 16)).records.length);
  }
  return {
    name: c.name,
    maxSize: 1024 * 1024,
    kinesisRecords: out.map((e, i) => ({
      partitionKey: e.partitionKey,
      explicitHashKey: e.ExplicitHashKey === undefined ? null : e.ExplicitHashKey,
      userRecords: counts[i],
      data: e.data.toString('base64'),
    })),
  };
});

fs.writeFileSync(outPath, JSON.stringify({
  library: `aws-kinesis-agg ${aggVersion} (Node ${process.version})`,
  generatedBy: 'tests/interop/' + path.basename(__filename),
  cases: vectors,
}, null, 1) + '\n');
