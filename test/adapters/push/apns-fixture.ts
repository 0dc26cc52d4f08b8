import { randomBytes, randomUUID } from 'node:crypto';
import {
  type FakeApns,
  generateApnsKey,
  type RecordedApnsRequest,
  startFakeApns,
} from '../../../fakes/fake-apns.ts';
import { ApnsTransport, type ApnsTransportOptions } from '../../../src/adapters/push/apns/apns-transport.ts';
import type { PushMessage } from '../../../src/ports/transports.ts';
import { type RecordingLogger, recordingLogger, type TestClock, testClock } from '../../support/world.ts';

/** A fake APNs, a clock both sides share, and the transports a test opens against them. */

export const TEAM = 'TEAM123456';
export const KID = 'KEY1234567';
export const TOPIC = 'com.example.fanout';
export const START = Date.UTC(2030, 0, 1);
export const MIN = 60_000;
export const KEY = generateApnsKey();

export interface ApnsBench {
  readonly fake: FakeApns;
  readonly clock: TestClock;
  /** Waits the transports asked for, in order (nothing really waits). */
  readonly sleeps: number[];
  readonly logger: RecordingLogger;
  transport(overrides?: Partial<ApnsTransportOptions>): ApnsTransport;
  /** Requests the fake received for `token`. */
  requestsFor(token: string): RecordedApnsRequest[];
  /** Closes the transports opened since the last call. */
  closeTransports(): Promise<void>;
  close(): Promise<void>;
}

export async function apnsBench(
  opts: { maxConcurrentStreams?: number; clock?: TestClock } = {},
): Promise<ApnsBench> {
  const clock = opts.clock ?? testClock(START);
  const fake = await startFakeApns({
    teamId: TEAM,
    keyId: KID,
    publicKeyPem: KEY.publicKeyPem,
    topic: TOPIC,
    now: clock.now,
    ...(opts.maxConcurrentStreams === undefined ? {} : { maxConcurrentStreams: opts.maxConcurrentStreams }),
  });
  const open: ApnsTransport[] = [];
  const sleeps: number[] = [];
  const logger = recordingLogger();
  const bench: ApnsBench = {
    fake,
    clock,
    sleeps,
    logger,
    transport(overrides = {}) {
      const t = new ApnsTransport({
        signingKey: KEY.privateKeyPem,
        keyId: KID,
        teamId: TEAM,
        topic: TOPIC,
        origin: fake.origin,
        ca: fake.ca,
        clock,
        logger,
        sleep: async (ms) => {
          sleeps.push(ms);
        },
        ...overrides,
      });
      open.push(t);
      return t;
    },
    requestsFor: (token) => fake.requests.filter((r) => r.token === token),
    async closeTransports() {
      await Promise.all(open.splice(0).map((t) => t.close()));
      sleeps.length = 0;
      logger.lines.length = 0;
    },
    async close() {
      await bench.closeTransports();
      await fake.close();
    },
  };
  return bench;
}

/** A fresh 32-byte device token, so each test reads only its own requests. */
export function deviceToken(): string {
  return randomBytes(32).toString('hex');
}

export function pushMessage(extra: Partial<PushMessage> = {}): PushMessage {
  return {
    tenantId: 'acme',
    userId: 'alice',
    token: deviceToken(),
    platform: 'apns',
    title: 'Bob mentioned you',
    body: 'in “Launch plan”',
    category: 'social',
    collapseId: randomBytes(16).toString('hex'),
    messageId: randomUUID(),
    data: { notificationId: 'n1', eventId: 'e1', type: 'comment', actorId: 'bob' },
    ...extra,
  };
}
