import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SesEmailTransport } from '../../src/adapters/aws/ses-email.ts';
import type { AuditEntry } from '../../src/domain/audit-types.ts';
import { notificationId } from '../../src/domain/ids.ts';
import type { DeliveryJob } from '../../src/domain/types.ts';
import { createUnsubscribeTokens } from '../../src/domain/unsubscribe.ts';
import { consumeEmail } from '../../src/handlers/email-consumer.ts';
import { sendDueDigests } from '../../src/handlers/email-digest.ts';
import type { Ports } from '../../src/ports/ports.ts';
import type { AwsClients } from '../../src/runtime/aws-clients.ts';
import { openAwsPorts } from '../../src/runtime/aws-ports.ts';
import {
  closeRedis,
  emulatorClients,
  emulatorEndpoints,
  freshTables,
  readyRedis,
  uniqueName,
} from '../support/aws.ts';
import { sqsEvent } from '../support/events.ts';
import { inboxRow } from '../support/rows.ts';
import { consenting, testClock } from '../support/world.ts';

/** What aws-ses-v2-local keeps of one email (the fields read here). */
interface StoredEmail {
  readonly subject: string;
  readonly destination: { readonly to: readonly string[] };
  readonly body: { readonly text?: string; readonly html?: string };
  readonly headers?: readonly { readonly name: string; readonly value: string }[];
}

async function storedFor(to: string): Promise<StoredEmail[]> {
  const response = await fetch(`${emulatorEndpoints().ses}/store`);
  const { emails } = (await response.json()) as { emails: StoredEmail[] };
  return emails.filter((e) => e.destination.to.includes(to));
}

/** 2026-05-01 10:20 UTC. */
const NOW = Date.UTC(2026, 4, 1, 10, 20);

describe('email digests through the aws adapters (DynamoDB Local, Redis, SES emulator)', () => {
  let clients: AwsClients;
  let redis: Awaited<ReturnType<typeof readyRedis>>;
  let ports: Ports;
  const audited: AuditEntry[] = [];
  const clock = testClock(NOW);

  beforeAll(async () => {
    clients = emulatorClients();
    redis = await readyRedis();
    const tables = await freshTables(clients, ['inbox', 'preferences', 'digestSchedule']);
    ports = openAwsPorts({
      clients,
      cacheRedis: redis,
      dedupRedis: redis,
      resources: {
        tables,
        streamName: 'unused',
        queues: {
          push: { url: 'http://unused/push', deadLetterUrl: 'http://unused/push-dlq' },
          email: { url: 'http://unused/email', deadLetterUrl: 'http://unused/email-dlq' },
        },
      },
      celebrityThreshold: 10_000,
      tierHysteresis: 0.1,
      cursorSecret: 'aws-digest-cursor-secret-0123456789',
      redisKeyPrefix: uniqueName('digest'),
      clock,
      delivery: () => ({
        push: { send: async () => Promise.reject(new Error('no push here')) },
        email: new SesEmailTransport({ ses: clients.ses, from: 'notifications@fanout.example' }),
        audit: {
          append: async (entries) => {
            audited.push(...entries);
          },
        },
      }),
    });
  });

  afterAll(async () => {
    await closeRedis(redis);
    clients.destroy();
  });

  it('defers the email jobs, then sends one digest through SES once the hour is over', async () => {
    // Prepare: a user of this run only, on an hourly social cadence, with two unread comments.
    const userId = uniqueName('ana');
    const to = `${userId}@example.com`;
    const user = { tenantId: 'acme', userId };
    await ports.preferences.put(consenting(user, { email: to, emailCadence: { social: 'hourly' } }));
    const jobs: DeliveryJob[] = ['bob', 'carol'].map((actorId, i) => {
      const createdAt = NOW + i;
      return {
        tenantId: 'acme',
        userId,
        notificationId: notificationId(`e-${actorId}`, userId, createdAt),
        channel: 'email',
        eventId: `e-${actorId}`,
        type: 'comment',
        category: 'social',
        actorId,
        createdAt,
      };
    });
    await ports.inbox.putMany(
      jobs.map((j) => inboxRow(user, j.eventId, j.createdAt, { actorId: j.actorId })),
    );
    const unsubscribe = {
      baseUrl: 'https://api.fanout.example',
      tokens: createUnsubscribeTokens('aws-digest-unsubscribe-secret-0123'),
    };
    const digestDeps = {
      schedule: ports.digestSchedule,
      inbox: ports.inbox,
      preferences: ports.preferences,
      preferenceCache: ports.preferenceCache,
      dedup: ports.dedup,
      email: ports.email,
      audit: ports.audit,
      clock,
      unsubscribe,
    };
    // Act
    const response = await consumeEmail(sqsEvent(jobs), {
      queue: ports.queues.email,
      preferences: ports.preferences,
      preferenceCache: ports.preferenceCache,
      dedup: ports.dedup,
      audit: ports.audit,
      clock,
      email: ports.email,
      digests: ports.digestSchedule,
      unsubscribe,
    });
    const early = await sendDueDigests(digestDeps);
    clock.set(Date.UTC(2026, 4, 1, 11));
    const due = await sendDueDigests(digestDeps);
    const again = await sendDueDigests(digestDeps);
    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(early.due).toBe(0);
    expect(due).toMatchObject({ sent: 1 });
    expect(again.due).toBe(0);
    const stored = await storedFor(to);
    expect(stored).toHaveLength(1);
    expect(stored[0]!.subject).toBe('2 new notifications');
    expect(stored[0]!.body.text).toContain('- carol commented on your post');
    expect(stored[0]!.body.text).toContain('- bob commented on your post');
    expect(stored[0]!.body.text).toContain('https://api.fanout.example/v1/unsubscribe?token=');
    const mine = audited.filter((e) => e.userId === userId).map((e) => `${e.outcome}:${e.reason ?? ''}`);
    expect(mine).toEqual(['digested:email_digest', 'digested:email_digest', 'sent:email_digest']);
  });
});
