import { spawn, spawnSync } from 'node:child_process';
import { freePort, stopChild, waitForPort } from '../../src/runtime/local-aws/emulators.ts';

/** moto's server (Python): SNS platform applications and endpoints, Firehose into S3, Secrets Manager. */
export interface MotoServer {
  readonly endpoint: string;
  stop(): Promise<void>;
}

/**
 * Starts `moto_server` on a free port of 127.0.0.1, as `moto_server -H 127.0.0.1 -p PORT`.
 * Throws with the install hint when the command is missing: the suites that need it fail rather
 * than pass without it.
 */
export async function startMotoServer(): Promise<MotoServer> {
  const probe = spawnSync('moto_server', ['--help'], { encoding: 'utf8' });
  if (probe.error !== undefined || probe.status !== 0) {
    throw new Error(
      `moto_server is not installed (pip install 'moto[server]'): ${probe.error?.message ?? probe.stderr}`,
    );
  }
  const port = await freePort();
  const child = spawn('moto_server', ['-H', '127.0.0.1', '-p', String(port)], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-2_000);
  });
  try {
    await waitForPort(port, 'moto_server', child);
  } catch (err) {
    await stopChild(child);
    throw new Error(`${(err as Error).message}\n${stderr}`);
  }
  return { endpoint: `http://127.0.0.1:${port}`, stop: () => stopChild(child) };
}
