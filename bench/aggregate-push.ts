import type { KinesisStreamEvent } from 'aws-lambda';
import { JsonlAuditSink } from '../src/adapters/embedded/audit-log.ts';
import { EmbeddedCelebrityFeed } from '../src/adapters/embedded/celebrity-feed.ts';
import { EmbeddedDb } from '../src/adapters/embedded/db.ts';
import { EmbeddedDedupStore } from '../src/adapters/embedded/dedup-store.ts';
import { EmbeddedDeliveryQueue } from '../src/adapters/embedded/delivery-queue.ts';
import { EmbeddedDevices } from '../src/adapters/embedded/devices.ts';
import { EmbeddedFollowerGraph } from '../src/adapters/embedded/follower-graph.ts';
import { EmbeddedInbox } from '../src/adapters/embedded/inbox.ts';
import { LruPreferenceCache } from '../src/adapters/embedded/preference-cache.ts';
import { EmbeddedPreferenceStore } from '../src/adapters/embedded/preferences.ts';
import { RecordingPushTransport } from '../src/adapters/embedded/recording-transports.ts';
import { DEFAULT_DIGEST_WINDOW_MS, digestWindow } from '../src/domain/digest.ts';
import { minUlidAt } from '../src/domain/ids.ts';
import { DEFAULT_TIER_POLICY } from '../src/domain/tier.ts';
import type { UserKey } from '../src/domain/types.ts';
import { type FanoutDeps, fanOut } from '../src/handlers/fanout.ts';
import { consumePush, type PushDeps } from '../src/handlers/push-consumer.ts';
import type { CelebrityFeed } from '../src/ports/celebrity-feed.ts';
import type { Clock } from '../src/ports/clock.ts';
import type { DedupStore } from '../src/ports/dedup-store.ts';
import type { Devices } from '../src/ports/devices.ts';
import type { FollowerGraph } from '../src/ports/follower-graph.ts';
import type { Inbox } from '../src/ports/inbox.ts';
import type { PreferenceStore } from '../src/ports/preferences.ts';
import { toSqsRecord } from '../src/runtime/sqs-poller.ts';

/**
 * Adapters a storm runs on instead of the embedded ones (the aws ones, on the emulators), built on
 * the storm's clock. The push queue stays the embedded one: it runs delays on that clock.
 */
export interface StormAdapters {
  readonly graph?: FollowerGraph;
  readonly inbox?: Inbox;
  readonly feed?: CelebrityFeed;
  readonly devices?: Devices;
  readonly preferences?: PreferenceStore;
  readonly dedup?: DedupStore;
}

/** What the push side of a like storm cost its owner, and the inbox it left them. */
export interface DigestFigures {
  /** Items in the owner's inbox: 1 is the promise. */
  readonly items: number;
  /** Distinct actors of the owner's first item: the distinct likers is the promise. */
  readonly actorCount: number;
  /** The owner's unread count. */
  readonly unread: number;
  /** Pushes the owner's phone got. */
  readonly pushes: number;
  /** Digest windows the storm and its flushes spanned. */
  readonly windows: number;
  /** The most pushes sent in one digest window: 1 is the promise. */
  readonly maxPerWindow: number;
  /** Distinct collapse ids of those pushes: 1 is the promise. */
  readonly collapseIds: number;
  /** Push jobs the consumer decided. */
  readonly jobs: number;
  /** Fan-out batches handled. */
  readonly batches: number;
  /** Wall-clock seconds of fan-out and push consumer together. */
  readonly seconds: number;
}

/**
 * The storm's push side on the embedded profile (a WAL file, every embedded adapter, the push
 * consumer with digests): fan-out batch after batch on a clock that moves `msPerBatch` each,
 * the push consumer taking what is ready every few batches, then every flush at its window's end.
 */
export async function digestStorm(opts: {
  readonly dir: string;
  readonly owner: UserKey;
  readonly batches: readonly KinesisStreamEvent[];
  readonly start: number;
  readonly msPerBatch: number;
  /** The push consumer takes what is ready every this many batches. @default 5 */
  readonly roundEvery?: number;
  /** Adapters to run on instead of the embedded ones. @default every embedded adapter */
  readonly adapters?: (clock: Clock) => StormAdapters;
}): Promise<DigestFigures> {
  let now = opts.start;
  const clock = { now: () => now };
  const roundEvery = opts.roundEvery ?? 5;
  const chosen = opts.adapters?.(clock) ?? {};
  const db = new EmbeddedDb({ path: `${opts.dir}/digest.db` });
  const audit = new JsonlAuditSink({ dir: `${opts.dir}/audit` });
  try {
    const pushes: { at: number; collapseId: string }[] = [];
    const inbox = chosen.inbox ?? new EmbeddedInbox({ db });
    const queue = new EmbeddedDeliveryQueue({ db, channel: 'push', clock });
    const preferences = chosen.preferences ?? new EmbeddedPreferenceStore({ db, clock });
    const devices = chosen.devices ?? new EmbeddedDevices({ db });
    await preferences.put({
      ...opts.owner,
      timezone: 'UTC',
      consent: { push: true, email: false },
      channels: {},
      categories: {},
      updatedAt: 1,
    });
    await devices.registerMany([{ ...opts.owner, token: 'owner-phone', platform: 'apns', registeredAt: 1 }]);
    const fanoutDeps: FanoutDeps = {
      graph: chosen.graph ?? new EmbeddedFollowerGraph({ db }),
      inbox,
      feed: chosen.feed ?? new EmbeddedCelebrityFeed({ db }),
      queues: { push: queue, email: new EmbeddedDeliveryQueue({ db, channel: 'email', clock }) },
      tierPolicy: DEFAULT_TIER_POLICY,
      clock,
    };
    const pushDeps: PushDeps = {
      queue,
      preferences,
      preferenceCache: new LruPreferenceCache({}),
      dedup: chosen.dedup ?? new EmbeddedDedupStore({ db, clock }),
      audit,
      clock,
      devices,
      inbox,
      push: new RecordingPushTransport({
        db,
        clock,
        fault: (m) => {
          if (m.userId === opts.owner.userId) pushes.push({ at: now, collapseId: m.collapseId });
          return undefined;
        },
      }),
    };
    let jobs = 0;
    const rounds = async () => {
      for (;;) {
        const messages = await queue.receive({ max: 1000, visibilityTimeoutMs: 30_000 });
        if (messages.length === 0) return;
        const arn = 'arn:aws:sqs:local:000000000000:fanout-push';
        const out = await consumePush({ Records: messages.map((m) => toSqsRecord(m, arn)) }, pushDeps);
        if (out.batchItemFailures.length > 0) throw new Error('a push batch failed');
        await queue.deleteBatch(messages.map((m) => m.receiptHandle));
        jobs += messages.length;
      }
    };
    const started = performance.now();
    for (const [i, batch] of opts.batches.entries()) {
      const response = await fanOut(batch, fanoutDeps);
      if (response.batchItemFailures.length > 0) throw new Error('a fan-out batch failed');
      now += opts.msPerBatch;
      if (i % roundEvery === roundEvery - 1) await rounds();
    }
    await rounds();
    for (let i = 0; i < 20; i++) {
      const depth = await queue.depth();
      if (depth.visible + depth.inFlight + depth.delayed === 0) break;
      now = (digestWindow(now, DEFAULT_DIGEST_WINDOW_MS) + 1) * DEFAULT_DIGEST_WINDOW_MS;
      await rounds();
    }
    const seconds = (performance.now() - started) / 1000;
    const noneExpired = minUlidAt(0);
    const items = await inbox.page(opts.owner, { limit: 10, afterId: noneExpired });
    const perWindow = new Map<number, number>();
    for (const p of pushes) {
      const w = digestWindow(p.at, DEFAULT_DIGEST_WINDOW_MS);
      perWindow.set(w, (perWindow.get(w) ?? 0) + 1);
    }
    return {
      items: items.length,
      actorCount: items[0]?.group?.actorCount ?? 0,
      unread: await inbox.unreadCount(opts.owner, noneExpired),
      pushes: pushes.length,
      windows:
        digestWindow(now, DEFAULT_DIGEST_WINDOW_MS) - digestWindow(opts.start, DEFAULT_DIGEST_WINDOW_MS) + 1,
      maxPerWindow: Math.max(0, ...perWindow.values()),
      collapseIds: new Set(pushes.map((p) => p.collapseId)).size,
      jobs,
      batches: opts.batches.length,
      seconds,
    };
  } finally {
    audit.close();
    db.close();
  }
}
