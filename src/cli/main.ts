import { realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { CliIo } from './args.ts';
import { colours } from './colour.ts';
import { auditCommand } from './commands/audit.ts';
import { demoCommand } from './commands/demo.ts';
import { dlqCommand } from './commands/dlq.ts';
import { serveCommand } from './commands/serve.ts';
import { tenantCommand } from './commands/tenant.ts';
import { workCommand } from './commands/work.ts';
import { describeFailure, wantsDebug } from './failure.ts';
import { StepError } from './step.ts';
import { UsageError } from './usage.ts';

export const HELP = `Usage: fanout <command> [options]

Commands:
  serve                run the service: HTTP API, web pages, fan-out and delivery (also: start)
  start                the same as serve
  work                 run fan-out and delivery alone (beside serve with FANOUT_PIPELINE=off)
  tenant create <id>   create a tenant and print its API key (shown once)
  tenant list          list the tenants
  demo                 seed a synthetic graph, fan out and deliver its events, print totals
  audit verify         verify the audit log's hash chain
  dlq list <channel>   list a channel's dead letters (push or email)
  dlq redrive <channel>  move a channel's dead letters back to its queue

Run 'fanout <command> --help' for a command's options. Configuration: docs/configuration.md.
`;

const COMMANDS: Readonly<Record<string, (args: readonly string[], io: CliIo) => Promise<number>>> = {
  serve: serveCommand,
  start: serveCommand,
  tenant: tenantCommand,
  demo: demoCommand,
  audit: auditCommand,
  dlq: dlqCommand,
  work: workCommand,
};

/**
 * Runs one command line and returns the exit code: 0 done, 1 failed (or audit chain broken),
 * 2 usage error, 130 / 143 stopped by SIGINT / SIGTERM. Output goes to `io.stdout`; messages,
 * progress and logs to `io.stderr`.
 */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const [command, ...args] = argv;
  if (command === undefined) {
    io.stderr(HELP);
    return 2;
  }
  if (command === '--help' || command === '-h' || command === 'help') {
    io.stdout(HELP);
    return 0;
  }
  const run = COMMANDS[command];
  try {
    if (run === undefined) throw new UsageError(`unknown command '${command}'`);
    return await run(args, io);
  } catch (caught) {
    const err = caught instanceof StepError && caught.cause instanceof UsageError ? caught.cause : caught;
    if (err instanceof UsageError) {
      io.stderr(
        `fanout: ${err.message}\nRun 'fanout ${run === undefined ? '' : `${command} `}--help' for usage.\n`,
      );
      return 2;
    }
    io.stderr(describeFailure(command, err, wantsDebug(args, io.env), colours(io.stderrIsTTY, io.env)));
    return 1;
  }
}

/** The process's io: real streams, env, and a signal aborted by SIGINT / SIGTERM. */
export function processIo(): CliIo {
  const controller = new AbortController();
  for (const name of ['SIGINT', 'SIGTERM'] as const) {
    process.on(name, () => {
      // A second signal while stopping means "now": exit without waiting for the graceful stop.
      if (controller.signal.aborted) process.exit(name === 'SIGTERM' ? 143 : 130);
      controller.abort(name);
    });
  }
  return {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    env: process.env,
    stderrIsTTY: process.stderr.isTTY === true,
    signal: controller.signal,
  };
}

function isEntryPoint(): boolean {
  const entry = process.argv[1];
  if (entry === undefined) return false;
  try {
    return realpathSync(entry) === realpathSync(fileURLToPath(import.meta.url));
  } catch {
    return false;
  }
}

if (isEntryPoint()) process.exitCode = await runCli(process.argv.slice(2), processIo());
