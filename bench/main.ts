import { integer, readSettings } from '../src/lib/settings.ts';
import { awsCostBench } from './aws-cost.ts';
import { chaosBench } from './chaos.ts';
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
  Record<
    string,
    { readonly about: string; run(profile: boolean, options: BenchOptions): Promise<BenchReport> }
  >
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
  'inbox-read': {
    about: 'p50/p99 latency of a 20-item inbox page with the celebrity merge',
    run: (profile) => inboxReadBench({ profile }),
  },
  chaos: {
    about:
      'exactly-once under SIGKILL: a demo killed during fan-out, delivery and the drain vs an uninterrupted one (--recipients N, default 20,000)',
    run: (_profile, options) =>
      chaosBench(options.recipients === undefined ? {} : { recipients: options.recipients }),
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
  return ['usage: npm run bench -- <name> [--json] [--profile] [--recipients N]', '', ...names].join('\n');
}

/** Options with a value, for the benchmarks that take them. */
interface BenchOptions {
  readonly recipients?: number;
}

/** `--recipients N` out of `args`, or an error message. */
function takeOptions(args: string[]): BenchOptions | string {
  const at = args.indexOf('--recipients');
  if (at === -1) return {};
  const [, value] = args.splice(at, 2);
  const n = Number(value);
  if (value === undefined || !Number.isInteger(n) || n < 10 || n > 10_000_000) {
    return '--recipients must be an integer from 10 to 10000000';
  }
  return { recipients: n };
}

async function main(argv: readonly string[]): Promise<number> {
  const args = [...argv];
  const options = takeOptions(args);
  const flags = new Set(args.filter((a) => a.startsWith('--')));
  const names = args.filter((a) => !a.startsWith('--'));
  const unknownFlag = [...flags].find((f) => f !== '--json' && f !== '--profile');
  const bench = names.length === 1 ? BENCHMARKS[names[0]!] : undefined;
  if (bench === undefined || unknownFlag !== undefined || typeof options === 'string') {
    if (typeof options === 'string') process.stderr.write(`${options}\n`);
    process.stderr.write(`${usage()}\n`);
    return 2;
  }
  const report = await bench.run(flags.has('--profile'), options);
  process.stdout.write(`${flags.has('--json') ? reportJson(report) : reportTable(report)}\n`);
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
