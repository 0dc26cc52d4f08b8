import { ValidationError } from '../src/domain/errors.ts';
import { integer, oneOf, readSettings, url } from '../src/lib/settings.ts';
import { aggregateBench } from './aggregate.ts';
import { AWS_COST_SIZES, type AwsCostSizeName, awsCostBench } from './aws-cost.ts';
import { CAPACITY_FLAGS, capacityBench } from './capacity.ts';
import { type ChaosBenchOptions, chaosBench } from './chaos.ts';
import { e2eBench, TINY_E2E } from './e2e.ts';
import { fanoutBench } from './fanout.ts';
import { httpBench } from './http.ts';
import { inboxReadBench } from './inbox-read.ts';
import { peerBench } from './peer.ts';
import { pipelineBench } from './pipeline.ts';
import { pushBench } from './push.ts';
import { type BenchReport, reportJson, reportTable } from './support.ts';

/**
 * `npm run bench -- <name> [--json] [--profile] [--tiny] [--option=value]`: runs one benchmark and
 * prints its figures as a table (or, with --json, one JSON object). A benchmark reports its goal; it
 * never fails on it.
 */

/** How a benchmark is run: `tiny` shrinks it to seconds, to check it works (its figures mean nothing). */
interface RunFlags {
  readonly profile: boolean;
  readonly tiny: boolean;
}

const BENCHMARKS: Readonly<
  Record<
    string,
    {
      readonly about: string;
      /** `--name=value` options it takes; others are a usage error. @default none */
      readonly options?: readonly string[];
      run(flags: RunFlags, options: Readonly<Record<string, string>>): Promise<BenchReport>;
    }
  >
> = {
  fanout: {
    about: 'inbox rows written per second by fan-out, beside the raw SQLite insert rate',
    run: ({ profile, tiny }) =>
      fanoutBench({
        profile,
        ...(tiny ? { followers: 50, eventsPerRun: 2, runs: 2, warmupRuns: 1, pageSize: 20 } : {}),
      }),
  },
  pipeline: {
    about: 'push deliveries per second end to end through the push consumer',
    run: ({ profile, tiny }) =>
      pipelineBench({ profile, ...(tiny ? { users: 30, jobs: 90, batchSize: 16, concurrency: 2 } : {}) }),
  },
  peer: {
    about:
      'push deliveries/s of the pipeline beside a BullMQ peer doing the same work on Redis, and the ratio (BENCH_PEER_REDIS_URL, default redis://127.0.0.1:6379)',
    run: ({ tiny }) =>
      peerBench({
        ...readSettings(process.env, {
          redisUrl: url('BENCH_PEER_REDIS_URL', ['redis:']),
        }),
        ...(tiny
          ? {
              users: 30,
              jobs: 90,
              rounds: 1,
              concurrencies: [2, 4],
              workerCounts: [1],
              sweepJobs: 40,
              bulkSize: 16,
              ours: { batchSize: 16, concurrency: 2 },
            }
          : {}),
      }),
  },
  http: {
    about: 'event ingest and inbox page requests/s and p99 over HTTP, 100 connections (autocannon)',
    run: ({ tiny }) => httpBench(tiny ? { connections: 2, seconds: 1, inboxRows: 3 } : {}),
  },
  e2e: {
    about:
      "a 9,999-follower author's post every 2 s over 1,000 events/s of ordinary authors: p50/p99 from its 202 to the last push recorded and the last inbox row (fanout serve, HTTP)",
    run: ({ tiny }) => e2eBench(tiny ? TINY_E2E : {}),
  },
  'aws-cost': {
    about:
      'DynamoDB units, SQS requests, Lambda CPU and dollars per million push through the AWS adapters (BENCH_AWS_COST_SIZE=small|tiny)',
    run: ({ tiny }) =>
      awsCostBench(
        tiny
          ? { size: 'tiny' }
          : readSettings(process.env, {
              size: oneOf('BENCH_AWS_COST_SIZE', Object.keys(AWS_COST_SIZES) as AwsCostSizeName[], {
                default: 'small',
              }),
            }),
      ),
  },
  aggregate: {
    about:
      "likes aggregated per second into one item (embedded), then the owner's item and pushes per digest window with the push consumer, embedded and through the aws adapters (--aws-likes=N distinct likers on DynamoDB Local and Redis, default 2,000; the acceptance size is 100,000); BENCH_AGGREGATE_LIKES sizes the embedded run",
    options: ['aws-likes'],
    run: ({ tiny }, options) =>
      aggregateBench(
        tiny
          ? { likes: 200, awsLikes: 20 }
          : {
              ...readSettings(process.env, {
                likes: integer('BENCH_AGGREGATE_LIKES', { min: 1, max: 10_000_000 }),
                awsLikes: integer('BENCH_AGGREGATE_AWS_LIKES', { min: 1, max: 1_000_000 }),
              }),
              ...awsLikesOption(options),
            },
      ),
  },
  'inbox-read': {
    about: 'p50/p99 latency of a 20-item inbox page with the celebrity merge',
    run: ({ profile, tiny }) =>
      inboxReadBench({
        profile,
        ...(tiny
          ? {
              rows: 120,
              celebrities: [3, 6],
              pointersPerCelebrity: 5,
              iterations: 20,
              warmup: 4,
              maxDepth: 4,
            }
          : {}),
      }),
  },
  capacity: {
    about:
      'capacity model of a scenario: shards, concurrency, units at peak, hot partitions, Redis, monthly bill',
    options: CAPACITY_FLAGS,
    run: async (_profile, options) => capacityBench(options),
  },
  chaos: {
    about:
      'exactly-once under SIGKILL: a demo killed during fan-out, delivery and the drain vs an uninterrupted one (--recipients N, default 20,000; --target=local-aws on the emulators)',
    options: ['recipients', 'target'],
    run: ({ tiny }, options) =>
      chaosBench(tiny ? { ...chaosOptions(options), recipients: 300 } : chaosOptions(options)),
  },
  push: {
    about:
      'APNs notifications/s and peak memory: our HTTP/2 client vs @parse/node-apn against one local APNs server',
    run: ({ tiny }) =>
      pushBench({
        ...readSettings(process.env, {
          notifications: integer('BENCH_PUSH_NOTIFICATIONS', { min: 1, max: 10_000_000 }),
          connections: integer('BENCH_PUSH_CONNECTIONS', { min: 1, max: 64 }),
        }),
        ...(tiny ? { notifications: 100, window: 20, rounds: 1, warmup: 10 } : {}),
      }),
  },
};

function usage(): string {
  const names = Object.entries(BENCHMARKS).map(([name, b]) => `  ${name.padEnd(12)} ${b.about}`);
  const options = Object.entries(BENCHMARKS)
    .filter(([, b]) => b.options !== undefined)
    .map(([name, b]) => `  ${name}: ${b.options!.map((o) => `--${o}=…`).join(' ')}`);
  return [
    'usage: npm run bench -- <name> [--json] [--profile] [--tiny] [--option=value]',
    '',
    ...names,
    '',
    '--tiny runs a benchmark at a size of seconds, to check that it works; its figures mean nothing.',
    '',
    'options:',
    ...options,
  ].join('\n');
}

/** `--recipients N` and `--target` of the chaos benchmark, or a ValidationError naming the option. */
function chaosOptions(options: Readonly<Record<string, string>>): ChaosBenchOptions {
  const target = options.target;
  if (target !== undefined && target !== 'embedded' && target !== 'local-aws') {
    throw new ValidationError([{ path: 'target', message: 'must be embedded or local-aws' }]);
  }
  const chosen: ChaosBenchOptions = target === undefined ? {} : { target };
  if (options.recipients === undefined) return chosen;
  const n = Number(options.recipients);
  if (!Number.isInteger(n) || n < 10 || n > 10_000_000) {
    throw new ValidationError([{ path: 'recipients', message: 'must be an integer from 10 to 10000000' }]);
  }
  return { ...chosen, recipients: n };
}

/** `--aws-likes N` of the aggregate benchmark, or a ValidationError naming the option. */
function awsLikesOption(options: Readonly<Record<string, string>>): { awsLikes?: number } {
  const raw = options['aws-likes'];
  if (raw === undefined) return {};
  const n = Number(raw);
  if (!/^\d+$/.test(raw) || !Number.isSafeInteger(n) || n < 1 || n > 1_000_000) {
    throw new ValidationError([{ path: 'aws-likes', message: 'must be an integer from 1 to 1000000' }]);
  }
  return { awsLikes: n };
}

/** `--name value` as `--name=value` for the options of the named benchmark, so both spellings work. */
function joinOptionValues(args: readonly string[]): string[] {
  const takes = new Set(Object.values(BENCHMARKS).flatMap((b) => b.options ?? []));
  const out: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const next = args[i + 1];
    if (arg.startsWith('--') && takes.has(arg.slice(2)) && next !== undefined && !next.startsWith('--')) {
      out.push(`${arg}=${next}`);
      i++;
    } else out.push(arg);
  }
  return out;
}

async function main(argv: readonly string[]): Promise<number> {
  const args = joinOptionValues(argv);
  const flags = new Set(args.filter((a) => a.startsWith('--') && !a.includes('=')));
  const options = Object.fromEntries(
    args
      .filter((a) => a.startsWith('--') && a.includes('='))
      .map((a) => [a.slice(2, a.indexOf('=')), a.slice(a.indexOf('=') + 1)]),
  );
  const names = args.filter((a) => !a.startsWith('--'));
  const unknownFlag = [...flags].find((f) => f !== '--json' && f !== '--profile' && f !== '--tiny');
  const bench = names.length === 1 ? BENCHMARKS[names[0]!] : undefined;
  const unknownOption = Object.keys(options).find((o) => !(bench?.options ?? []).includes(o));
  if (bench === undefined || unknownFlag !== undefined || unknownOption !== undefined) {
    if (unknownOption !== undefined) process.stderr.write(`unknown option --${unknownOption}\n`);
    process.stderr.write(`${usage()}\n`);
    return 2;
  }
  let report: BenchReport;
  try {
    report = await bench.run({ profile: flags.has('--profile'), tiny: flags.has('--tiny') }, options);
  } catch (err) {
    if (!(err instanceof ValidationError)) throw err;
    process.stderr.write(`${err.issues.map((i) => `--${i.path}: ${i.message}`).join('\n')}\n`);
    return 2;
  }
  process.stdout.write(`${flags.has('--json') ? reportJson(report) : reportTable(report)}\n`);
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
