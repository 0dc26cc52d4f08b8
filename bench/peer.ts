import { createRequire } from 'node:module';
import { readRuntimeConfig } from '../src/runtime/config.ts';
import { openEmbeddedPorts } from '../src/runtime/embedded.ts';
import { type PeerPass, peerPass } from './peer-bullmq.ts';
import { pipelineBench } from './pipeline.ts';
import { type BenchReport, median, withTempDir } from './support.ts';

/** Sizes and knobs of one peer benchmark run. */
export interface PeerBenchOptions {
  /** Where BullMQ's queue and the peer's dedup keys live. @default 'redis://127.0.0.1:6379' */
  readonly redisUrl?: string;
  /** Users, as `bench pipeline` seeds them. @default 50_000 */
  readonly users?: number;
  /** Push jobs pre-loaded per measured pass, for each side. @default 200_000 */
  readonly jobs?: number;
  /** Measured passes of each side; the sides alternate which goes first. @default 3 */
  readonly rounds?: number;
  /** Worker `concurrency` values the tuning sweep tries. @default [50, 100, 200, 500] */
  readonly concurrencies?: readonly number[];
  /** Worker instances the tuning sweep tries (each with the concurrency above). @default [1, 2] */
  readonly workerCounts?: readonly number[];
  /** Jobs per sweep pass (users scaled to keep four jobs a user). @default 20_000 */
  readonly sweepJobs?: number;
  /** Jobs per `addBulk` call. @default 1000 */
  readonly bulkSize?: number;
  /** Our side's batch size and invocations in flight; `bench pipeline`'s defaults when absent. */
  readonly ours?: { readonly batchSize?: number; readonly concurrency?: number };
  /** A pass that has not finished by then throws. @default 600 */
  readonly maxSeconds?: number;
}

/** One sweep point: a peer setting and the rate it reached. */
interface SweepPoint {
  readonly workers: number;
  readonly concurrency: number;
  readonly deliveriesPerSec: number;
}

/**
 * Push deliveries per second of our pipeline (`bench pipeline`'s measured run, called as is) and
 * of a BullMQ peer doing the same per-job work on Redis (see `peer-bullmq.ts`), in one process.
 * First a sweep over the peer's Worker count and concurrency at a reduced size picks its best
 * setting; then `rounds` full-size passes of each side, one after the other, never at once,
 * alternating which goes first. The figures are the medians, and the ratio is ours over the peer's.
 */
export async function peerBench(opts: PeerBenchOptions = {}): Promise<BenchReport> {
  const redisUrl = opts.redisUrl ?? 'redis://127.0.0.1:6379';
  const users = opts.users ?? 50_000;
  const jobs = opts.jobs ?? 200_000;
  const rounds = opts.rounds ?? 3;
  const concurrencies = opts.concurrencies ?? [50, 100, 200, 500];
  const workerCounts = opts.workerCounts ?? [1, 2];
  const sweepJobs = Math.min(jobs, opts.sweepJobs ?? 20_000);
  const bulkSize = opts.bulkSize ?? 1000;
  const maxSeconds = opts.maxSeconds ?? 600;
  const sweepUsers = Math.max(1, Math.round((users * sweepJobs) / jobs));

  const peer = (passUsers: number, passJobs: number, workers: number, concurrency: number) =>
    withTempDir('peer', async (dir): Promise<PeerPass> => {
      const ports = await openEmbeddedPorts({ config: readRuntimeConfig({ FANOUT_DATA_DIR: dir }) });
      try {
        return await peerPass(ports, {
          redisUrl,
          users: passUsers,
          jobs: passJobs,
          workers,
          concurrency,
          bulkSize,
          maxSeconds,
        });
      } finally {
        await ports.close();
      }
    });

  const sweep: SweepPoint[] = [];
  for (const workers of workerCounts) {
    for (const concurrency of concurrencies) {
      const pass = await peer(sweepUsers, sweepJobs, workers, concurrency);
      sweep.push({ workers, concurrency, deliveriesPerSec: pass.deliveriesPerSec });
    }
  }
  const best = sweep.reduce((a, b) => (b.deliveriesPerSec > a.deliveriesPerSec ? b : a));

  const ours: number[] = [];
  const peers: number[] = [];
  let oursSettings: BenchReport['settings'] = {};
  const runOurs = async () => {
    const report = await pipelineBench({ users, jobs, ...opts.ours, maxSeconds });
    oursSettings = report.settings;
    ours.push(report.figures.deliveriesPerSec!);
  };
  const runPeer = async () => {
    peers.push((await peer(users, jobs, best.workers, best.concurrency)).deliveriesPerSec);
  };
  for (let round = 0; round < rounds; round++) {
    for (const side of round % 2 === 0 ? [runOurs, runPeer] : [runPeer, runOurs]) await side();
  }
  const oursRate = median(ours);
  const peerRate = median(peers);
  const rate = (n: number) => Math.round(n).toLocaleString('en-US');

  return {
    name: 'peer',
    figures: {
      oursDeliveriesPerSec: oursRate,
      peerDeliveriesPerSec: peerRate,
      ratio: oursRate / peerRate,
    },
    settings: {
      users,
      jobs,
      rounds,
      oursBatchSize: oursSettings.batchSize ?? '',
      oursConcurrency: oursSettings.concurrency ?? '',
      oursDedup: oursSettings.dedup ?? '',
      peerWorkers: best.workers,
      peerConcurrency: best.concurrency,
      peerBulkSize: bulkSize,
      bullmq: packageVersion('bullmq'),
      redis: new URL(redisUrl).host,
      oursRounds: ours.map(rate).join(' / '),
      peerRounds: peers.map(rate).join(' / '),
      sweepJobs,
    },
    goals: [{ figure: 'ratio', op: '>=', value: 4 }],
    notes: [
      `Peer sweep (${sweepJobs.toLocaleString('en-US')} jobs a pass; the best setting is measured at full size):`,
      ...sweep.map(
        (p) =>
          `  ${p.workers} worker${p.workers === 1 ? ' ' : 's'} × concurrency ${String(p.concurrency).padStart(4)}: ${rate(p.deliveriesPerSec).padStart(7)} deliveries/s${p === best ? '  ← best' : ''}`,
      ),
      '',
      'Both sides: the same users (consent, timezone, an inactive quiet-hours window, one device), the same jobs pre-loaded before the clock starts,',
      'preferences through the same LRU cache over the same SQLite store, the same decision code, the same recording sink, the same hash-chained audit log;',
      'each side checks exactly one send per job and no duplicate. Ours: the push consumer under the SQS poller over the embedded queue, dedup claim and',
      'confirm in SQLite, batched. Peer: a BullMQ Worker, one job at a time, one Redis SET NX PX per delivery (docs/benchmarks.md, `peer`).',
    ],
  };
}

function packageVersion(name: string): string {
  const require = createRequire(import.meta.url);
  return (require(`${name}/package.json`) as { version: string }).version;
}
