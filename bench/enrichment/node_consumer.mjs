// The enrichment benchmark's Node 20 peer: pattern 4's consumer (functions/enrichment-consumer)
// as a Node user would write it for the nodejs20.x runtime, doing the same work with the same
// settings (issue 11 contract): for each Kinesis batch, read the trips, sample those with
// ride_request_id % SAMPLE_EVERY == 0, GET FARE_API_URL?ride_request_id=N for each (x-api-key +
// SigV4 for execute-api with @smithy/signature-v4 and @aws-crypto/sha256-js, at most
// MAX_IN_FLIGHT at a time with p-limit, CALL_TIMEOUT_MS per attempt, 429/5xx/timeouts/connection
// errors retried with full-jitter backoff while MAX_ATTEMPTS and the remaining time allow), write
// the rows of the records before the first failed one to S3 per pickup dt=/hr= (the same keys and
// lines as the Rust function), name that record in batchItemFailures, and publish the same EMF
// metrics (Powertools for AWS Lambda (TypeScript) Metrics; CallLatency one value per attempt).
// The API key is read from SSM (API_KEY_PARAMETER, with decryption) once, at cold start.
//
// Local mode as the Rust function: with AWS_ENDPOINT_URL_EXECUTE_API set, requests go to that
// base URL with the original path and Host header, signed for the original host.
// Plain JSON records only (the replay does not KPL-aggregate by default; the Rust function also
// deaggregates).
import http from 'node:http';
import https from 'node:https';
import { performance } from 'node:perf_hooks';

import { Sha256 } from '@aws-crypto/sha256-js';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { GetParameterCommand, SSMClient } from '@aws-sdk/client-ssm';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import { SignatureV4 } from '@smithy/signature-v4';
import pLimit from 'p-limit';

const WRITE_MARGIN_MS = 1500;
const MAX_BODY = 64 * 1024;

function intVar(name, fallback, min, max) {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`${name}=${raw}: expected an integer in ${min}..=${max}`);
  }
  return value;
}

function requiredVar(name) {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is required`);
  return value;
}

function prefixVar(name, fallback) {
  const value = process.env[name] ?? fallback;
  if (value !== '' && !value.endsWith('/')) throw new Error(`${name}=${value}: expected empty or ending in /`);
  return value;
}

const apiUrl = new URL(requiredVar('FARE_API_URL'));
if (apiUrl.protocol !== 'https:' || apiUrl.search || apiUrl.pathname.length <= 1) {
  throw new Error(`FARE_API_URL=${apiUrl}: expected https://{api}.execute-api.{region}.amazonaws.com/{stage}/predictFare`);
}
const hostRegion = /^[^.]+\.execute-api\.([^.]+)\.amazonaws\.com$/.exec(apiUrl.hostname)?.[1];
const config = {
  host: apiUrl.host,
  path: apiUrl.pathname,
  region: hostRegion ?? requiredVar('AWS_REGION'),
  send: process.env.AWS_ENDPOINT_URL_EXECUTE_API ? new URL(process.env.AWS_ENDPOINT_URL_EXECUTE_API) : apiUrl,
  keyParameter: requiredVar('API_KEY_PARAMETER'),
  sampleEvery: intVar('SAMPLE_EVERY', 20, 1, 1_000_000),
  maxInFlight: intVar('MAX_IN_FLIGHT', 20, 1, 256),
  callTimeoutMs: intVar('CALL_TIMEOUT_MS', 3000, 100, 28_000),
  maxAttempts: intVar('MAX_ATTEMPTS', 4, 1, 10),
  bucket: requiredVar('OUTPUT_BUCKET'),
  outputPrefix: prefixVar('OUTPUT_PREFIX', 'enriched/'),
  errorPrefix: prefixVar('ERROR_PREFIX', 'errors/'),
  writeUnsampled: (process.env.WRITE_UNSAMPLED ?? 'false') === 'true',
};
const sendPrefix = config.send === apiUrl ? '' : config.send.pathname.replace(/\/$/, '');
const transport = config.send.protocol === 'http:' ? http : https;
const agent = new transport.Agent({ keepAlive: true, maxSockets: config.maxInFlight });

const metrics = new Metrics({
  namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'kstream',
  serviceName: process.env.POWERTOOLS_SERVICE_NAME ?? 'kstream',
  defaultDimensions: { FunctionName: process.env.AWS_LAMBDA_FUNCTION_NAME ?? 'enrichment-consumer-node' },
});
const s3 = new S3Client({});
const signer = new SignatureV4({
  service: 'execute-api',
  region: config.region,
  credentials: defaultProvider(),
  sha256: Sha256,
});

// Cold start: the API key, once.
const apiKey = (
  await new SSMClient({}).send(new GetParameterCommand({ Name: config.keyParameter, WithDecryption: true }))
).Parameter?.Value;
if (!apiKey) throw new Error(`SSM parameter ${config.keyParameter} has no value`);

class CallError extends Error {
  constructor(message, retryable, status) {
    super(message);
    this.retryable = retryable;
    this.status = status;
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

const optional = (trip, field, check, what) => {
  const value = trip[field];
  if (value === undefined || value === null) return null;
  if (!check(value)) throw new Error(`${field} ${what}`);
  return value;
};
const isInstant = (v) => typeof v === 'string' && !Number.isNaN(Date.parse(v));

/** One record: {trip, sampled} | {skipped: true} | {error: reason}. */
function readRecord(record) {
  let event;
  try {
    event = JSON.parse(utf8.decode(Buffer.from(record.kinesis.data, 'base64')));
  } catch (e) {
    return { error: `not UTF-8 JSON: ${e.message}` };
  }
  if (typeof event !== 'object' || event === null || Array.isArray(event)) return { error: 'not a JSON object' };
  const isTrip = event.type === 'trip' || ((event.type === undefined || event.type === null) && 'trip_id' in event);
  if (!isTrip) return { skipped: true };
  try {
    const tripId = event.trip_id;
    if (!Number.isSafeInteger(tripId) || tripId <= 0) throw new Error('trip_id is not a positive integer');
    const rideRequestId = optional(event, 'ride_request_id', (v) => Number.isSafeInteger(v) && v > 0, 'is not a positive integer') ?? tripId;
    if (!isInstant(event.pickup_datetime)) throw new Error('pickup_datetime is not an ISO-8601 instant');
    const trip = {
      trip_id: tripId,
      ride_request_id: rideRequestId,
      pickup_datetime: event.pickup_datetime,
      dropoff_datetime: optional(event, 'dropoff_datetime', isInstant, 'is not an ISO-8601 instant'),
      pickup_location_id: optional(event, 'pickup_location_id', Number.isSafeInteger, 'is not an integer'),
      dropoff_location_id: optional(event, 'dropoff_location_id', Number.isSafeInteger, 'is not an integer'),
      passenger_count: optional(event, 'passenger_count', Number.isSafeInteger, 'is not an integer'),
      trip_distance: optional(event, 'trip_distance', Number.isFinite, 'is not a number'),
      total_amount: optional(event, 'total_amount', Number.isFinite, 'is not a number'),
    };
    return { trip, sampled: rideRequestId % config.sampleEvery === 0 };
  } catch (e) {
    return { error: e.message };
  }
}

/** One attempt: the fare, or a CallError. */
async function callOnce(id) {
  const signed = await signer.sign({
    method: 'GET',
    protocol: 'https:',
    hostname: apiUrl.hostname,
    path: config.path,
    query: { ride_request_id: String(id) },
    headers: { host: config.host, 'x-api-key': apiKey },
  });
  const { status, body } = await new Promise((resolve, reject) => {
    const request = transport.request(
      {
        protocol: config.send.protocol,
        hostname: config.send.hostname,
        port: config.send.port || undefined,
        path: `${sendPrefix}${config.path}?ride_request_id=${id}`,
        method: 'GET',
        headers: { ...signed.headers, accept: 'application/json' },
        agent,
        signal: AbortSignal.timeout(config.callTimeoutMs),
      },
      (response) => {
        const chunks = [];
        let size = 0;
        response.on('data', (chunk) => {
          size += chunk.length;
          if (size > MAX_BODY) response.destroy(new Error('answer too large'));
          else chunks.push(chunk);
        });
        response.on('end', () => resolve({ status: response.statusCode, body: Buffer.concat(chunks).toString() }));
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    request.end();
  }).catch((e) => {
    throw new CallError(e.name === 'AbortError' || e.name === 'TimeoutError'
      ? `timed out after ${config.callTimeoutMs} ms` : `connection error: ${e.message}`, true);
  });
  if (status === 200) {
    const fare = JSON.parse(body).expected_fare;
    if (!Number.isFinite(fare)) throw new CallError(`no finite expected_fare in ${body.slice(0, 200)}`, false, status);
    return fare;
  }
  throw new CallError(`${status} ${body.slice(0, 200)}`, status === 429 || status >= 500, status);
}

/** The fare of `id`, retried; every attempt's latency goes to `stats`. */
async function fare(id, context, stats, cancelled) {
  for (let attempt = 1; ; attempt++) {
    if (cancelled()) return undefined;
    const started = performance.now();
    try {
      return await callOnce(id);
    } catch (error) {
      if (!(error instanceof CallError)) throw error;
      if (error.status === 429) stats.throttles++;
      if (!error.retryable || attempt >= config.maxAttempts) throw error;
      const backoff = Math.random() * Math.min(2000, 100 * 2 ** (attempt - 1));
      if (context.getRemainingTimeInMillis() < backoff + config.callTimeoutMs + WRITE_MARGIN_MS) throw error;
      stats.retries++;
      await new Promise((r) => setTimeout(r, backoff));
    } finally {
      stats.latencies.push(performance.now() - started);
    }
  }
}

const shardOf = (record) => record.eventID?.split(':')[0] ?? 'unknown-shard';

export const handler = async (event, context) => {
  const records = event.Records ?? [];
  const reads = records.map(readRecord);
  const stats = { latencies: [], retries: 0, throttles: 0, callFailures: 0 };
  const limit = pLimit(config.maxInFlight);
  const fares = new Map();
  let firstFailed = Infinity;
  await Promise.all(reads.map((read, index) => read.sampled && limit(async () => {
    try {
      const value = await fare(read.trip.ride_request_id, context, stats, () => index > firstFailed);
      if (value !== undefined) fares.set(index, value);
    } catch (error) {
      stats.callFailures++;
      firstFailed = Math.min(firstFailed, index);
      console.warn(JSON.stringify({ level: 'WARN', message: 'fare call failed', sequenceNumber: records[index].kinesis.sequenceNumber, error: error.message }));
    }
  })));

  const written = Math.min(firstFailed, records.length);
  let rowsWritten = 0;
  const puts = [];
  if (written > 0) {
    const first = records[0].kinesis.sequenceNumber;
    const last = records[written - 1].kinesis.sequenceNumber;
    const shard = shardOf(records[0]);
    const objects = new Map();
    const errors = [];
    for (let i = 0; i < written; i++) {
      const read = reads[i];
      const record = records[i];
      if (read.error) {
        errors.push(JSON.stringify({
          shard_id: shardOf(record), sequence_number: record.kinesis.sequenceNumber,
          partition_key: record.kinesis.partitionKey,
          approximate_arrival_timestamp: record.kinesis.approximateArrivalTimestamp ?? null,
          reason: read.error, data_base64: record.kinesis.data,
        }));
        continue;
      }
      if (!read.trip || !(read.sampled || config.writeUnsampled)) continue;
      const t = read.trip;
      const pickup = new Date(t.pickup_datetime).toISOString();
      const key = `${config.outputPrefix}dt=${pickup.slice(0, 10)}/hr=${pickup.slice(11, 13)}/${shard}-${first}-${last}.jsonl`;
      const line = JSON.stringify({
        ...t, expected_fare: fares.get(i) ?? null, sampled: read.sampled,
        shard_id: shardOf(record), sequence_number: record.kinesis.sequenceNumber,
      });
      if (!objects.has(key)) objects.set(key, []);
      objects.get(key).push(`${line}\n`);
    }
    for (const [key, lines] of objects) {
      rowsWritten += lines.length;
      puts.push(s3.send(new PutObjectCommand({ Bucket: config.bucket, Key: key, Body: lines.join(''), ContentType: 'application/x-ndjson' })));
    }
    if (errors.length) {
      const day = new Date().toISOString().slice(0, 10);
      const batchLast = records[records.length - 1].kinesis.sequenceNumber;
      const key = `${config.errorPrefix}dt=${day}/${shard}-${first}-${batchLast}.jsonl`;
      puts.push(s3.send(new PutObjectCommand({ Bucket: config.bucket, Key: key, Body: errors.map((l) => `${l}\n`).join(''), ContentType: 'application/x-ndjson' })));
    }
  }
  await Promise.all(puts);

  const trips = reads.filter((r) => r.trip).length;
  const sampled = reads.filter((r) => r.sampled).length;
  // Latencies first: Powertools publishes a document each time a metric reaches 100 values,
  // and the counters then go out with the last one.
  metrics.addMetadata('requestId', context.awsRequestId);
  for (const latency of stats.latencies) metrics.addMetric('CallLatency', MetricUnit.Milliseconds, latency);
  metrics.addMetric('Records', MetricUnit.Count, records.length);
  metrics.addMetric('Trips', MetricUnit.Count, trips);
  metrics.addMetric('Sampled', MetricUnit.Count, sampled);
  metrics.addMetric('Calls', MetricUnit.Count, stats.latencies.length);
  metrics.addMetric('Retries', MetricUnit.Count, stats.retries);
  metrics.addMetric('Throttles', MetricUnit.Count, stats.throttles);
  metrics.addMetric('CallFailures', MetricUnit.Count, stats.callFailures);
  metrics.addMetric('Skipped', MetricUnit.Count, reads.filter((r) => r.skipped).length);
  metrics.addMetric('ParseFailures', MetricUnit.Count, reads.filter((r) => r.error).length);
  metrics.addMetric('RowsWritten', MetricUnit.Count, rowsWritten);
  metrics.addMetric('BatchItemFailures', MetricUnit.Count, Number.isFinite(firstFailed) ? 1 : 0);
  metrics.publishStoredMetrics();
  console.log(JSON.stringify({ level: 'INFO', message: 'batch processed', records: records.length, trips, sampled, calls: stats.latencies.length, rows: rowsWritten }));

  return {
    batchItemFailures: Number.isFinite(firstFailed)
      ? [{ itemIdentifier: records[firstFailed].kinesis.sequenceNumber }]
      : [],
  };
};
