import { once } from 'node:events';
import { createServer, request, type Server } from 'node:http';

/** Operations that read or write items: the ones DynamoDB throttles on a hot partition. */
const DATA_PLANE = new Set([
  'GetItem',
  'PutItem',
  'UpdateItem',
  'DeleteItem',
  'Query',
  'Scan',
  'BatchGetItem',
  'BatchWriteItem',
  'TransactGetItems',
  'TransactWriteItems',
]);

/** The body DynamoDB answers a throttled request with (HTTP 400, awsJson1_0). */
const THROTTLED_BODY = JSON.stringify({
  __type: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException',
  message:
    'The level of configured provisioned throughput for the table was exceeded. Consider increasing your provisioning level with the UpdateTable API.',
});

export interface ThrottlingProxy {
  /** The endpoint to give the SDK instead of DynamoDB Local's. */
  readonly endpoint: string;
  /** Starts answering every `every`-th data-plane request with a throttling error. */
  throttle(every: number): void;
  /** Forwards everything again. */
  pass(): void;
  /** Requests answered with the throttling error so far. */
  readonly throttled: number;
  close(): Promise<void>;
}

/**
 * A small HTTP proxy in front of DynamoDB Local that answers some item reads and writes as a
 * throttled table does: HTTP 400 with a `ProvisionedThroughputExceededException` body. Every
 * `every`-th request is refused, so a retried request usually passes, as on a table whose
 * partition is briefly hot; the SDK's own retries and the adapters' must absorb it.
 */
export async function startThrottlingProxy(target: string): Promise<ThrottlingProxy> {
  const upstream = new URL(target);
  let every = 0;
  let seen = 0;
  let throttled = 0;
  const server: Server = createServer((req, res) => {
    const op = String(req.headers['x-amz-target'] ?? '').split('.')[1] ?? '';
    if (every > 0 && DATA_PLANE.has(op) && ++seen % every === 0) {
      throttled++;
      req.resume();
      res.writeHead(400, {
        'content-type': 'application/x-amz-json-1.0',
        'x-amzn-requestid': `throttled-${throttled}`,
      });
      res.end(THROTTLED_BODY);
      return;
    }
    const forward = request(
      {
        host: upstream.hostname,
        port: upstream.port,
        method: req.method,
        path: req.url,
        headers: req.headers,
      },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    forward.on('error', () => {
      res.destroy();
    });
    req.pipe(forward);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('proxy has no port');
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    throttle: (n) => {
      every = n;
    },
    pass: () => {
      every = 0;
    },
    get throttled() {
      return throttled;
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
