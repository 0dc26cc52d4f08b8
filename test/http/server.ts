import { type ChildProcess, spawn } from 'node:child_process';
import { MAIN, runFanout, tempDir } from '../cli/run-fanout.ts';

/** A `fanout serve` child process started the way the README says, on a free port. */
export interface RunningServer {
  readonly url: string;
  readonly devKey: string;
  readonly dataDir: string;
  stop(): Promise<number | null>;
  /** SIGKILL: no graceful stop. Resolves with the signal the process died of. */
  kill(): Promise<NodeJS.Signals | null>;
}

/**
 * Starts `fanout serve` on port 0 with a fresh data dir and reads its address and dev key. On a
 * data dir it served before, give the dev key printed then (a restart prints none).
 */
export async function startServer(
  env: Readonly<Record<string, string>> = {},
  dataDir = tempDir('http'),
  knownDevKey?: string,
): Promise<RunningServer> {
  const child: ChildProcess = spawn(process.execPath, [MAIN, 'serve'], {
    env: { ...process.env, FANOUT_LOG_LEVEL: 'silent', FANOUT_DATA_DIR: dataDir, PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal })),
  );
  const exited = closed.then(({ code }) => code);
  const ready = await new Promise<{ url: string; devKey: string }>((resolve, reject) => {
    child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk;
      const url = /listening on (http:\/\/\S+)/.exec(stdout)?.[1];
      const devKey = knownDevKey ?? /\(shown once\): (\S+)/.exec(stdout)?.[1];
      if (url !== undefined && devKey !== undefined) resolve({ url, devKey });
    });
    void exited.then((code) => reject(new Error(`serve exited with ${code} before listening: ${stderr}`)));
  });
  return {
    ...ready,
    dataDir,
    async stop() {
      child.kill('SIGTERM');
      return exited;
    },
    async kill() {
      child.kill('SIGKILL');
      return (await closed).signal;
    },
  };
}

/** Creates a tenant through the CLI and returns its API key. */
export async function createTenantKey(dataDir: string, tenantId: string): Promise<string> {
  const result = await runFanout(['tenant', 'create', tenantId, '--json'], {
    env: { FANOUT_DATA_DIR: dataDir },
  });
  if (result.code !== 0) throw new Error(`tenant create failed: ${result.stderr}`);
  return (JSON.parse(result.stdout) as { apiKey: string }).apiKey;
}

/** A response as the tests read it: status, parsed JSON body, headers. */
export interface Reply {
  readonly status: number;
  // biome-ignore lint/suspicious/noExplicitAny: tests read response bodies field by field.
  readonly body: any;
  readonly headers: Headers;
}

/** A small fetch client for one credential. */
export function client(baseUrl: string, credential?: string) {
  return async (
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<Reply> => {
    const res = await fetch(`${baseUrl}${path}`, {
      method,
      headers: {
        ...(credential === undefined ? {} : { authorization: `Bearer ${credential}` }),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        ...headers,
      },
      ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, body: text === '' ? undefined : JSON.parse(text), headers: res.headers };
  };
}

/** Polls until `check` returns a value other than undefined; fails after `attempts` tries. */
export async function eventually<T>(check: () => Promise<T | undefined>, attempts = 400): Promise<T> {
  for (let i = 0; i < attempts; i++) {
    const value = await check();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  throw new Error('condition not reached');
}
