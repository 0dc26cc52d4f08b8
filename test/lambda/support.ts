import { readFileSync } from 'node:fs';
import { Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { APIGatewayProxyEventV2, Context } from 'aws-lambda';
import { afterEach, vi } from 'vitest';
import { hashApiKey } from '../../src/http/auth.ts';
import { createUserTokens } from '../../src/http/user-tokens.ts';
import { type FunctionKind, type LambdaEnv, readLambdaEnv } from '../../src/lambda/env.ts';
import { portsOnce } from '../../src/lambda/ports.ts';
import { type LambdaDeps, METRICS_NAMESPACE } from '../../src/lambda/powertools.ts';
import type { EmailMessage, PushMessage } from '../../src/ports/transports.ts';
import { readRuntimeConfig } from '../../src/runtime/config.ts';
import { type EmbeddedPorts, openEmbeddedPorts } from '../../src/runtime/embedded.ts';
import { type TestClock, testClock } from '../support/world.ts';

/** The time the recorded fixtures were made for (their events happened an hour before). */
export const FIXTURE_NOW = Date.UTC(2026, 0, 15, 12);
/** The API key in the API Gateway fixtures (made up; tenant `acme`). */
export const FIXTURE_API_KEY = 'fo_acme_fixture-key-not-a-real-secret-0123456789abcdef';

/**
 * A complete Lambda environment as the CDK app would set it (made-up names; the secrets are test
 * values, the token secret the one the fixtures' user token was signed with).
 */
export const FIXTURE_ENV: Readonly<Record<string, string>> = {
  AWS_REGION: 'us-east-2',
  FANOUT_TABLE_PREFIX: 'fanout-test',
  FANOUT_EVENT_STREAM: 'fanout-events',
  FANOUT_PUSH_QUEUE_URL: 'https://sqs.us-east-2.amazonaws.com/123456789012/fanout-push',
  FANOUT_PUSH_DLQ_URL: 'https://sqs.us-east-2.amazonaws.com/123456789012/fanout-push-dlq',
  FANOUT_EMAIL_QUEUE_URL: 'https://sqs.us-east-2.amazonaws.com/123456789012/fanout-email',
  FANOUT_EMAIL_DLQ_URL: 'https://sqs.us-east-2.amazonaws.com/123456789012/fanout-email-dlq',
  FANOUT_SNS_APNS_ARN: 'arn:aws:sns:us-east-2:123456789012:app/APNS/fanout',
  FANOUT_SES_FROM: 'notifications@fanout.example',
  FANOUT_AUDIT_STREAM: 'fanout-audit',
  FANOUT_CACHE_REDIS_URL: 'rediss://cache.fanout.example:6379',
  FANOUT_DEDUP_REDIS_URL: 'rediss://dedup.fanout.example:6379',
  FANOUT_REDIS_CLUSTER: 'true',
  FANOUT_TOKEN_SECRET: 'fixture-token-secret-of-enough-bytes-0123',
  FANOUT_CURSOR_SECRET: 'fixture-cursor-secret-of-enough-bytes-456',
  FANOUT_PUBLIC_BASE_URL: 'https://api.fanout.example',
  FANOUT_UNSUBSCRIBE_SECRET: 'fixture-unsubscribe-secret-of-enough-bytes-789',
};

/** A recorded event from `test/fixtures/lambda/`. */
export function fixture<T>(name: string): T {
  return JSON.parse(readFileSync(new URL(`../fixtures/lambda/${name}`, import.meta.url), 'utf8')) as T;
}

/** The Lambda context of one invocation, as the runtime passes it. */
export function lambdaContext(
  functionName: string,
  requestId = 'c6af9ac6-7b61-11e6-9a41-93e812345678',
): Context {
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-2:123456789012:function:${functionName}`,
    memoryLimitInMB: '512',
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: '2026/01/15/[$LATEST]0123456789abcdef0123456789abcdef',
    getRemainingTimeInMillis: () => 30_000,
    done: () => {},
    fail: () => {},
    succeed: () => {},
  };
}

/** Embedded ports in memory, with the transports' messages kept for assertions. */
export type TestPorts = EmbeddedPorts & {
  readonly pushed: PushMessage[];
  readonly emailed: EmailMessage[];
};

/** What a test holds: the deps to give a `create…Handler`, and how often ports were built. */
export interface LambdaHarness {
  readonly deps: LambdaDeps;
  readonly clock: TestClock;
  /** Times the ports factory ran. */
  builds(): number;
  /** The ports the factory built (builds it if needed). */
  ports(): Promise<TestPorts>;
  close(): Promise<void>;
}

/** How a test varies its harness: other environment variables, or ports wrapped to fail. */
export interface LambdaHarnessOptions {
  readonly env?: Readonly<Record<string, string>>;
  readonly adjust?: (ports: TestPorts) => TestPorts;
}

/**
 * A `lambdaHarness` factory whose harnesses are all closed after each test, so no test file
 * keeps its own list of them. Call it once at the top of a test file.
 */
export function harnessesClosedAfterEach(): (
  kind: FunctionKind,
  opts?: LambdaHarnessOptions,
) => LambdaHarness {
  const open: LambdaHarness[] = [];
  afterEach(async () => {
    for (const h of open.splice(0)) await h.close();
  });
  return (kind, opts = {}) => {
    const h = lambdaHarness(kind, opts);
    open.push(h);
    return h;
  };
}

/**
 * Deps for an entry point over in-memory embedded ports (a tenant `acme` with the fixtures' API
 * key), built through the same `portsOnce` memo the AWS wiring uses. `adjust` may wrap ports
 * (to inject a failure) before the handler sees them.
 */
export function lambdaHarness(kind: FunctionKind, opts: LambdaHarnessOptions = {}): LambdaHarness {
  const clock = testClock(FIXTURE_NOW);
  let builds = 0;
  let built: TestPorts | undefined;
  const env = (): LambdaEnv => readLambdaEnv(opts.env ?? FIXTURE_ENV, kind);
  const ports = portsOnce(async (lambdaEnv) => {
    builds++;
    const embedded = await openEmbeddedPorts({
      config: readRuntimeConfig({
        FANOUT_DATA_DIR: ':memory:',
        FANOUT_CELEBRITY_THRESHOLD: String(lambdaEnv.celebrityThreshold),
        FANOUT_CURSOR_SECRET: lambdaEnv.cursorSecret,
      }),
      clock,
    });
    await embedded.tenants.create('acme', hashApiKey(FIXTURE_API_KEY), clock.now());
    const pushed: PushMessage[] = [];
    const emailed: EmailMessage[] = [];
    const testPorts: TestPorts = {
      ...embedded,
      pushed,
      emailed,
      push: {
        send: (m) => {
          pushed.push(m);
          return embedded.pushSink.send(m);
        },
      },
      email: {
        send: (m) => {
          emailed.push(m);
          return embedded.emailSink.send(m);
        },
      },
    };
    built = opts.adjust ? opts.adjust(testPorts) : testPorts;
    return built;
  }, env);
  const serviceName = `fanout-${kind}`;
  return {
    deps: {
      env,
      ports,
      logger: new PowertoolsLogger({ serviceName, logLevel: 'WARN' }),
      metrics: new Metrics({ namespace: METRICS_NAMESPACE, serviceName }),
    },
    clock,
    builds: () => builds,
    ports: async () => {
      await ports();
      return built!;
    },
    async close() {
      if (built !== undefined) await built.close();
    },
  };
}

/**
 * What Powertools wrote while `act` ran, as parsed JSON lines: stdout (EMF metrics, info logs)
 * and stderr (warn and error logs), as the Lambda runtime would ship both to CloudWatch Logs.
 */
export async function captureOutput<T>(act: () => Promise<T>): Promise<{ result: T; lines: unknown[] }> {
  const chunks: string[] = [];
  const capture = (chunk: string | Uint8Array) => {
    chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    return true;
  };
  const out = vi.spyOn(process.stdout, 'write').mockImplementation(capture);
  const err = vi.spyOn(process.stderr, 'write').mockImplementation(capture);
  try {
    const result = await act();
    return { result, lines: parseLines(chunks.join('')) };
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

/** JSON lines only: anything else on stdout (a test runner's own output) is not Powertools'. */
function parseLines(text: string): unknown[] {
  const lines: unknown[] = [];
  for (const line of text.split('\n')) {
    if (!line.trimStart().startsWith('{')) continue;
    try {
      lines.push(JSON.parse(line));
    } catch {
      // Not a JSON line.
    }
  }
  return lines;
}

/** One EMF blob: its metric values by name, and its dimensions. */
export interface EmfLine {
  readonly namespace: string;
  readonly metrics: Readonly<Record<string, number>>;
  readonly dimensions: Readonly<Record<string, string>>;
}

/** The EMF lines among captured stdout lines (those with an `_aws` key). */
export function emfLines(lines: readonly unknown[]): EmfLine[] {
  const emf: EmfLine[] = [];
  for (const line of lines) {
    const blob = line as {
      _aws?: {
        CloudWatchMetrics: { Namespace: string; Dimensions: string[][]; Metrics: { Name: string }[] }[];
      };
    } & Record<string, unknown>;
    if (blob._aws === undefined) continue;
    for (const directive of blob._aws.CloudWatchMetrics) {
      const metrics: Record<string, number> = {};
      for (const { Name } of directive.Metrics) metrics[Name] = blob[Name] as number;
      const dimensions: Record<string, string> = {};
      for (const name of directive.Dimensions.flat()) dimensions[name] = blob[name] as string;
      emf.push({ namespace: directive.Namespace, metrics, dimensions });
    }
  }
  return emf;
}

/** Every metric value of the namespace by name (dimensioned ones as `name{dim=value,…}`). */
export function metricValues(lines: readonly unknown[]): Record<string, number> {
  const values: Record<string, number> = {};
  for (const { namespace, metrics, dimensions } of emfLines(lines)) {
    if (namespace !== METRICS_NAMESPACE) continue;
    const extra = Object.entries(dimensions)
      .filter(([name]) => name !== 'service')
      .map(([name, value]) => `${name}=${value}`)
      .join(',');
    for (const [name, value] of Object.entries(metrics))
      values[extra === '' ? name : `${name}{${extra}}`] = value;
  }
  return values;
}

/**
 * The recorded inbox request (`GET /v1/me/inbox`) made by `userId` of tenant acme, with a token
 * signed by the fixture secret; `path` makes it a GET of another end-user route.
 */
export function userRequest(userId: string, path?: string): APIGatewayProxyEventV2 {
  const event = fixture<APIGatewayProxyEventV2>('apigw-v2-get-inbox.json');
  const { token } = createUserTokens(FIXTURE_ENV.FANOUT_TOKEN_SECRET as string, 3_600_000).issue(
    { tenantId: 'acme', userId },
    FIXTURE_NOW,
  );
  const headers = { ...event.headers, authorization: `Bearer ${token}` };
  if (path === undefined) return { ...event, headers };
  return {
    ...event,
    rawPath: path,
    rawQueryString: '',
    headers,
    requestContext: { ...event.requestContext, http: { ...event.requestContext.http, path } },
  };
}
