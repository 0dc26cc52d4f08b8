import { integer, readSettings } from '../src/lib/settings.ts';
import { aggregateBench } from './aggregate.ts';
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
const BENCHMARKS: Readonly<
  Record<string, { readonly about: string; run(profile: boolean): Promise<BenchReport> }>
> = {
  fanout: {
    about: 'inbox rows written per second by fan-out, beside the raw SQLite insert rate',
    run: (profile) => fanoutBench({ profile }),
  },
  pipeline: {
    about: 'push deliveries per second end to end through the push consumer',
    run: (profile) => pipelineBench({ profile }),
  },
  http: {
    about: 'event ingest and inbox page requests/s and p99 over HTTP, 100 connections (autocannon)',
    run: () => httpBench(),
  },
  'aws-cost': {
    about: 'DynamoDB write units, SQS requests and dollars per notification through the AWS adapters',
    run: () => awsCostBench(),
  },
  aggregate: {
    about:
      'likes aggregated per second into one item (embedded), DynamoDB write units per like (aws adapters); BENCH_AGGREGATE_LIKES, BENCH_AGGREGATE_AWS_LIKES size it',
    run: () =>
      aggregateBench(
        readSettings(process.env, {
          likes: integer('BENCH_AGGREGATE_LIKES', { min: 1, max: 10_000_000 }),
          awsLikes: integer('BENCH_AGGREGATE_AWS_LIKES', { min: 1, max: 1_000_000 }),
        }),
      ),
  },
  'inbox-read': {
    about: 'p50/p99 latency of a 20-item inbox page with the celebrity merge',
    run: (profile) => inboxReadBench({ profile }),
  },
  push: {
    about:
      'APNs notifications/s and peak memory: our HTTP/2 client vs @parse/node-apn against one local APNs server',
    run: () =>
      pushBench(
        readSettings(process.env, {
          notifications: integer('BENCH_PUSH_NOTIFICATIONS', { min: 1, max: 10_000_000 }),
          connections: integer('BENCH_PUSH_CONNECTIONS', { min: 1, max: 64 }),
        }),
      ),
  },
};

/** A positive integer from the environment, or undefined (the benchmark's default) when unset or not one. */
function usage(): string {
  const names = Object.entries(BENCHMARKS).map(([name, b]) => `  ${name.padEnd(12)} ${b.about}`);
  return ['usage: npm run bench -- <name> [--json] [--profile]', '', ...names].join('\n');
}

async function main(args: readonly string[]): Promise<number> {
  const flags = new Set(args.filter((a) => a.startsWith('--')));
  const names = args.filter((a) => !a.startsWith('--'));
  const unknownFlag = [...flags].find((f) => f !== '--json' && f !== '--profile');
  const bench = names.length === 1 ? BENCHMARKS[names[0]!] : undefined;
  if (bench === undefined || unknownFlag !== undefined) {
    process.stderr.write(`${usage()}\n`);
    return 2;
  }
  const report = await bench.run(flags.has('--profile'));
  process.stdout.write(`${flags.has('--json') ? reportJson(report) : reportTable(report)}\n`);
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
