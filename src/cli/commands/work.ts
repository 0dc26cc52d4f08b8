import { openEmbeddedPorts } from '../../runtime/embedded.ts';
import { Housekeeper } from '../../runtime/housekeeping.ts';
import { jsonLogger } from '../../runtime/json-logger.ts';
import { Pipeline } from '../../runtime/pipeline.ts';
import { type CliIo, CONFIG_FLAGS, configFrom, configOptions, parse, signalExitCode } from '../args.ts';
import { localPipelineOptions } from '../demo/run.ts';
import { step } from '../step.ts';

export const WORK_HELP = `Usage: fanout work [options]

Runs fan-out and delivery (with the data file's housekeeping, and the audit of dead letters no
consumer saw, every minute) on the data dir, without the HTTP API, until SIGINT or SIGTERM, then stops gracefully. Pair it with 'fanout serve' started with
FANOUT_PIPELINE=off on the same data dir: the two processes share the SQLite file (WAL lets the
API read while the pipeline writes). Live inbox streams then find new items by polling
(FANOUT_STREAM_POLL_MS, every 2 s) instead of being woken at once. 'fanout serve' alone already
runs this pipeline on a thread of its own; this split is for separate processes or machines.

Options:
  --data-dir DIR               FANOUT_DATA_DIR (default ./.fanout)
  --log-level LEVEL            FANOUT_LOG_LEVEL (default warn)
  -h, --help                   show this help

Every other setting is an environment variable: see docs/configuration.md.
`;

/** `fanout work`: the pipeline alone, for a service split over two processes. */
export async function workCommand(args: readonly string[], io: CliIo): Promise<number> {
  const { values } = parse(args, configOptions(Object.keys(CONFIG_FLAGS)));
  if (values.help) {
    io.stdout(WORK_HELP);
    return 0;
  }
  const config = configFrom(values, io.env);
  const logger = jsonLogger(config.logLevel, io.stderr);
  const ports = await step(`opening the data dir ${config.dataDir}`, () =>
    openEmbeddedPorts({ config, logger }),
  );
  const pipeline = new Pipeline(ports, localPipelineOptions(config));
  const housekeeper = new Housekeeper({ tasks: ports.housekeeping, clock: ports.clock, logger });
  try {
    await step('starting the pipeline', () => pipeline.start());
    housekeeper.start();
    io.stdout(`working on ${config.dataDir}\n`);
    if (!io.signal.aborted) {
      await new Promise((resolve) => io.signal.addEventListener('abort', resolve, { once: true }));
    }
  } finally {
    await housekeeper.stop();
    await pipeline.stop();
    await ports.close();
  }
  io.stderr('fanout: stopped\n');
  return signalExitCode(io.signal);
}
