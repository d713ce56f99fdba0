// The Node peer of functions/kds-consumer: pattern 1's consumer written as a nodejs20.x Lambda
// user would, with Powertools for AWS Lambda (TypeScript) `BatchProcessor`
// (`EventType.KinesisDataStreams`, `processPartialResponse`) and aws-kinesis-agg for KPL
// aggregates (both pinned in bench/package.json). Run by bench/enrichment/node_runtime.mjs.
//
// The same validation as the Rust function's ValidatingProcessor (functions/kds-consumer), user
// record by user record: UTF-8 (strict, a BOM kept and refused by JSON.parse as serde_json does)
// JSON of at most 1 MiB; a JSON object; `"poison": true` fails; every field of REQUIRED_FIELDS
// (comma-separated) present and not null. A KPL aggregate (the data starts with the KPL magic) is
// deaggregated with aws-kinesis-agg, MD5 checked; a corrupt one fails, and the first failing
// sub-record fails the Kinesis record (the rest of the aggregate is skipped), as in the Rust
// function. Powertools names every failed record's sequence number in `batchItemFailures`.
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import agg from 'aws-kinesis-agg';

const MAX_RECORD_BYTES = 1024 * 1024;
const MAGIC = Buffer.from('f3899ac2', 'hex');
const REQUIRED_FIELDS = (process.env.REQUIRED_FIELDS ?? '').split(',').map((f) => f.trim()).filter((f) => f);
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

const processor = new BatchProcessor(EventType.KinesisDataStreams);

function validate(data) {
  if (data.length === 0) throw new Error('empty record');
  if (data.length > MAX_RECORD_BYTES) throw new Error(`record data is ${data.length} bytes, more than ${MAX_RECORD_BYTES}`);
  let record;
  try {
    record = JSON.parse(utf8.decode(data));
  } catch (error) {
    throw new Error(`not UTF-8 JSON: ${error.message}`);
  }
  if (record === null || typeof record !== 'object' || Array.isArray(record)) {
    throw new Error('record is not a JSON object');
  }
  if (Object.hasOwn(record, 'poison') && record.poison === true) throw new Error('poison record');
  for (const field of REQUIRED_FIELDS) {
    if (!Object.hasOwn(record, field) || record[field] === null) {
      throw new Error(`record lacks the required field ${field}`);
    }
  }
}

function recordHandler(record) {
  const data = Buffer.from(record.kinesis.data, 'base64');
  if (!data.subarray(0, MAGIC.length).equals(MAGIC)) {
    validate(data);
    return;
  }
  let users;
  agg.deaggregateSync(record.kinesis, true, (error, records) => {
    if (error) throw new Error(`corrupt KPL aggregate: ${error.message}`);
    users = records;
  });
  for (const user of users) validate(Buffer.from(user.data, 'base64'));
}

export const handler = async (event, context) => processPartialResponse(event, recordHandler, processor, { context });
