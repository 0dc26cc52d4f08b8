import { ValidationError } from '../../domain/errors.ts';
import { SettingsError } from '../../lib/settings.ts';
import { jsonLogger } from '../../runtime/json-logger.ts';
import {
  type CliIo,
  CONFIG_FLAGS,
  configFrom,
  configOptions,
  intFlag,
  parse,
  settingsProblems,
  signalExitCode,
} from '../args.ts';
import { colours } from '../colour.ts';
import { localAwsBackend } from '../demo/local-aws-backend.ts';
import { type RealRecipient, readRealRecipient } from '../demo/real-recipient.ts';
import { type DemoRun, runDemo } from '../demo/run.ts';
import {
  checkScenario,
  DEFAULT_SCENARIO,
  type Scenario,
  SMALL_SCENARIO,
  tinyScenario,
} from '../demo/scenario.ts';
import { type DemoSummary, formatSummary } from '../demo/summary.ts';
import { createReporter } from '../progress.ts';
import { UsageError } from '../usage.ts';

const CONFIG_HELP = `Configuration (flags override environment variables; see docs/configuration.md):
  --data-dir DIR               FANOUT_DATA_DIR (default ./.fanout)
  --shards N                   FANOUT_SHARDS (default 4)
  --celebrity-threshold N      FANOUT_CELEBRITY_THRESHOLD (default 10000)
  --tier-hysteresis X          FANOUT_TIER_HYSTERESIS (default 0.1)
  --dedup sqlite|memory        FANOUT_DEDUP (default sqlite)
  --push-rate N                FANOUT_PUSH_RATE, sends/s, 0 = unlimited (default 0)
  --email-rate N               FANOUT_EMAIL_RATE, sends/s, 0 = unlimited (default 0)
  --delivery-batch N           FANOUT_DELIVERY_BATCH (default 500)
  --delivery-concurrency N     FANOUT_DELIVERY_CONCURRENCY (default 2)
  --log-level LEVEL            FANOUT_LOG_LEVEL: debug|info|warn|error|silent (default warn)
  --profile NAME               FANOUT_PROFILE: embedded | local-aws (default embedded); local-aws
                               runs the AWS adapters on emulators it starts (docs/local-aws.md)
  --unread-mode gsi|counter    FANOUT_UNREAD_MODE, local-aws only (default counter)`;

const DEMO_OPTIONS = `Options:
  --json                       print one JSON object instead of the table
  --scale tiny|small|default   FANOUT_DEMO_SCALE. tiny: a few seconds; small: tens of seconds;
                               default: a 1,000,000-follower celebrity (default: default;
                               small on --profile local-aws)
  --users N                    active users (the recipients of regular authors' posts), with
                               authors and extra events scaled to match (default: the scale's)
  --viral N                    add a like storm: N distinct likers on one user's post, with
                               re-sends and repeat likes; the summary shows what its owner got
  --seed N                     seed of the synthetic graph and events (default 42)
  --at ISO-TIME                start the demo's clock at this instant (quiet hours depend on it)
  -h, --help                   show this help

You, through real providers (embedded profile; docs/push.md):
  FANOUT_DEMO_DEVICES          apns:<token>,fcm:<token>: your devices, pushed through the
                               providers FANOUT_APNS_* / FANOUT_FCM_SERVICE_ACCOUNT_FILE configure
  FANOUT_DEMO_EMAIL            your address, mailed through FANOUT_SMTP_URL
  FANOUT_DEMO_LOCALE           the language of your notifications (default en)
  Everyone else in the demo stays on the recording sinks.`;

export const DEMO_HELP = `Usage: fanout demo [options]

Seeds a synthetic social graph in tenant 'demo', posts its events, runs fan-out and delivery
until drained, and prints totals read back from durable state. Safe to re-run on the same data
dir, also after a crash: it resumes and ends with the same totals.

${DEMO_OPTIONS}

${CONFIG_HELP}
`;

/** How far back `--at` may lie on local-aws: inside the event-id TTL of 7 days, with a day to spare. */
const LOCAL_AWS_OLDEST_AT_MS = 6 * 24 * 60 * 60 * 1000;

const OPTIONS = {
  ...configOptions(Object.keys(CONFIG_FLAGS)),
  json: { type: 'boolean' },
  scale: { type: 'string' },
  users: { type: 'string' },
  viral: { type: 'string' },
  seed: { type: 'string' },
  at: { type: 'string' },
} as const;

interface DemoArgs {
  readonly help: boolean;
  readonly json: boolean;
  readonly scenario: Scenario;
  readonly at: number | undefined;
  readonly realRecipient: RealRecipient | undefined;
}

function parseDemoArgs(args: readonly string[], io: CliIo) {
  const { values } = parse(args, OPTIONS);
  if (values.help) return { help: true } as const;
  const config = configFrom(values, io.env);
  // The emulators are a test bed, not a datastore: a million-follower run there takes hours.
  const scale =
    (values.scale as string | undefined) ??
    io.env.FANOUT_DEMO_SCALE ??
    (config.profile === 'local-aws' ? 'small' : 'default');
  if (scale !== 'tiny' && scale !== 'small' && scale !== 'default') {
    throw new UsageError("--scale (FANOUT_DEMO_SCALE) must be 'tiny', 'small' or 'default'");
  }
  const seed = intFlag(values.seed, 'seed', 0, 2 ** 31 - 1) ?? DEFAULT_SCENARIO.seed;
  const at = values.at === undefined ? undefined : parseInstant(values.at as string);
  // DynamoDB (Local, too) deletes expired items on the wall clock, while the demo's clock stamps
  // their expiry: an instant further back than the shortest TTL (event ids, 7 days) would have
  // the emulator delete what the run just wrote.
  if (config.profile === 'local-aws' && at !== undefined && at < Date.now() - LOCAL_AWS_OLDEST_AT_MS) {
    throw new UsageError(
      '--at may lie at most 6 days in the past on --profile local-aws (DynamoDB TTL runs on the wall clock)',
    );
  }
  const users = intFlag(values.users, 'users', 10, 10_000_000);
  const viralLikes = intFlag(values.viral, 'viral', 0, 1_000_000);
  const base =
    scale === 'tiny'
      ? tinyScenario(config.celebrityThreshold)
      : scale === 'small'
        ? SMALL_SCENARIO
        : DEFAULT_SCENARIO;
  let scenario: Scenario;
  try {
    scenario = checkScenario(
      {
        ...(users === undefined ? base : withUsers(base, users)),
        seed,
        ...(viralLikes ? { viralLikes } : {}),
      },
      config.celebrityThreshold,
    );
  } catch (err) {
    if (err instanceof ValidationError)
      throw new UsageError(`scenario does not fit the configuration: ${err.message}`);
    throw err;
  }
  let realRecipient: RealRecipient | undefined;
  try {
    realRecipient = readRealRecipient(io.env);
  } catch (err) {
    if (err instanceof SettingsError) throw new UsageError(settingsProblems(err));
    throw err;
  }
  // The local AWS profile has no SNS emulator to hand your phone to: its push is a recording sink.
  if (realRecipient !== undefined && config.profile === 'local-aws') {
    throw new UsageError('FANOUT_DEMO_DEVICES / FANOUT_DEMO_EMAIL work with the embedded profile only');
  }
  const parsed: DemoArgs = { help: false, json: values.json === true, scenario, at, realRecipient };
  return { ...parsed, config };
}

/**
 * The scale's scenario with `users` active users, and regular authors and extra events in the same
 * proportion to them, so each user still gets about as many notifications.
 */
function withUsers(base: Scenario, users: number): Scenario {
  const ratio = users / base.activeUsers;
  return {
    ...base,
    activeUsers: users,
    authors: Math.max(1, Math.round(base.authors * ratio)),
    extraEvents: Math.round(base.extraEvents * ratio),
  };
}

/** An ISO-8601 date-time with a time zone (`Z` or an offset). */
function parseInstant(value: string): number {
  const ms = Date.parse(value);
  if (!/T\d{2}:\d{2}/.test(value) || !/(Z|[+-]\d{2}:?\d{2})$/.test(value) || Number.isNaN(ms)) {
    throw new UsageError('--at must be an ISO-8601 date-time with a zone, e.g. 2026-01-15T03:07:30Z');
  }
  return ms;
}

/** `fanout demo`: one run to drained, then a summary. */
export async function demoCommand(args: readonly string[], io: CliIo): Promise<number> {
  const parsed = parseDemoArgs(args, io);
  if (parsed.help) {
    io.stdout(DEMO_HELP);
    return 0;
  }
  const run = await startDemo(parsed, io);
  if (run === undefined) return signalExitCode(io.signal);
  await run.pipeline.stop();
  await run.backend.close();
  io.stdout(
    parsed.json
      ? `${JSON.stringify(run.summary)}\n`
      : `${formatSummary(run.summary)}\n${nextCommands(parsed.config, run.summary)}`,
  );
  return 0;
}

/** What to try after the demo, on the data dir it used. */
export function nextCommands(config: ReturnType<typeof configFrom>, summary: DemoSummary): string {
  const rows: [string, string][] =
    config.profile === 'local-aws'
      ? [
          ['npm run start:local-aws', 'the API and the notification center through the AWS adapters'],
          ['npm run bench -- aws-cost', 'what a notification costs on AWS'],
        ]
      : (() => {
          const dir = config.dataDir === './.fanout' ? '' : ` --data-dir ${config.dataDir}`;
          const dead = summary.deadLetterQueue.push;
          return [
            [`npm run fanout -- audit verify${dir}`, "check the audit log's hash chain"],
            [
              `npm run fanout -- dlq list push${dir}`,
              `the push dead letters (${dead.toLocaleString('en-US')} now)`,
            ],
            [
              dir === '' ? 'npm start' : `FANOUT_DATA_DIR=${config.dataDir} npm start`,
              'the API and the notification center on this data, at http://127.0.0.1:8080/',
            ],
          ];
        })();
  const width = Math.max(...rows.map(([command]) => command.length));
  return `Next:\n${rows.map(([command, what]) => `  ${command.padEnd(width)}  ${what}`).join('\n')}\n`;
}

/** The demo run, or undefined when a signal stopped it (already stopped and closed). */
async function startDemo(
  parsed: DemoArgs & { readonly config: ReturnType<typeof configFrom> },
  io: CliIo,
): Promise<DemoRun | undefined> {
  const reporter = createReporter({
    write: io.stderr,
    tty: io.stderrIsTTY,
    trace: io.env.FANOUT_DEMO_TRACE === '1',
    colours: colours(io.stderrIsTTY, io.env),
  });
  try {
    return await runDemo({
      config: parsed.config,
      scenario: parsed.scenario,
      ...(parsed.at === undefined ? {} : { at: parsed.at }),
      ...(parsed.realRecipient === undefined ? {} : { realRecipient: parsed.realRecipient }),
      reporter,
      signal: io.signal,
      logger: jsonLogger(parsed.config.logLevel, io.stderr),
      ...(parsed.config.profile === 'local-aws' ? { openBackend: localAwsBackend() } : {}),
    });
  } catch (err) {
    if (io.signal.aborted) return undefined;
    throw err;
  }
}
