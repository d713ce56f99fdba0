#!/usr/bin/env node
// Deaggregates kstream-kpl's Kinesis records with Node aws-kinesis-agg (checksums on) and compares
// every user record with what kstream put in. Exits 1 on any difference.
// Usage: NODE_PATH=bench/node_modules node tests/interop/check_node.js OUT.json
'use strict';
const fs = require('fs');
const { deaggregateSync } = require('aws-kinesis-agg');
const aggVersion = require('aws-kinesis-agg/package.json').version;

// The library reads explicit_hash_key_table[explicit_hash_key_index] without checking that the
// index is present; absent, it decodes as 0, so a record without a key gets the table's first key
// when the table is not empty. A bug of the library, reproduced so every byte is still checked.
function libraryEhk(expected, j) {
  if (expected[j].explicitHashKey !== null) return expected[j].explicitHashKey;
  const first = expected.find((e) => e.explicitHashKey !== null);
  return first === undefined ? undefined : first.explicitHashKey;
}

const doc = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const failures = [];
let users = 0;
doc.kinesisRecords.forEach((k, i) => {
  const ctx = `record ${i} (case ${k.case}, ${k.how})`;
  const seq = '4959' + String(i).padStart(52, '0');
  let got;
  deaggregateSync({ partitionKey: k.partitionKey, sequenceNumber: seq, data: k.data }, true, (err, recs) => {
    if (err) failures.push(`${ctx}: ${err.message}`);
    got = recs;
  });
  if (!got) return;
  const expected = k.expected;
  if (got.length !== expected.length) {
    failures.push(`${ctx}: ${got.length} user records, expected ${expected.length}`);
    return;
  }
  got.forEach((g, j) => {
    const e = expected[j];
    const checks = {
      partitionKey: [g.partitionKey, e.partitionKey],
      data: [Buffer.from(g.data, 'base64').toString('hex'), Buffer.from(e.data, 'base64').toString('hex')],
      sequenceNumber: [g.sequenceNumber, seq],
    };
    if (k.aggregated) {
      checks.subSequenceNumber = [g.subSequenceNumber, j];
      checks.explicitHashKey = [g.explicitPartitionKey, libraryEhk(expected, j)];
    } else {
      checks.subSequenceNumber = [g.subSequenceNumber, undefined];
    }
    for (const [field, [have, want]] of Object.entries(checks)) {
      if (have !== want) {
        failures.push(`${ctx}, user record ${j}: ${field} = ${String(have).slice(0, 80)}, expected ${String(want).slice(0, 80)}`);
      }
    }
    users += 1;
  });
});
const lib = `aws-kinesis-agg ${aggVersion} (Node ${process.version})`;
if (failures.length > 0) {
  console.error(`FAIL ${lib}: ${failures.length} differences`);
  failures.slice(0, 20).forEach((f) => console.error('  ' + f));
  process.exit(1);
}
console.log(`ok   ${lib}: ${doc.kinesisRecords.length} Kinesis records from kstream-kpl -> ${users} user records, all identical`);
