import type { KinesisStreamEvent } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { StoreUnavailableError } from '../../src/domain/errors.ts';
import { encodeEvent } from '../../src/domain/event.ts';
import { liveLowerBound } from '../../src/domain/ttl.ts';
import type { AuthorEvent, UserKey } from '../../src/domain/types.ts';
import { FunctionKind } from '../../src/lambda/env.ts';
import { createFanoutHandler } from '../../src/lambda/fanout.ts';
import {
  captureOutput,
  FIXTURE_NOW,
  fixture,
  harnessesClosedAfterEach,
  type LambdaHarness,
  lambdaContext,
  metricValues,
  type TestPorts,
} from './support.ts';

/** The events the fixture's records carry (the second record is poison). */
const AT = Date.UTC(2026, 0, 15, 11);
const POST: AuthorEvent = {
  tenantId: 'acme',
  id: 'evt-post-1',
  type: 'post',
  actorId: 'alice',
  objectId: 'post-1',
  occurredAt: AT,
  acceptedAt: AT + 1000,
};
const COMMENT: AuthorEvent = {
  tenantId: 'acme',
  id: 'evt-comment-1',
  type: 'comment',
  actorId: 'bob',
  objectId: 'post-0',
  recipients: ['alice'],
  occurredAt: AT + 60_000,
  acceptedAt: AT + 61_000,
};
const user = (userId: string): UserKey => ({ tenantId: 'acme', userId });

const harness = harnessesClosedAfterEach();

async function fanoutHarness(adjust?: (ports: TestPorts) => TestPorts): Promise<LambdaHarness> {
  const h = harness(FunctionKind.Fanout, adjust === undefined ? {} : { adjust });
  const ports = await h.ports();
  await ports.graph.follow([
    { tenantId: 'acme', authorId: 'alice', followerId: 'bob' },
    { tenantId: 'acme', authorId: 'alice', followerId: 'carol' },
  ]);
  return h;
}

async function inboxEventIds(h: LambdaHarness, userId: string): Promise<string[]> {
  const ports = await h.ports();
  const rows = await ports.inbox.page(user(userId), { limit: 10, afterId: liveLowerBound(FIXTURE_NOW) });
  return rows.map((r) => r.eventId);
}

describe('fanout Lambda (Kinesis, ReportBatchItemFailures)', () => {
  it('replays a recorded batch whose records are encodeEvent bytes, around one poison record', () => {
    // Prepare
    const event = fixture<KinesisStreamEvent>('kinesis-author-events.json');
    // Act
    const payloads = event.Records.map((r) => Buffer.from(r.kinesis.data, 'base64'));
    // Assess
    expect(payloads[0]).toEqual(Buffer.from(encodeEvent(POST)));
    expect(payloads[2]).toEqual(Buffer.from(encodeEvent(COMMENT)));
    expect(() => JSON.parse(payloads[1]!.toString('utf8'))).toThrow();
  });

  it('fans the batch out, skips the poison record, and reports no failure', async () => {
    // Prepare
    const h = await fanoutHarness();
    const handler = createFanoutHandler(h.deps);
    // Act
    const { result } = await captureOutput(() =>
      handler(fixture('kinesis-author-events.json'), lambdaContext('fanout-fanout')),
    );
    // Assess
    expect(result).toEqual({ batchItemFailures: [] });
    expect(await inboxEventIds(h, 'bob')).toEqual(['evt-post-1']);
    expect(await inboxEventIds(h, 'carol')).toEqual(['evt-post-1']);
    expect(await inboxEventIds(h, 'alice')).toEqual(['evt-comment-1']);
    const ports = await h.ports();
    expect((await ports.queues.push.depth()).visible).toBe(3);
    expect((await ports.queues.email.depth()).visible).toBe(1);
  });

  it('emits EMF metrics in the Fanout namespace at the end of the invocation', async () => {
    // Prepare
    const h = await fanoutHarness();
    const handler = createFanoutHandler(h.deps);
    // Act
    const { lines } = await captureOutput(() =>
      handler(fixture('kinesis-author-events.json'), lambdaContext('fanout-fanout')),
    );
    // Assess
    expect(metricValues(lines)).toMatchObject({
      EventsFannedOut: 2,
      UndecodableRecords: 1,
      InboxRowsWritten: 3,
      DeliveryJobsQueued: 4,
      BatchItemFailures: 0,
    });
    const emf = lines.find((l) => (l as { _aws?: unknown })._aws !== undefined) as Record<string, unknown>;
    expect(emf.service).toBe('fanout-fanout');
  });

  it('returns the handler’s failure as is: the first failed sequence number, nothing after it touched', async () => {
    // Prepare: bob's comment (the third record) meets a store outage.
    const h = await fanoutHarness((ports) => ({
      ...ports,
      graph: new Proxy(ports.graph, {
        get(target, prop) {
          if (prop === 'followerCount') {
            return async (author: UserKey) => {
              if (author.userId === 'bob') throw new StoreUnavailableError('followers table throttled');
              return target.followerCount(author);
            };
          }
          const value = Reflect.get(target, prop, target);
          return typeof value === 'function' ? value.bind(target) : value;
        },
      }),
    }));
    const handler = createFanoutHandler(h.deps);
    const event = fixture<KinesisStreamEvent>('kinesis-author-events.json');
    // Act
    const { result, lines } = await captureOutput(() => handler(event, lambdaContext('fanout-fanout')));
    // Assess
    expect(result).toEqual({
      batchItemFailures: [{ itemIdentifier: event.Records[2]!.kinesis.sequenceNumber }],
    });
    expect(await inboxEventIds(h, 'alice')).toEqual([]);
    expect(await inboxEventIds(h, 'bob')).toEqual(['evt-post-1']);
    expect(metricValues(lines)).toMatchObject({
      EventsFannedOut: 1,
      UndecodableRecords: 1,
      BatchItemFailures: 1,
    });
    const warning = lines.find((l) => (l as { message?: string }).message?.startsWith('fan-out failed')) as
      | Record<string, unknown>
      | undefined;
    expect(warning).toMatchObject({
      level: 'WARN',
      function_name: 'fanout-fanout',
      eventId: 'evt-comment-1',
    });
  });

  it('builds the ports once per container and re-uses them on the next invocation', async () => {
    // Prepare
    const h = await fanoutHarness();
    const handler = createFanoutHandler(h.deps);
    // Act
    await captureOutput(async () => {
      await handler(fixture('kinesis-author-events.json'), lambdaContext('fanout-fanout', 'req-1'));
      await handler(fixture('kinesis-author-events.json'), lambdaContext('fanout-fanout', 'req-2'));
    });
    // Assess: the re-delivered batch wrote no second row either (deterministic ids).
    expect(h.builds()).toBe(1);
    expect(await inboxEventIds(h, 'bob')).toEqual(['evt-post-1']);
  });
});
