import { tinyScenario } from '../src/cli/demo/scenario.ts';
import { integer, readSettings } from '../src/lib/settings.ts';
import { awsCostBench } from './aws-cost.ts';
import { fanoutBench } from './fanout.ts';
import { httpBench } from './http.ts';
import { inboxReadBench } from './inbox-read.ts';
import { pipelineBench } from './pipeline.ts';
import { pushBench } from './push.ts';
import { type BenchReport, reportJson, reportTable } from './support.ts';

/**
 * `npm run bench -- <name> [--json] [--profile]`: runs one benchmark and prints its figures as a
 * table (or, with --json, one JSON object). A benchmark reports its goal; it never fails on it.
 */
/** How a benchmark is run: `tiny` shrinks it to seconds, to check it works (its figures mean nothing). */
interface RunFlags {
  readonly profile: boolean;
  readonly tiny: boolean;
}

const BENCHMARKS: Readonly<
  Record<string, { readonly about: string; run(flags: RunFlags): Promise<BenchReport> }>
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
  http: {
    about: 'event ingest and inbox page requests/s and p99 over HTTP, 100 connections (autocannon)',
    run: ({ tiny }) => httpBench(tiny ? { connections: 2, seconds: 1, inboxRows: 3 } : {}),
  },
  'aws-cost': {
    about: 'DynamoDB write units, SQS requests and dollars per notification through the AWS adapters',
    run: ({ tiny }) =>
      awsCostBench(
        tiny
          ? {
              scenario: {
                ...tinyScenario(0),
                celebrityFollowers: 300,
                authors: 20,
                activeUsers: 150,
                extraEvents: 10,
                celebrityPosts: 1,
              },
              liveEvents: 5,
              readers: 5,
              readCost: { celebrities: [3, 6], pointersPerCelebrity: 2, rows: 40, reads: 2 },
            }
          : {},
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

/** A positive integer from the environment, or undefined (the benchmark's default) when unset or not one. */
function usage(): string {
  const names = Object.entries(BENCHMARKS).map(([name, b]) => `  ${name.padEnd(12)} ${b.about}`);
  return [
    'usage: npm run bench -- <name> [--json] [--profile] [--tiny]',
    '',
    ...names,
    '',
    '--tiny runs a benchmark at a size of seconds, to check that it works; its figures mean nothing.',
  ].join('\n');
}

async function main(args: readonly string[]): Promise<number> {
  const flags = new Set(args.filter((a) => a.startsWith('--')));
  const names = args.filter((a) => !a.startsWith('--'));
  const unknownFlag = [...flags].find((f) => f !== '--json' && f !== '--profile' && f !== '--tiny');
  const bench = names.length === 1 ? BENCHMARKS[names[0]!] : undefined;
  if (bench === undefined || unknownFlag !== undefined) {
    process.stderr.write(`${usage()}\n`);
    return 2;
  }
  const report = await bench.run({ profile: flags.has('--profile'), tiny: flags.has('--tiny') });
  process.stdout.write(`${flags.has('--json') ? reportJson(report) : reportTable(report)}\n`);
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
