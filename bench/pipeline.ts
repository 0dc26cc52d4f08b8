import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { notificationId } from '../src/domain/ids.ts';
import {
  Category,
  Channel,
  type DeliveryJob,
  Platform,
  type Preferences,
  type QuietHours,
} from '../src/domain/types.ts';
import { consumePush } from '../src/handlers/push-consumer.ts';
import { readRuntimeConfig } from '../src/runtime/config.ts';
import { type EmbeddedPorts, openEmbeddedPorts } from '../src/runtime/embedded.ts';
import { SqsPoller } from '../src/runtime/sqs-poller.ts';
import { costTable, profiled } from './profile.ts';
import { type BenchReport, withTempDir } from './support.ts';

/** Sizes and knobs of one pipeline benchmark run. */
export interface PipelineBenchOptions {
  /** Users, each with consent, a timezone, an inactive quiet-hours window and one device. @default 50_000 */
  readonly users?: number;
  /** Push jobs pre-loaded into the queue. @default 200_000 */
  readonly jobs?: number;
  /** Messages per consumer invocation (the embedded queue allows up to 10,000, as Lambda batching does). @default 2000 */
  readonly batchSize?: number;
  /** Consumer invocations in flight. @default 2 */
  readonly concurrency?: number;
  /** The dedup store, as FANOUT_DEDUP chooses it. @default 'sqlite' */
  readonly dedup?: 'sqlite' | 'memory';
  /** Profile the measured span and add the time per file to the notes. @default false */
  readonly profile?: boolean;
  /** Gives up (and throws) when the jobs are not all handled by then: the run is bounded. @default 600 */
  readonly maxSeconds?: number;
}

/** The tenant every benchmark user and job belongs to. */
export const TENANT = 'bench';
/** Followers per fanned-out event the queue is loaded with. */
const RECIPIENTS_PER_EVENT = 10_000;
const TIMEZONES = [
  'UTC',
  'Europe/Paris',
  'America/New_York',
  'Asia/Tokyo',
  'Australia/Sydney',
  'America/Sao_Paulo',
];

/**
 * Push deliveries per second end to end: the push consumer driven by the SQS poller over the
 * embedded queue, on a WAL file, with every embedded adapter the runtime wires (queue receive,
 * preferences through the LRU cache, consent and quiet hours, dedup claim and confirm, the
 * recording push sink, the hash-chained audit log, delete). The queue is pre-loaded; the clock
 * starts when the poller starts and stops when the last job has been handled.
 */
export async function pipelineBench(opts: PipelineBenchOptions = {}): Promise<BenchReport> {
  const users = opts.users ?? 50_000;
  const jobs = opts.jobs ?? 200_000;
  const batchSize = opts.batchSize ?? 2000;
  const concurrency = opts.concurrency ?? 2;
  const dedup = opts.dedup ?? 'sqlite';

  return withTempDir('pipeline', async (dir) => {
    const config = { ...readRuntimeConfig({ FANOUT_DATA_DIR: dir, FANOUT_DEDUP: dedup }) };
    const ports = await openEmbeddedPorts({ config });
    try {
      const now = Date.now();
      await seedUsers(ports, users, now);
      await loadJobs(ports, users, jobs, now);

      let handled = 0;
      let failed = 0;
      let resolveDone: () => void = () => {};
      const done = new Promise<void>((resolve) => {
        resolveDone = resolve;
      });
      const deps = {
        queue: ports.queues.push,
        preferences: ports.preferences,
        preferenceCache: ports.preferenceCache,
        dedup: ports.dedup,
        audit: ports.audit,
        clock: ports.clock,
        logger: ports.logger,
        devices: ports.devices,
        push: ports.push,
      };
      const poller = new SqsPoller({
        queue: ports.queues.push,
        batchSize,
        concurrency,
        handler: async (event: SQSEvent): Promise<SQSBatchResponse> => {
          const response = await consumePush(event, deps);
          failed += response.batchItemFailures.length;
          handled += event.Records.length - response.batchItemFailures.length;
          if (handled >= jobs) resolveDone();
          return response;
        },
      });
      let cpuUs = 0;
      const run = await profiled(opts.profile === true, async () => {
        const start = performance.now();
        const cpuStart = process.cpuUsage();
        poller.start();
        let timer: NodeJS.Timeout | undefined;
        const deadline = new Promise<'timeout'>((resolve) => {
          timer = setTimeout(() => resolve('timeout'), (opts.maxSeconds ?? 600) * 1000);
        });
        const outcome = await Promise.race([done, deadline]);
        clearTimeout(timer);
        const ms = performance.now() - start;
        const cpu = process.cpuUsage(cpuStart);
        cpuUs = cpu.user + cpu.system;
        await poller.stop();
        if (outcome === 'timeout') throw new Error(`only ${handled} of ${jobs} jobs were handled in time`);
        return ms;
      });
      const seconds = run.value / 1000;

      const stats = await ports.pushSink.stats();
      if (stats.sends !== jobs || stats.duplicates !== 0) {
        throw new Error(
          `expected ${jobs} sends and no duplicates, got ${stats.sends} and ${stats.duplicates}`,
        );
      }
      return {
        name: 'pipeline',
        figures: { deliveriesPerSec: jobs / seconds },
        settings: {
          users,
          jobs,
          jobsPerEvent: Math.min(RECIPIENTS_PER_EVENT, users),
          batchSize,
          concurrency,
          dedup,
          seconds: Number(seconds.toFixed(2)),
          // CPU time of the process (every thread) over the measured span, per delivery: steadier
          // than the rate on a machine busy with other work, which stretches wall time.
          cpuUsPerDelivery: Number((cpuUs / jobs).toFixed(1)),
          retriedMessages: failed,
          sends: stats.sends,
          duplicateSends: stats.duplicates,
          storage: 'SQLite file, WAL, synchronous=NORMAL; audit log in JSONL files',
        },
        goals: [{ figure: 'deliveriesPerSec', op: '>=', value: 30_000 }],
        notes: [
          'Every user has push consent, a timezone and a quiet-hours window that is not active, and one device: every job is sent.',
          ...(run.costs
            ? [
                '',
                'Main-thread time of the measured span by file (profiled: the rate above is lower than without):',
                costTable(run.costs),
              ]
            : ['Per-stage costs: `npm run bench -- pipeline --profile` (see docs/benchmarks.md).']),
        ],
      };
    } finally {
      await ports.close();
    }
  });
}

function userId(i: number): string {
  return `user-${String(i).padStart(7, '0')}`;
}

/** Preferences (consent, timezone, quiet hours that are not active now) and one device per user. */
export async function seedUsers(ports: EmbeddedPorts, users: number, now: number): Promise<void> {
  const quiet = new Map(TIMEZONES.map((tz) => [tz, inactiveWindow(tz, now)]));
  for (let from = 0; from < users; from += 5000) {
    const prefs: Preferences[] = [];
    const devices = [];
    for (let i = from; i < Math.min(users, from + 5000); i++) {
      const timezone = TIMEZONES[i % TIMEZONES.length]!;
      prefs.push({
        tenantId: TENANT,
        userId: userId(i),
        timezone,
        consent: { push: true },
        channels: {},
        categories: {},
        quietHours: quiet.get(timezone)!,
        updatedAt: now,
      });
      devices.push({
        tenantId: TENANT,
        userId: userId(i),
        token: `device-token-${i.toString(16).padStart(8, '0')}`,
        platform: i % 2 === 0 ? Platform.Apns : Platform.Fcm,
        registeredAt: now,
      });
    }
    await ports.preferences.putMany(prefs);
    await ports.devices.registerMany(devices);
  }
}

/** A two-hour window starting two hours from now in `timezone`: never active during the run. */
function inactiveWindow(timezone: string, now: number): QuietHours {
  const hour = Number(
    new Intl.DateTimeFormat('en-GB', { timeZone: timezone, hour: '2-digit', hourCycle: 'h23' }).format(now),
  );
  const at = (h: number) => `${String(h % 24).padStart(2, '0')}:00`;
  return { start: at(hour + 2), end: at(hour + 4) };
}

/**
 * The jobs a fan-out leaves behind, in batches of 5,000: events of `RECIPIENTS_PER_EVENT`
 * followers each, one second apart, every job of an event sharing its time (as fan-out stamps
 * them), recipients spread so each user gets `jobs / users` jobs.
 */
export function* deliveryJobBatches(users: number, jobs: number, now: number): Generator<DeliveryJob[]> {
  const perEvent = Math.min(RECIPIENTS_PER_EVENT, users);
  const events = Math.ceil(jobs / perEvent);
  for (let from = 0; from < jobs; from += 5000) {
    const batch: DeliveryJob[] = [];
    for (let n = from; n < Math.min(jobs, from + 5000); n++) {
      const event = Math.floor(n / perEvent);
      const user = userId(n % users);
      const eventId = `event-${event}`;
      const createdAt = now - (events - event) * 1000;
      batch.push({
        tenantId: TENANT,
        userId: user,
        notificationId: notificationId(eventId, user, createdAt),
        channel: Channel.Push,
        eventId,
        type: 'post',
        category: Category.Content,
        actorId: `author-${event % 97}`,
        objectId: `post-${event}`,
        createdAt,
      });
    }
    yield batch;
  }
}

async function loadJobs(ports: EmbeddedPorts, users: number, jobs: number, now: number): Promise<void> {
  for (const batch of deliveryJobBatches(users, jobs, now)) await ports.queues.push.sendBatch(batch);
}
