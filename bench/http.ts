import autocannon from 'autocannon';
import { sleep } from '../src/lib/sleep.ts';
import { Api, peakRssMiB, startServer, startWorker, stop } from './serve-process.ts';
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
    const api = new Api(server.url, server.apiKey);
    try {
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
      // The ingest outruns the pipeline for its 10 s; the backlog it leaves is drained before the
      // inbox is read, so the inbox figure is of reads beside a pipeline at work on a steady load,
      // not beside a catch-up only this benchmark's order creates. How long the catch-up took is
      // in the settings.
      const drainSeconds = await waitForPipeline(api);
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
      // Stopped first, so the split processes get the machine to themselves.
      await server.stop();
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
          pipelineDrainSecondsAfterIngest: drainSeconds,
          server: 'fanout serve (embedded, SQLite WAL file), own process, loopback',
        },
        goals: [
          { figure: 'ingestRequestsPerSec', op: '>=', value: 10_000 },
          { figure: 'ingestP99Ms', op: '<', value: 50 },
          { figure: 'inboxRequestsPerSec', op: '>=', value: 10_000 },
          { figure: 'inboxP99Ms', op: '<', value: 20 },
        ],
        notes: [
          'Each ingest request is a new event (one recipient), appended durably before the 202; fan-out and',
          'delivery run in the same server process meanwhile (on its pipeline thread), as they do in production.',
          'split*: the same ingest load against `fanout serve` with FANOUT_PIPELINE=off beside a `fanout work`',
          'process on the same data file (the two share the SQLite WAL file; each gets a core).',
          'inbox*: read after the pipeline caught up with the ingest phase (pipelineDrainSecondsAfterIngest, which',
          'includes a 0.5 s quiet window), with the pipeline thread still running; the server is stopped before split*.',
          'A non-2xx or error count above 0 makes the run worthless: check the settings.',
          '*PeakRssMiB: the process high-water mark of resident memory (VmHWM, Linux only; all its threads),',
          'read before it stops.',
        ],
      };
    } finally {
      api.close();
      await server.stop();
    }
  });
}

function load(opts: autocannon.Options): Promise<autocannon.Result> {
  return new Promise((resolve, reject) => {
    autocannon(opts, (err, result) => (err ? reject(err) : resolve(result)));
  });
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

interface OpsSnapshot {
  readonly inboxRows: { readonly total: number };
  readonly queues: Readonly<Record<string, { readonly visible: number; readonly inFlight: number }>>;
}

/**
 * Waits until the server's pipeline has caught up: its delivery queues hold nothing visible or in
 * flight and its inbox-row count stays put over two polls (a fan-out still working on a backlog
 * writes rows). Returns the seconds it took; gives up after `limitMs` and returns the time waited.
 */
async function waitForPipeline(api: Api, limitMs = 120_000): Promise<number> {
  const started = performance.now();
  let lastRows = -1;
  let stableSince: number | undefined;
  while (performance.now() - started < limitMs) {
    const ops = (await api.send('GET', '/v1/ops/metrics', undefined)) as OpsSnapshot;
    const queued = Object.values(ops.queues).reduce((n, q) => n + q.visible + q.inFlight, 0);
    const now = performance.now();
    if (queued === 0 && ops.inboxRows.total === lastRows) {
      stableSince ??= now;
      if (now - stableSince >= 500) break;
    } else {
      stableSince = undefined;
    }
    lastRows = ops.inboxRows.total;
    await new Promise((r) => setTimeout(r, 250));
  }
  return Math.round(performance.now() - started) / 1000;
}
