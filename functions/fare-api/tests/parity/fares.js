#!/usr/bin/env node
// The fare API's parity table: the reference's function (patterns-2-4 §5,
// source/lambda/taxi-fare-endpoint/index.js), run by node on every id below; prints one JSON row
// per id: {"ride_request_id": <query value, or null when the parameter is absent>, "status", "body"}.
//
//   node functions/fare-api/tests/parity/fares.js > functions/fare-api/tests/parity/fares.json
//
// The committed fares.json is what the Rust test (tests/parity.rs) compares the function with,
// byte for byte; scripts/test-interop.sh regenerates it with node and fails on any difference.
'use strict';

// The reference, verbatim apart from the export.
function reference(event) {
  const id = parseFloat(event.queryStringParameters.ride_request_id);
  if (!id) return { statusCode: 400, body: 'Missing ride_request_id', isBase64Encoded: false };
  const pseudoRandom = (Math.E * id) % 1;
  const noiseFactor = 1 + (pseudoRandom * 0.4) - 0.2;
  const randomFare = Math.floor(pseudoRandom * (100 - 10 + 1) + 10);
  return {
    statusCode: 200,
    body: JSON.stringify({ ride_request_id: id, expected_fare: randomFare * noiseFactor }),
    isBase64Encoded: false,
  };
}

const ids = [];
// Small integers, the reference's samples, round and large ones.
for (let i = 1; i <= 40; i++) ids.push(String(i));
ids.push('123', '1000', '20', '-20', '-1', '-123', '99', '100', '101', '255', '256', '1024', '65535', '65536');
ids.push('2147483647', '2147483648', '4294967295', '4294967296', '9007199254740991', '9007199254740992',
  '9007199254740993', '18446744073709551615', '99999999999999999999', '100000000000000000000',
  '1000000000000000000000', '123456789012345678901234567890', '1e300', '1.7976931348623157e308', '1e309',
  '-1e309', '5e-324', '1e-400');
// Fractions, tiny numbers, exponent forms (JavaScript prints 1e21 and 1e-7 in exponent form).
ids.push('12.5', '0.5', '.5', '1.', '0.1', '0.2', '0.3', '1.1', '3.14159', '2.718281828459045', '-0.5',
  '123.456', '0.000001', '0.0000015', '0.0000001', '1e-7', '1.5e-7', '-2.5e-8', '1e-6', '1e21', '1.5e21',
  '1e20', '1e3', '1E3', '1e+3', '1e-3', '-1e3', '12e-1', '1e', '1e+', '1e-', '5.e2');
// Lenient parseFloat: suffixes, signs, white space.
ids.push('123abc', '12.5.6', '42 ', ' 42', '\t7', '\n8', '\r\n9', '\u000b10', '\u000c11', '\u00a012',
  '\ufeff13', '\u200314', '\u300015', '\u202816', '+17', '18px', '19e2x', '0x10', '0b11', '0o7', '1_000',
  '1,000', '00012', '-00012', '007.5', '3 4', 'Infinity', '-Infinity', '+Infinity', 'Infinityx',
  '1e1000');
// Falsy or not numbers: 400.
ids.push('0', '-0', '+0', '0.0', '0e10', '.0', '00', '', ' ', 'abc', 'NaN', 'infinity', 'inf', '.', '-',
  '+', 'e5', '.e5', '--1', '- 1', 'null', 'undefined', 'true', '\u00851', 'x1', '$5');
// Seeded pseudo-random ids (a 32-bit LCG, so the table is the same on every machine).
let state = 20180101;
const next = () => {
  state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
  return state;
};
for (let i = 0; i < 60; i++) ids.push(String(next() % 1000000000));
for (let i = 0; i < 30; i++) ids.push(String(next() / 4294967296 * 1000));
for (let i = 0; i < 10; i++) ids.push(String(-(next() % 100000)));
// Doubles from seeded random bit patterns, every magnitude (exponent forms, 17-digit fractions).
const view = new DataView(new ArrayBuffer(8));
for (let i = 0; i < 40; i++) {
  view.setUint32(0, next());
  view.setUint32(4, next());
  const x = view.getFloat64(0);
  if (Number.isFinite(x)) ids.push(String(x));
}

const rows = ids.map((id) => {
  const r = reference({ queryStringParameters: { ride_request_id: id } });
  return { ride_request_id: id, status: r.statusCode, body: r.body };
});
// The parameter absent (the reference's own test: {foo: 'bar'}).
{
  const r = reference({ queryStringParameters: { foo: 'bar' } });
  rows.push({ ride_request_id: null, status: r.statusCode, body: r.body });
}
process.stdout.write('[\n' + rows.map((r) => JSON.stringify(r)).join(',\n') + '\n]\n');
