import { parentPort, workerData } from 'node:worker_threads';
import { openEmbeddedPorts } from '../runtime/embedded.ts';
import { Housekeeper } from '../runtime/housekeeping.ts';
import { jsonLogger } from '../runtime/json-logger.ts';
import { LiveForwarder } from '../runtime/live-forwarding.ts';
import { observePorts } from '../runtime/metrics.ts';
import { Pipeline } from '../runtime/pipeline.ts';
import { localPipelineOptions } from './demo/run.ts';
import { type PipelineThreadData, type ToMain, toWireError } from './pipeline-thread.ts';
import { step } from './step.ts';

/**
 * The entry of `fanout serve`'s pipeline thread: what `fanout work` runs, on its own connection to
 * the data file, with the inbox changes and counts sent to the API's thread (see
 * `startPipelineThread`). Stops gracefully when told to, then says so and ends.
 */
async function main(): Promise<void> {
  const port = parentPort;
  if (port === null) throw new Error('pipeline-worker.ts runs as a worker thread of fanout serve');
  const { config } = workerData as PipelineThreadData;
  const send = (message: ToMain) => port.postMessage(message);
  const logger = jsonLogger(config.logLevel, (line) => process.stderr.write(line));
  const forwarder = new LiveForwarder((batch) => send({ type: 'live', batch }));
  // Set once the pipeline runs; a stop asked for while it starts waits for it.
  let stopRunning: (() => Promise<void>) | undefined;
  let stopAsked = false;
  port.on('message', (message: { readonly type: string }) => {
    if (message.type !== 'stop' || stopAsked) return;
    stopAsked = true;
    // A failure while stopping is this thread's uncaught error: the API's thread reports it.
    if (stopRunning) void stopRunning();
  });
  try {
    const raw = await step(`opening the data dir ${config.dataDir}`, () =>
      openEmbeddedPorts({ config, logger }),
    );
    const ports = observePorts(raw, { metrics: forwarder, changes: forwarder });
    const pipeline = new Pipeline(ports, localPipelineOptions(config));
    const housekeeper = new Housekeeper({ tasks: raw.housekeeping, clock: raw.clock, logger });
    const stopGracefully = async () => {
      await housekeeper.stop();
      await pipeline.stop();
      forwarder.flush();
      await ports.close();
      send({ type: 'stopped' });
      port.close();
    };
    try {
      await step('starting the pipeline', () => pipeline.start());
      housekeeper.start();
    } catch (err) {
      await housekeeper.stop();
      await pipeline.stop();
      await ports.close();
      throw err;
    }
    stopRunning = stopGracefully;
    send({ type: 'ready' });
    if (stopAsked) void stopRunning();
  } catch (err) {
    send({ type: 'failed', error: toWireError(err) });
    port.close();
  }
}

await main();
