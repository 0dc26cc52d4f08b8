import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * `fanout serve` and `fanout work` started in their own processes the way the README says, for the
 * benchmarks that measure the service as a client sees it (`http`, `e2e`): they talk to it over
 * HTTP only, and at most read its data dir.
 */

const MAIN = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));

/** A running `fanout serve`. */
export interface Server {
  readonly pid: number | undefined;
  readonly url: string;
  readonly apiKey: string;
  stop(): Promise<void>;
}

/** `fanout serve` on a free port with its data in `dir`; resolves once it printed its address and key. */
export function startServer(dir: string, env: Readonly<Record<string, string>>): Promise<Server> {
  const child = spawn(process.execPath, [MAIN, 'serve'], {
    env: {
      ...process.env,
      FANOUT_DATA_DIR: dir,
      PORT: '0',
      FANOUT_LOG_LEVEL: 'silent',
      // The benchmark measures the server, not the per-tenant and per-user limits; one access-log
      // line per request on the inherited stderr would measure the terminal.
      FANOUT_RATE_LIMIT: '0',
      FANOUT_USER_RATE_LIMIT: '0',
      FANOUT_ACCESS_LOG: 'off',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.once('exit', (code) => reject(new Error(`fanout serve exited early (${code})`)));
    child.stdout?.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const url = /listening on (http:\/\/\S+)/.exec(out)?.[1];
      const apiKey = /API key \(shown once\): (\S+)/.exec(out)?.[1];
      if (url && apiKey) {
        child.removeAllListeners('exit');
        resolve({ pid: child.pid, url, apiKey, stop: () => stop(child) });
      }
    });
  });
}

/** A process's peak resident memory in MiB (VmHWM of /proc), or undefined where there is no /proc. */
export function peakRssMiB(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const kb = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb === undefined ? undefined : Math.round(Number(kb) / 1024);
  } catch {
    return undefined;
  }
}

/** `fanout work` on `dir` (it starts while the load does; appends wait in the log meanwhile). */
export function startWorker(dir: string): ChildProcess {
  return spawn(process.execPath, [MAIN, 'work'], {
    env: { ...process.env, FANOUT_DATA_DIR: dir, FANOUT_LOG_LEVEL: 'silent' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

/** SIGTERM, and resolves once the process has exited. */
export function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

/** The tenant API of one server, with its key: a request that is not 2xx throws. */
export class Api {
  readonly #url: string;
  readonly #key: string;
  constructor(url: string, key: string) {
    this.#url = url;
    this.#key = key;
  }

  async send(method: string, path: string, body: unknown): Promise<unknown> {
    const response = await fetch(`${this.#url}${path}`, {
      method,
      headers: { authorization: `Bearer ${this.#key}`, 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
    return text === '' ? undefined : JSON.parse(text);
  }
}
