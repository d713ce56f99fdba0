// Node peer for bench/firehose-transform: the same Firehose event and template, rendered
// by Handlebars.js 4.7 (the library the seed's connector uses), doing what a Node
// transformation Lambda does per invocation: parse the event, base64-decode and
// JSON.parse each record, render, base64-encode the output, build and serialize the
// response. Run as a script, it prints one JSON line with wall time and CPU time
// (process.cpuUsage: every thread, garbage collection included) per invocation; peak memory is
// measured from outside.
//
//   node node_transform.js EVENT.json TEMPLATE.hbs ITERATIONS WARMUP
//
// Imported as a Lambda handler module (bench/cold-start, through
// bench/enrichment/node_runtime.mjs), it compiles the template of TEMPLATE_FILE when loaded (the
// cold start, as the Rust function reads TEMPLATE_FILE at init) and exports `handler`.
'use strict';
const fs = require('fs');
const path = require('path');
const Handlebars = require(path.join(__dirname, '..', 'node_modules', 'handlebars'));

// strict like the Rust transform; noEscape because HTML escaping has no place in JSON
const compile = (text) => Handlebars.compile(text.trimEnd(), { strict: true, noEscape: true });

function transform(event, template) {
  const records = event.records.map((record) => {
    try {
      const input = JSON.parse(Buffer.from(record.data, 'base64').toString('utf8'));
      const output = template(input) + '\n';
      return {
        recordId: record.recordId,
        result: 'Ok',
        data: Buffer.from(output, 'utf8').toString('base64'),
        metadata: { partitionKeys: {} },
      };
    } catch (e) {
      return { recordId: record.recordId, result: 'ProcessingFailed', data: record.data };
    }
  });
  return { records };
}

function bench() {
  const [eventPath, templatePath, iterationsArg, warmupArg] = process.argv.slice(2);
  const iterations = Number(iterationsArg);
  const warmup = Number(warmupArg);
  const eventText = fs.readFileSync(eventPath, 'utf8');
  const template = compile(fs.readFileSync(templatePath, 'utf8'));
  const times = [];
  let cpuTotal = 0;
  let records = 0;
  let ok = 0;
  let responseBytes = 0;
  for (let i = 0; i < warmup + iterations; i++) {
    const cpuStart = process.cpuUsage();
    const start = process.hrtime.bigint();
    const event = JSON.parse(eventText);
    records = event.records.length;
    const response = transform(event, template);
    const body = JSON.stringify(response);
    const elapsed = Number(process.hrtime.bigint() - start) / 1e9;
    const cpu = process.cpuUsage(cpuStart);
    ok = response.records.filter((r) => r.result === 'Ok').length;
    responseBytes = Buffer.byteLength(body);
    if (i >= warmup) {
      times.push(elapsed);
      cpuTotal += (cpu.user + cpu.system) / 1000; // ms, all threads (GC included)
    }
  }
  times.sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)];
  const total = times.reduce((a, b) => a + b, 0);
  process.stdout.write(JSON.stringify({
    impl: 'node',
    handlebars: Handlebars.VERSION,
    records,
    ok,
    event_bytes: Buffer.byteLength(eventText),
    response_bytes: responseBytes,
    iterations,
    median_ms: median * 1000,
    mean_ms: (total / iterations) * 1000,
    records_per_s: records / median,
    cpu_ms: cpuTotal / iterations,
  }) + '\n');
}

if (require.main === module) {
  bench();
} else {
  const template = compile(fs.readFileSync(process.env.TEMPLATE_FILE, 'utf8'));
  module.exports.handler = async (event) => transform(event, template);
}
