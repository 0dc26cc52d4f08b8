import type { KinesisStreamEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { FunctionKind, readLambdaEnv } from '../../src/lambda/env.ts';
import { createFanoutHandler, handler as defaultFanoutHandler } from '../../src/lambda/fanout.ts';
import { portsOnce } from '../../src/lambda/ports.ts';
import { SettingsError } from '../../src/lib/settings.ts';
import type { Ports } from '../../src/ports/ports.ts';
import { captureOutput, FIXTURE_ENV, fixture, harnessesClosedAfterEach, lambdaContext } from './support.ts';

const harness = harnessesClosedAfterEach();

function without(...names: string[]): Record<string, string> {
  return Object.fromEntries(Object.entries(FIXTURE_ENV).filter(([name]) => !names.includes(name)));
}

function envError(act: () => unknown): SettingsError {
  try {
    act();
  } catch (err) {
    if (err instanceof SettingsError) return err;
    throw err;
  }
  throw new Error('expected a SettingsError');
}

describe('Lambda environment', () => {
  it('reads a complete environment into names, URLs and numbers', () => {
    // Prepare
    const source = {
      ...FIXTURE_ENV,
      FANOUT_TABLE_INBOX: 'inbox-replica',
      FANOUT_CELEBRITY_THRESHOLD: '5000',
    };
    // Act
    const env = readLambdaEnv(source, FunctionKind.InboxApi);
    // Assess
    expect(env.tables.inbox).toBe('inbox-replica');
    expect(env.tables.followers).toBe('fanout-test-followers');
    expect(env.tables.celebrityFeed).toBe('fanout-test-celebrityFeed');
    expect(env.queues.push.deadLetterQueueUrl).toBe(FIXTURE_ENV.FANOUT_PUSH_DLQ_URL);
    expect(env.redis).toEqual({
      cacheUrl: 'rediss://cache.fanout.example:6379',
      dedupUrl: 'rediss://dedup.fanout.example:6379',
      cluster: true,
    });
    expect(env.celebrityThreshold).toBe(5000);
    expect(env.tierHysteresis).toBe(0.1);
    expect(env.maxReceiveCount).toBe(4);
    expect(env.jobsPerMessage).toBe(10);
    expect(env.push).toEqual({ apnsApplicationArn: FIXTURE_ENV.FANOUT_SNS_APNS_ARN });
  });

  it('keeps unread counts in the counter mode unless told gsi, and refuses any other mode', () => {
    // Act
    const byDefault = readLambdaEnv(FIXTURE_ENV, FunctionKind.Fanout);
    const gsi = readLambdaEnv({ ...FIXTURE_ENV, FANOUT_UNREAD_MODE: 'gsi' }, FunctionKind.Fanout);
    const err = envError(() =>
      readLambdaEnv({ ...FIXTURE_ENV, FANOUT_UNREAD_MODE: 'index' }, FunctionKind.Fanout),
    );
    // Assess
    expect(byDefault.unreadMode).toBe('counter');
    expect(gsi.unreadMode).toBe('gsi');
    expect(err.issues.map((i) => i.variable)).toEqual(['FANOUT_UNREAD_MODE']);
  });

  it('names every missing variable in one error', () => {
    // Prepare
    const source = without('FANOUT_EVENT_STREAM', 'FANOUT_DEDUP_REDIS_URL', 'AWS_REGION');
    // Act
    const err = envError(() => readLambdaEnv(source, FunctionKind.Fanout));
    // Assess
    expect(err.issues.map((i) => i.variable)).toEqual([
      'AWS_REGION',
      'FANOUT_EVENT_STREAM',
      'FANOUT_DEDUP_REDIS_URL',
    ]);
    expect(err.message).toBe(
      "the fanout function's environment is incomplete: AWS_REGION is not set; " +
        'FANOUT_EVENT_STREAM is not set; FANOUT_DEDUP_REDIS_URL is not set',
    );
  });

  it('asks for the table prefix, or for every table by name', () => {
    // Prepare
    const source = { ...without('FANOUT_TABLE_PREFIX'), FANOUT_TABLE_INBOX: 'inbox' };
    // Act
    const err = envError(() => readLambdaEnv(source, FunctionKind.Fanout));
    // Assess
    expect(err.issues).toHaveLength(1);
    expect(err.message).toMatch(
      /FANOUT_TABLE_PREFIX is not set, nor are FANOUT_TABLE_FOLLOWERS, FANOUT_TABLE_CELEBRITY_FEED/,
    );
    expect(err.message).not.toMatch(/FANOUT_TABLE_INBOX/);
  });

  it('requires the secrets only where they are used, and of a guess-proof length', () => {
    // Prepare
    const noSecrets = without('FANOUT_TOKEN_SECRET', 'FANOUT_CURSOR_SECRET', 'FANOUT_SES_FROM');
    // Act
    const pipeline = readLambdaEnv(noSecrets, FunctionKind.Fanout);
    const api = envError(() => readLambdaEnv(noSecrets, FunctionKind.EventApi));
    const email = readLambdaEnv(noSecrets, FunctionKind.EmailConsumer);
    const short = envError(() =>
      readLambdaEnv({ ...FIXTURE_ENV, FANOUT_TOKEN_SECRET: 'short' }, FunctionKind.InboxApi),
    );
    // Assess
    expect(pipeline.tokenSecret).toBeUndefined();
    expect(api.issues.map((i) => i.variable)).toEqual(['FANOUT_TOKEN_SECRET', 'FANOUT_CURSOR_SECRET']);
    // No sender is no failure to start: each email is answered email_not_configured instead.
    expect(email.email.from).toBeUndefined();
    expect(short.message).toMatch(/FANOUT_TOKEN_SECRET must be at least 16 bytes/);
  });

  it('refuses malformed values with the rule they break', () => {
    // Prepare
    const source = {
      ...FIXTURE_ENV,
      FANOUT_PUSH_QUEUE_URL: 'fanout-push',
      FANOUT_CACHE_REDIS_URL: 'https://cache',
      FANOUT_REDIS_CLUSTER: 'yes',
      FANOUT_TIER_HYSTERESIS: '1.5',
      FANOUT_MAX_RECEIVE_COUNT: '0',
      FANOUT_JOBS_PER_MESSAGE: '101',
    };
    // Act
    const err = envError(() => readLambdaEnv(source, FunctionKind.PushConsumer));
    // Assess
    expect(err.issues).toEqual([
      { variable: 'FANOUT_PUSH_QUEUE_URL', message: 'must be a https: or http: URL' },
      { variable: 'FANOUT_CACHE_REDIS_URL', message: 'must be a redis: or rediss: URL' },
      { variable: 'FANOUT_REDIS_CLUSTER', message: "must be 'true' or 'false'" },
      { variable: 'FANOUT_TIER_HYSTERESIS', message: 'must be a number in [0, 1)' },
      { variable: 'FANOUT_MAX_RECEIVE_COUNT', message: 'must be an integer from 1 to 1000' },
      { variable: 'FANOUT_JOBS_PER_MESSAGE', message: 'must be an integer from 1 to 100' },
    ]);
  });

  it('fails the invocation with that error before building any port', async () => {
    // Prepare
    const h = harness(FunctionKind.Fanout, { env: without('FANOUT_PUSH_QUEUE_URL') });
    const handler = createFanoutHandler(h.deps);
    // Act
    const invocation = captureOutput(() =>
      handler(fixture<KinesisStreamEvent>('kinesis-author-events.json'), lambdaContext('fanout-fanout')),
    );
    // Assess
    await expect(invocation).rejects.toThrow(
      "the fanout function's environment is incomplete: FANOUT_PUSH_QUEUE_URL is not set",
    );
    expect(h.builds()).toBe(0);
  });
});

describe('the default entry points', () => {
  it('load without an environment and read process.env on their first invocation', async () => {
    // Prepare: this test process has none of Fanout's Lambda variables.
    const event = fixture<KinesisStreamEvent>('kinesis-author-events.json');
    // Act
    const invocation = captureOutput(() => defaultFanoutHandler(event, lambdaContext('fanout-fanout')));
    // Assess
    await expect(invocation).rejects.toBeInstanceOf(SettingsError);
    await expect(invocation).rejects.toThrow(/FANOUT_EVENT_STREAM is not set/);
  });
});

describe('portsOnce', () => {
  it('builds once for concurrent and later callers', async () => {
    // Prepare
    let builds = 0;
    const ports = portsOnce(
      async () => {
        builds++;
        return {} as Ports;
      },
      () => readLambdaEnv(FIXTURE_ENV, FunctionKind.Fanout),
    );
    // Act
    const [a, b] = await Promise.all([ports(), ports()]);
    const c = await ports();
    // Assess
    expect(builds).toBe(1);
    expect(a).toBe(b);
    expect(a).toBe(c);
  });

  it('forgets a failed build, so the next invocation tries again', async () => {
    // Prepare
    let builds = 0;
    const ports = portsOnce(
      async () => {
        builds++;
        if (builds === 1) throw new Error('redis not reachable during failover');
        return {} as Ports;
      },
      () => readLambdaEnv(FIXTURE_ENV, FunctionKind.Fanout),
    );
    // Act
    const first = ports();
    await expect(first).rejects.toThrow('redis not reachable');
    const second = await ports();
    // Assess
    expect(builds).toBe(2);
    expect(second).toEqual({});
  });
});
