import { DelayedError, type Job, Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { DEDUP_TTL_MS } from '../src/adapters/checks/dedup-store.ts';
import type { AuditEntry } from '../src/domain/audit-types.ts';
import { decideDelivery } from '../src/domain/delivery.ts';
import { deliveryKey, targetDigest } from '../src/domain/keys.ts';
import { renderPush } from '../src/domain/render.ts';
import { Channel, type DeliveryJob, Outcome } from '../src/domain/types.ts';
import { deliveryIds } from '../src/handlers/delivery-ids.ts';
import { readPreferences } from '../src/handlers/preferences-read.ts';
import type { PushResult } from '../src/ports/transports.ts';
import type { EmbeddedPorts } from '../src/runtime/embedded.ts';
import { deliveryJobBatches, seedUsers } from './pipeline.ts';

/**
 * The peer of `bench pipeline`: the same push delivery written as a Node team would with BullMQ,
 * the way its documentation recommends for throughput (jobs added with `addBulk`, a Worker with a
 * high `concurrency`, `removeOnComplete` / `removeOnFail` so Redis does not grow). Its processor
 * does our consumer's per-job work with our own code where there is some (preferences through the
 * same LRU cache over the same SQLite store, `decideDelivery`, `deliveryKey`, `renderPush`,
 * `deliveryIds`, the same recording sink and hash-chained audit log), one job at a time, as a
 * BullMQ processor receives them; dedup is one Redis `SET NX PX` per delivery.
 */

/** Sizes and knobs of one peer pass. */
export interface PeerPassOptions {
  /** A Redis the queue and the dedup keys live in (flushed of nothing: every key is the run's own). */
  readonly redisUrl: string;
  readonly users: number;
  readonly jobs: number;
  /** Worker instances, each on its own connections, in this process. */
  readonly workers: number;
  /** BullMQ `concurrency` of each Worker. */
  readonly concurrency: number;
  /** Jobs per `addBulk` call. */
  readonly bulkSize: number;
  /** Gives up (and throws) when the jobs are not all completed by then. */
  readonly maxSeconds: number;
}

/** What one peer pass measured. */
export interface PeerPass {
  readonly deliveriesPerSec: number;
  readonly seconds: number;
  readonly sends: number;
  readonly duplicateSends: number;
  readonly failedJobs: number;
}

/** A queue name and dedup key prefix no other run shares. */
function runName(): string {
  return `fanout-bench-peer-${process.pid}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

/**
 * One measured pass of the peer on fresh embedded ports: seeds the users, pre-loads the jobs
 * into a new BullMQ queue (not measured, as `bench pipeline` pre-loads its queue), then starts the
 * Workers and stops the clock when the last job has completed. The queue is obliterated and the
 * run's dedup keys deleted afterwards, whatever happens. Throws unless the sink saw exactly one
 * send per job and no duplicate.
 */
export async function peerPass(ports: EmbeddedPorts, opts: PeerPassOptions): Promise<PeerPass> {
  const url = new URL(opts.redisUrl);
  const connection = { host: url.hostname, port: Number(url.port || 6379), maxRetriesPerRequest: null };
  const name = runName();
  const now = Date.now();
  await seedUsers(ports, opts.users, now);

  const queue = new Queue<DeliveryJob>(name, { connection });
  // The app's own Redis client for dedup; its keys are the run's own through the prefix. (ioredis's
  // auto-pipelining measured no faster here: it holds each command to the next tick.)
  const dedup = new Redis({ ...connection, keyPrefix: `${name}:` });
  const workers: Worker<DeliveryJob>[] = [];
  try {
    for (const batch of deliveryJobBatches(opts.users, opts.jobs, now)) {
      for (let from = 0; from < batch.length; from += opts.bulkSize) {
        await queue.addBulk(
          batch.slice(from, from + opts.bulkSize).map((data) => ({
            name: 'push',
            data,
            opts: { removeOnComplete: true, removeOnFail: true, attempts: 4 },
          })),
        );
      }
    }

    let completed = 0;
    let failed = 0;
    let resolveDone: () => void = () => {};
    const done = new Promise<void>((resolve) => {
      resolveDone = resolve;
    });
    const processor = peerProcessor(ports, dedup);
    for (let i = 0; i < opts.workers; i++) {
      const worker = new Worker<DeliveryJob>(name, processor, {
        connection,
        concurrency: opts.concurrency,
        autorun: false,
        removeOnComplete: { count: 0 },
        removeOnFail: { count: 0 },
      });
      worker.on('completed', () => {
        if (++completed >= opts.jobs) resolveDone();
      });
      worker.on('failed', () => {
        failed++;
      });
      // Errors surface as a missing send or a timeout; an unhandled 'error' event would end the process.
      worker.on('error', () => {});
      workers.push(worker);
    }
    await Promise.all(workers.map((w) => w.waitUntilReady()));

    const start = performance.now();
    for (const worker of workers) void worker.run();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'timeout'>((resolve) => {
      timer = setTimeout(() => resolve('timeout'), opts.maxSeconds * 1000);
    });
    const outcome = await Promise.race([done, deadline]);
    clearTimeout(timer);
    const seconds = (performance.now() - start) / 1000;
    if (outcome === 'timeout')
      throw new Error(`peer: only ${completed} of ${opts.jobs} jobs completed in time`);

    const stats = await ports.pushSink.stats();
    if (stats.sends !== opts.jobs || stats.duplicates !== 0 || failed !== 0) {
      throw new Error(
        `peer: expected ${opts.jobs} sends, no duplicate and no failed job, got ${stats.sends}, ${stats.duplicates} and ${failed}`,
      );
    }
    return {
      deliveriesPerSec: opts.jobs / seconds,
      seconds,
      sends: stats.sends,
      duplicateSends: stats.duplicates,
      failedJobs: failed,
    };
  } finally {
    await Promise.all(workers.map((w) => w.close(true)));
    await queue.obliterate({ force: true }).catch(() => {});
    await queue.close();
    await deleteKeys(dedup, `${name}:*`);
    dedup.disconnect();
  }
}

/** Deletes the run's dedup keys (the prefix is added by SCAN's MATCH, not by the client). */
async function deleteKeys(redis: Redis, match: string): Promise<void> {
  const prefix = redis.options.keyPrefix ?? '';
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', match, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await redis.unlink(...keys.map((k) => k.slice(prefix.length)));
  } while (cursor !== '0');
}

/**
 * The BullMQ processor: one job, start to finish. Preferences (LRU cache, then the SQLite store),
 * consent and quiet hours (`decideDelivery`), the user's devices, per device a Redis `SET NX PX`
 * on the delivery key (taken: a duplicate, nothing sent), the send to the recording sink, then the
 * job's audit entries appended to the hash-chained log. A send that throws frees its key and fails
 * the job for BullMQ to retry; quiet hours move the job to the delayed set.
 */
export function peerProcessor(
  ports: EmbeddedPorts,
  dedup: Redis,
): (job: Job<DeliveryJob>, token?: string) => Promise<void> {
  return async (job, token) => {
    const data = job.data;
    const now = Date.now();
    const attempt = job.attemptsMade + 1;
    const entry = (outcome: Outcome, extras: Partial<AuditEntry> = {}): AuditEntry => ({
      at: now,
      tenantId: data.tenantId,
      userId: data.userId,
      channel: Channel.Push,
      notificationId: data.notificationId,
      eventId: data.eventId,
      outcome,
      ...extras,
      attempt,
    });
    const prefs = await readPreferences(ports, ports.logger, data);
    const decision = decideDelivery(prefs, Channel.Push, data.category, now);
    if (decision.kind === 'suppress') {
      await ports.audit.append([entry(decision.outcome, { reason: decision.reason })]);
      return;
    }
    if (decision.kind === 'defer') {
      await ports.audit.append([entry(Outcome.Deferred, { reason: 'quiet_hours' })]);
      await job.moveToDelayed(decision.until, token);
      throw new DelayedError();
    }
    const devices = await ports.devices.listActive(data);
    if (devices.length === 0) {
      await ports.audit.append([entry(Outcome.SuppressedNoAddress, { reason: 'no_device' })]);
      return;
    }
    const entries: AuditEntry[] = [];
    for (const device of devices) {
      const digest = targetDigest(device.token);
      const key = deliveryKey(data.tenantId, data.notificationId, Channel.Push, digest);
      const claimed = await dedup.set(key, '1', 'PX', DEDUP_TTL_MS, 'NX');
      if (claimed === null) {
        entries.push(entry(Outcome.Duplicate, { target: digest }));
        continue;
      }
      const { title, body } = renderPush(data, prefs?.locale);
      let result: PushResult;
      try {
        result = await ports.push.send({
          tenantId: data.tenantId,
          userId: data.userId,
          token: device.token,
          platform: device.platform,
          title,
          body,
          category: data.category,
          ...deliveryIds(data.notificationId, digest),
          data: {
            notificationId: data.notificationId,
            eventId: data.eventId,
            type: data.type,
            actorId: data.actorId,
            ...(data.objectId === undefined ? {} : { objectId: data.objectId }),
          },
        });
      } catch (err) {
        await dedup.del(key);
        throw err;
      }
      entries.push(
        result.status === 'sent'
          ? entry(Outcome.Sent, { target: digest })
          : entry(Outcome.Failed, { target: digest, reason: result.reason }),
      );
    }
    await ports.audit.append(entries);
  };
}
