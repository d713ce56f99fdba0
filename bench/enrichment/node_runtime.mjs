// A minimal Lambda Runtime API client for the Node peer, doing what the nodejs20.x runtime does
// for a handler module: import it (its top-level await is the cold start), then loop: GET
// /runtime/invocation/next, JSON.parse the event, await handler(event, context), POST the
// JSON.stringify'd result to /response (or the error to /error). A failed import is posted to
// /runtime/init/error and exits.
//
//     AWS_LAMBDA_RUNTIME_API=host:port node node_runtime.mjs HANDLER_MODULE
import http from 'node:http';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

const [host, port] = process.env.AWS_LAMBDA_RUNTIME_API.split(':');
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const base = '/2018-06-01/runtime';

function exchange(method, route, body) {
  return new Promise((resolve, reject) => {
    const request = http.request(
      {
        host, port, method, agent, path: `${base}${route}`,
        headers: body === undefined ? {} : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (response) => {
        const chunks = [];
        response.on('data', (c) => chunks.push(c));
        response.on('end', () => resolve({ headers: response.headers, body: Buffer.concat(chunks) }));
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}

const failure = (error) => JSON.stringify({ errorType: error?.name ?? 'Error', errorMessage: String(error?.message ?? error) });

let handler;
try {
  ({ handler } = await import(pathToFileURL(path.resolve(process.argv[2])).href));
} catch (error) {
  console.error(error);
  await exchange('POST', '/init/error', failure(error));
  process.exit(1);
}

for (;;) {
  const next = await exchange('GET', '/invocation/next');
  const requestId = next.headers['lambda-runtime-aws-request-id'];
  const deadline = Number(next.headers['lambda-runtime-deadline-ms']);
  const context = {
    awsRequestId: requestId,
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
    invokedFunctionArn: next.headers['lambda-runtime-invoked-function-arn'],
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
    getRemainingTimeInMillis: () => deadline - Date.now(),
  };
  let result;
  try {
    result = await handler(JSON.parse(next.body), context);
  } catch (error) {
    console.error(error);
    await exchange('POST', `/invocation/${requestId}/error`, failure(error));
    continue;
  }
  await exchange('POST', `/invocation/${requestId}/response`, JSON.stringify(result));
}
