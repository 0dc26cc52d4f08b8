import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
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

/**
 * CPU seconds a process has used so far, all its threads (utime + stime of /proc/<pid>/stat, at
 * Linux's 100 ticks a second), or undefined where there is no /proc.
 */
export function cpuSeconds(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    // The fields after the command name, which is in parentheses and may hold spaces.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name and state.
    return (Number(fields[11]) + Number(fields[12])) / 100;
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
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

/** An answer of the server: status and body text. */
export interface Answer {
  readonly status: number;
  readonly text: string;
}

/**
 * One JSON request over node:http on a keep-alive agent. Not `fetch`: on a 2-core machine it costs
 * the client several times the CPU per request (measured: about 1 ms against 0.15 ms), CPU the
 * server being measured would not get.
 */
export function sendJson(
  agent: Agent,
  url: string,
  method: string,
  headers: Readonly<Record<string, string>>,
  body: unknown,
): Promise<Answer> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method,
        agent,
        headers: {
          ...headers,
          ...(payload === undefined
            ? {}
            : { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) }),
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          text += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

/** The tenant API of one server, with its key: a request that is not 2xx throws. */
export class Api {
  readonly #url: string;
  readonly #key: string;
  readonly #agent = new Agent({ keepAlive: true, maxSockets: 64 });
  constructor(url: string, key: string) {
    this.#url = url;
    this.#key = key;
  }

  async send(method: string, path: string, body: unknown): Promise<unknown> {
    const { status, text } = await sendJson(
      this.#agent,
      `${this.#url}${path}`,
      method,
      { authorization: `Bearer ${this.#key}` },
      body,
    );
    if (status < 200 || status > 299) throw new Error(`${method} ${path}: ${status} ${text}`);
    return text === '' ? undefined : JSON.parse(text);
  }

  /** Closes the kept-alive connections. */
  close(): void {
    this.#agent.destroy();
  }
}
