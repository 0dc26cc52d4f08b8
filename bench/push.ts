import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { type FakeApns, generateApnsKey, startFakeApns } from '../fakes/fake-apns.ts';
import { apnsPayload } from '../src/adapters/push/apns/payload.ts';
import {
  benchMessage,
  deviceToken,
  Fault,
  faultOf,
  PushClient,
  type PushClientJob,
  type PushClientResult,
  type PushTarget,
} from './push-load.ts';
import { type BenchReport, median } from './support.ts';

/** Sizes and knobs of one push benchmark run. */
export interface PushBenchOptions {
  /** Notifications per measured pass, one per device token. @default 20_000 */
  readonly notifications?: number;
  /** Sends in flight at once, for every client. @default 1_000 */
  readonly window?: number;
  /** Our transport's HTTP/2 connections. @default 2 (the transport's default) */
  readonly connections?: number;
  /** Clean passes per client; the clients alternate which goes first. @default 5 */
  readonly rounds?: number;
  /** Notifications sent before each measured pass, not measured. @default 2_000 */
  readonly warmup?: number;
  /** A child that has not answered by then is killed and the run fails. @default 300 */
  readonly maxSeconds?: number;
}

const CHILD = fileURLToPath(new URL('./push-client.ts', import.meta.url));
const TEAM = 'BENCHTEAM1';
const KID = 'BENCHKEY01';
const TOPIC = 'com.example.fanout';
const HOUR = 3_600_000;

/** A finished pass: what the child answered, and the CPU the fake APNs server (this process) used. */
interface Pass extends PushClientResult {
  readonly perSec: number;
  /** The client's CPU time per notification, µs: unlike the rate, barely moved by other load on the machine. */
  readonly cpuUs: number;
  readonly serverCpu: number;
}

/**
 * APNs notifications per second and peak memory: our HTTP/2 transport against @parse/node-apn,
 * each in its own child process, one after the other, against the same fake APNs in this process
 * (TLS, HTTP/2, JWT checks as Apple documents them). Same notifications, same window of requests
 * in flight. Then a faults pass per client: 2% of tokens answer 410 Unregistered and 2% answer
 * 429 once, counted as delivered, reported dead, handed back for retry, or lost.
 */
export async function pushBench(opts: PushBenchOptions = {}): Promise<BenchReport> {
  const notifications = opts.notifications ?? 20_000;
  const window = opts.window ?? 1_000;
  const connections = opts.connections ?? 2;
  const rounds = opts.rounds ?? 5;
  const warmup = opts.warmup ?? 2_000;
  const maxSeconds = opts.maxSeconds ?? 300;

  const key = generateApnsKey();
  const fake = await startFakeApns({
    teamId: TEAM,
    keyId: KID,
    publicKeyPem: key.publicKeyPem,
    topic: TOPIC,
    record: false,
  });
  try {
    const target: PushTarget = {
      origin: fake.origin,
      port: Number(new URL(fake.origin).port),
      ca: fake.ca,
      signingKey: key.privateKeyPem,
      keyId: KID,
      teamId: TEAM,
      topic: TOPIC,
    };
    const job = (client: PushClient, runId: string): PushClientJob => ({
      client,
      target,
      runId,
      notifications,
      warmup,
      window,
      connections,
    });

    const clean: Record<PushClient, Pass[]> = { ours: [], 'node-apn': [] };
    for (let round = 0; round < rounds; round++) {
      const order =
        round % 2 === 0 ? [PushClient.Ours, PushClient.NodeApn] : [PushClient.NodeApn, PushClient.Ours];
      for (const client of order)
        clean[client].push(await runChild(job(client, `clean-${round}-${client}`), maxSeconds));
    }
    const faults = {} as Record<PushClient, Pass>;
    for (const client of [PushClient.Ours, PushClient.NodeApn]) {
      const runId = `faults-${client}`;
      scriptFaults(fake, runId, notifications);
      faults[client] = await runChild(job(client, runId), maxSeconds);
    }
    return report({ notifications, window, connections, rounds, warmup }, clean, faults);
  } finally {
    await fake.close();
  }
}

/** Queues the faults pass's replies on the fake: 410 with a timestamp, or 429 once (then 200). */
function scriptFaults(fake: FakeApns, runId: string, notifications: number): void {
  const invalidSince = Date.now() - HOUR;
  for (let i = 0; i < notifications; i++) {
    const fault = faultOf(i);
    if (fault === Fault.Unregistered) {
      fake.script(deviceToken(runId, i), { status: 410, reason: 'Unregistered', timestamp: invalidSince });
    } else if (fault === Fault.ThrottledOnce) {
      fake.script(deviceToken(runId, i), { status: 429, reason: 'TooManyRequests' });
    }
  }
}

/** Runs one child to completion; the server's CPU over the child's life is sampled from this process. */
function runChild(job: PushClientJob, maxSeconds: number): Promise<Pass> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--expose-gc', CHILD], {
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const cpuBefore = process.cpuUsage();
    const wallBefore = performance.now();
    let answer: { ok: true; result: PushClientResult } | { ok: false; error: string } | undefined;
    const timer = setTimeout(() => child.kill('SIGKILL'), maxSeconds * 1000);
    child.on('message', (message: typeof answer) => {
      answer = message;
    });
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      const cpu = process.cpuUsage(cpuBefore);
      const wallMs = performance.now() - wallBefore;
      if (answer === undefined)
        return reject(new Error(`${job.client} child ended (${signal ?? code}) without a result`));
      if (!answer.ok) return reject(new Error(`${job.client} child failed: ${answer.error}`));
      const result = answer.result;
      resolve({
        ...result,
        perSec: (job.notifications / result.ms) * 1000,
        cpuUs: (result.cpuMs * 1000) / job.notifications,
        serverCpu: (cpu.user + cpu.system) / 1000 / wallMs,
      });
    });
    child.send(job);
  });
}

interface Settings {
  readonly notifications: number;
  readonly window: number;
  readonly connections: number;
  readonly rounds: number;
  readonly warmup: number;
}

function report(
  s: Settings,
  clean: Record<PushClient, Pass[]>,
  faults: Record<PushClient, Pass>,
): BenchReport {
  const med = (client: PushClient, pick: (p: Pass) => number) => median(clean[client].map(pick));
  const oursPerSec = med(PushClient.Ours, (p) => p.perSec);
  const nodeApnPerSec = med(PushClient.NodeApn, (p) => p.perSec);
  const oursRss = med(PushClient.Ours, (p) => p.peakRssMiB);
  const nodeApnRss = med(PushClient.NodeApn, (p) => p.peakRssMiB);
  const sample = benchMessage('sample', 1, Date.now());
  const line = (client: PushClient) => {
    const f = faults[client];
    return `  ${client.padEnd(8)} delivered ${f.delivered}, dead tokens reported ${f.deadReported}, handed back for retry ${f.retryLater}, lost ${f.lost} (${Math.round(f.perSec)}/s)`;
  };
  const pct = (n: number) => `${Math.round(n * 100)}%`;
  return {
    name: 'push',
    figures: {
      oursPerSec,
      nodeApnPerSec,
      throughputRatio: oursPerSec / nodeApnPerSec,
      oursPeakRssMiB: oursRss,
      nodeApnPeakRssMiB: nodeApnRss,
      memoryRatio: oursRss / nodeApnRss,
      oursCpuUsPerNotification: med(PushClient.Ours, (p) => p.cpuUs),
      nodeApnCpuUsPerNotification: med(PushClient.NodeApn, (p) => p.cpuUs),
      oursPeakHeapMiB: med(PushClient.Ours, (p) => p.peakHeapMiB),
      nodeApnPeakHeapMiB: med(PushClient.NodeApn, (p) => p.peakHeapMiB),
    },
    settings: {
      node: faults.ours.node,
      notifications: s.notifications,
      window: s.window,
      oursConnections: s.connections,
      nodeApnConnections: 1,
      rounds: s.rounds,
      warmup: s.warmup,
      payloadBytes: Buffer.byteLength(JSON.stringify(apnsPayload(sample))),
      faultsOursDelivered: faults.ours.delivered,
      faultsOursDeadReported: faults.ours.deadReported,
      faultsOursRetryLater: faults.ours.retryLater,
      faultsOursLost: faults.ours.lost,
      faultsNodeApnDelivered: faults['node-apn'].delivered,
      faultsNodeApnDeadReported: faults['node-apn'].deadReported,
      faultsNodeApnLost: faults['node-apn'].lost,
    },
    goals: [{ figure: 'throughputRatio', op: '>=', value: 1 }],
    notes: [
      'Clean passes (rate, client CPU per notification, peak RSS, RSS once loaded, heap retained after GC, fake server CPU):',
      ...[PushClient.Ours, PushClient.NodeApn].flatMap((client) =>
        clean[client].map(
          (p) =>
            `  ${client.padEnd(8)} ${Math.round(p.perSec)}/s, ${p.cpuUs.toFixed(0)} µs, ${p.peakRssMiB.toFixed(1)} MiB, ${p.loadedRssMiB.toFixed(1)} MiB, ${p.retainedHeapMiB.toFixed(1)} MiB, ${pct(p.serverCpu)}`,
        ),
      ),
      `Faults pass (${s.notifications} notifications, 2% 410 Unregistered, 2% 429 once then 200):`,
      line(PushClient.Ours),
      line(PushClient.NodeApn),
      'ours: a 429 is retried in the transport (full-jitter backoff, within its budget) and a 410 comes back as',
      '  rejected with deactivateDevice and invalidSince. node-apn: a 410 comes back in `failed` (the caller',
      '  reads status 410 to deactivate); a 429 is retried by node-apn itself (up to 3 times, on the same connection,',
      "  with no delay: it reads `Retry-After`, which HTTP/2 delivers lower-cased, so the server's value is never seen).",
      'A fake server CPU near 100% means the server, not the client, bounds the rate.',
    ],
  };
}
