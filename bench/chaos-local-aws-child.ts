/**
 * One local-aws demo run in its own process, for the local-aws chaos harness to SIGKILL: the demo
 * on emulators the parent started, under the parent's prefix, with its sinks and progress in the
 * parent's dir, so the next run on the same three resumes. Reads its parameters as one JSON
 * argument ({@link ChildParams}); prints progress lines (`demo: phase …`) on stderr and the
 * summary as JSON on stdout.
 */
import { localAwsBackend } from '../src/cli/demo/local-aws-backend.ts';
import { runDemo } from '../src/cli/demo/run.ts';
import type { Scenario } from '../src/cli/demo/scenario.ts';
import { createReporter } from '../src/cli/progress.ts';
import { readRuntimeConfig } from '../src/runtime/config.ts';
import type { EmulatorEndpoints } from '../src/runtime/local-aws/emulators.ts';

/** What the parent passes, as JSON in argv[2]. */
export interface ChildParams {
  readonly endpoints: EmulatorEndpoints;
  readonly prefix: string;
  readonly dir: string;
  readonly scenario: Scenario;
  /** `--at`, epoch ms. */
  readonly at: number;
  /** Runtime settings as environment variables (FANOUT_CELEBRITY_THRESHOLD …). */
  readonly env: Readonly<Record<string, string>>;
}

async function main(): Promise<void> {
  const params = JSON.parse(process.argv[2] ?? '') as ChildParams;
  const config = readRuntimeConfig({
    ...params.env,
    FANOUT_DATA_DIR: params.dir,
    FANOUT_PROFILE: 'local-aws',
  });
  const run = await runDemo({
    config,
    scenario: params.scenario,
    at: params.at,
    reporter: createReporter({ write: (text) => process.stderr.write(text), tty: false, trace: true }),
    signal: new AbortController().signal,
    openBackend: localAwsBackend({ endpoints: params.endpoints, prefix: params.prefix, dir: params.dir }),
  });
  await run.pipeline.stop();
  await run.backend.close();
  process.stdout.write(`${JSON.stringify(run.summary)}\n`);
}

await main();
