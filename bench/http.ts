import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import { sleep } from '../src/lib/sleep.ts';
import { type BenchReport, withTempDir } from './support.ts';

/** Sizes of one HTTP benchmark run. */
export interface HttpBenchOptions {
  /** Concurrent connections of the load generator. @default 100 */
  readonly connections?: number;
  /** Seconds of load per measured route. @default 10 */
  readonly seconds?: number;
  /** Inbox rows the reading user has. @default 200 */
  readonly inboxRows?: number;
}

const MAIN = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url));

/**
 * Requests per second and p99 latency of event ingest (`POST /v1/events`) and of an inbox page
 * (`GET /v1/me/inbox`), with autocannon on loopback against `fanout serve` started the way the
 * README says, in its own process: the load generator and the server share the machine's two cores,
 * as a client on the same box would.
 */
export async function httpBench(opts: HttpBenchOptions = {}): Promise<BenchReport> {
  const connections = opts.connections ?? 100;
  const seconds = opts.seconds ?? 10;
  const inboxRows = opts.inboxRows ?? 200;
  return withTempDir('http', async (dir) => {
    const server = await startServer(dir, {});
    try {
      const api = new Api(server.url, server.apiKey);
      // A reader who follows one author; the author's posts fill the reader's inbox.
      await api.send('PUT', '/v1/users/author/followers/reader', { alerts: false });
      for (let i = 0; i < inboxRows; i++) {
        await api.send('POST', '/v1/events', { id: `seed-${i}`, type: 'post', actorId: 'author' });
      }
      const { token } = (await api.send('POST', '/v1/users/reader/tokens', {})) as { token: string };
      await waitForInbox(server.url, token, Math.min(inboxRows, 20));

      const ingest = await load({
        url: `${server.url}/v1/events`,
        connections,
        duration: seconds,
        method: 'POST',
        headers: { authorization: `Bearer ${server.apiKey}`, 'content-type': 'application/json' },
        // autocannon replaces [<id>] with a fresh id per request: every event is new.
        body: JSON.stringify({ id: 'bench-[<id>]', type: 'like', actorId: 'liker', recipients: ['reader'] }),
        idReplacement: true,
      });
      const inbox = await load({
        url: `${server.url}/v1/me/inbox?limit=20`,
        connections,
        duration: seconds,
        headers: { authorization: `Bearer ${token}` },
      });
      // The same ingest load on the service split over two processes: the API alone in one
      // (FANOUT_PIPELINE=off), fan-out and delivery in a `fanout work` process on the same file.
      // The server's high-water mark of resident memory over seeding, ingest and inbox reads.
      const serverPeakRss = peakRssMiB(server.pid);
      let splitPeakRss: { api: number | undefined; worker: number | undefined } = {
        api: undefined,
        worker: undefined,
      };
      const split = await withTempDir('http-split', async (splitDir) => {
        const api = await startServer(splitDir, { FANOUT_PIPELINE: 'off' });
        const worker = startWorker(splitDir);
        try {
          const result = await load({
            url: `${api.url}/v1/events`,
            connections,
            duration: seconds,
            method: 'POST',
            headers: { authorization: `Bearer ${api.apiKey}`, 'content-type': 'application/json' },
            body: JSON.stringify({
              id: 'split-[<id>]',
              type: 'like',
              actorId: 'liker',
              recipients: ['reader'],
            }),
            idReplacement: true,
          });
          splitPeakRss = { api: peakRssMiB(api.pid), worker: peakRssMiB(worker.pid) };
          return result;
        } finally {
          await api.stop();
          await stop(worker);
        }
      });
      return {
        name: 'http',
        figures: {
          ingestRequestsPerSec: ingest.requests.average,
          ingestP50Ms: ingest.latency.p50,
          ingestP99Ms: ingest.latency.p99,
          inboxRequestsPerSec: inbox.requests.average,
          inboxP50Ms: inbox.latency.p50,
          inboxP99Ms: inbox.latency.p99,
          splitIngestRequestsPerSec: split.requests.average,
          splitIngestP99Ms: split.latency.p99,
          ...(serverPeakRss === undefined ? {} : { serverPeakRssMiB: serverPeakRss }),
          ...(splitPeakRss.api === undefined ? {} : { splitApiPeakRssMiB: splitPeakRss.api }),
          ...(splitPeakRss.worker === undefined ? {} : { splitWorkerPeakRssMiB: splitPeakRss.worker }),
        },
        settings: {
          connections,
          secondsPerRoute: seconds,
          ingestRequests: ingest.requests.total,
          ingestNon2xx: ingest.non2xx,
          ingestErrors: ingest.errors + ingest.timeouts,
          inboxRequests: inbox.requests.total,
          inboxNon2xx: inbox.non2xx,
          inboxErrors: inbox.errors + inbox.timeouts,
          splitIngestNon2xx: split.non2xx,
          splitIngestErrors: split.errors + split.timeouts,
          readerInboxRows: inboxRows,
          server: 'fanout serve (embedded, SQLite WAL file), own process, loopback',
        },
        goals: [
          { figure: 'ingestRequestsPerSec', op: '>=', value: 10_000 },
          { figure: 'ingestP99Ms', op: '<', value: 50 },
        ],
        notes: [
          'Each ingest request is a new event (one recipient), appended durably before the 202; fan-out and',
          'delivery run in the same server process meanwhile (on its pipeline thread), as they do in production.',
          'split*: the same ingest load against `fanout serve` with FANOUT_PIPELINE=off beside a `fanout work`',
          'process on the same data file (the two share the SQLite WAL file; each gets a core).',
          'A non-2xx or error count above 0 makes the run worthless: check the settings.',
          '*PeakRssMiB: the process high-water mark of resident memory (VmHWM, Linux only; all its threads),',
          'read before it stops.',
        ],
      };
    } finally {
      await server.stop();
    }
  });
}

function load(opts: autocannon.Options): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    autocannon(opts, (err, result) => (err ? reject(err) : resolve(result)));
  });
}

interface Server {
  readonly pid: number | undefined;
  readonly url: string;
  readonly apiKey: string;
  stop(): Promise<void>;
}

/** `fanout serve` on a free port with its data in `dir`; resolves once it printed its address and key. */
function startServer(dir: string, env: Readonly<Record<string, string>>): Promise<Server> {
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
function peakRssMiB(pid: number | undefined): number | undefined {
  if (pid === undefined) return undefined;
  try {
    const kb = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb === undefined ? undefined : Math.round(Number(kb) / 1024);
  } catch {
    return undefined;
  }
}

/** `fanout work` on `dir` (it starts while the load does; appends wait in the log meanwhile). */
function startWorker(dir: string): ChildProcess {
  return spawn(process.execPath, [MAIN, 'work'], {
    env: { ...process.env, FANOUT_DATA_DIR: dir, FANOUT_LOG_LEVEL: 'silent' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

class Api {
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

/** Polls until the reader's first page is full, so the inbox route is measured on a real page. */
async function waitForInbox(url: string, token: string, items: number): Promise<void> {
  // Generous: on a loaded machine (a full test run beside it) fan-out can take a while to start.
  for (let attempt = 0; attempt < 3000; attempt++) {
    const response = await fetch(`${url}/v1/me/inbox?limit=${items}`, {
      headers: { authorization: `Bearer ${token}` },
    });
    const page = (await response.json()) as { items?: unknown[] };
    if ((page.items?.length ?? 0) >= items) return;
    await sleep(100);
  }
  throw new Error('the reader inbox never filled: is fan-out running?');
}
