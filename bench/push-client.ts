import { getHeapStatistics } from 'node:v8';
import type { PushMessage } from '../src/ports/transports.ts';
import {
  benchMessage,
  inWindow,
  PushClient,
  type PushClientJob,
  type PushClientResult,
  type PushTarget,
} from './push-load.ts';

/**
 * One APNs client in its own process, so that its peak RSS and heap are its alone: started by
 * bench/push.ts with an IPC channel, it receives one {@link PushClientJob}, loads only the client
 * it names, sends a warm-up then the measured pass against the parent's fake APNs, and answers a
 * {@link PushClientResult}.
 */

type Outcome = 'delivered' | 'dead' | 'retryLater' | 'lost';

interface Sender {
  send(message: PushMessage): Promise<Outcome>;
  close(): Promise<void>;
}

const MiB = 1024 * 1024;

async function ours(target: PushTarget, connections: number): Promise<Sender> {
  const { ApnsTransport } = await import('../src/adapters/push/apns/apns-transport.ts');
  const { TransportRetryableError } = await import('../src/domain/errors.ts');
  const transport = new ApnsTransport({
    signingKey: target.signingKey,
    keyId: target.keyId,
    teamId: target.teamId,
    topic: target.topic,
    origin: target.origin,
    ca: target.ca,
    connections,
  });
  return {
    async send(message) {
      try {
        const result = await transport.send(message);
        if (result.status === 'sent') return 'delivered';
        return result.deactivateDevice ? 'dead' : 'lost';
      } catch (err) {
        return err instanceof TransportRetryableError ? 'retryLater' : 'lost';
      }
    },
    close: () => transport.close(),
  };
}

async function nodeApn(target: PushTarget): Promise<Sender> {
  const { default: apn } = await import('@parse/node-apn');
  const provider = new apn.Provider({
    token: { key: target.signingKey, keyId: target.keyId, teamId: target.teamId },
    production: false,
    address: '127.0.0.1',
    port: target.port,
    ca: [target.ca],
    rejectUnauthorized: true,
  });
  return {
    async send(m) {
      // The same request our transport makes: payload, priority, expiration, collapse id and apns-id.
      const note = new apn.Notification();
      note.alert = { title: m.title, body: m.body };
      note.threadId = m.category;
      note.aps.category = m.category;
      note.payload = { ...m.data };
      note.priority = m.category === 'mention' || m.category === 'critical' ? 10 : 5;
      note.expiry = Math.ceil((m.expiresAt ?? Date.now() + 86_400_000) / 1000);
      note.collapseId = m.collapseId;
      note.id = m.messageId;
      note.topic = target.topic;
      note.pushType = 'alert';
      const { sent, failed } = await provider.send(note, m.token);
      if (sent.length === 1) return 'delivered';
      // node-apn hands every failure back in `failed`; a caller tells a dead token by its status.
      return failed[0]?.status === 410 || failed[0]?.response?.reason === 'BadDeviceToken' ? 'dead' : 'lost';
    },
    async close() {
      await new Promise<void>((resolve) => provider.shutdown(() => resolve()));
    },
  };
}

async function sendAll(
  sender: Sender,
  runId: string,
  count: number,
  window: number,
): Promise<PushClientResult> {
  const counts: Record<Outcome, number> = { delivered: 0, dead: 0, retryLater: 0, lost: 0 };
  const now = Date.now();
  await inWindow(count, window, async (i) => {
    counts[await sender.send(benchMessage(runId, i, now))]++;
  });
  return {
    client: PushClient.Ours,
    ms: 0,
    cpuMs: 0,
    delivered: counts.delivered,
    deadReported: counts.dead,
    retryLater: counts.retryLater,
    lost: counts.lost,
    peakRssMiB: 0,
    loadedRssMiB: 0,
    peakHeapMiB: 0,
    retainedHeapMiB: 0,
    node: process.version,
  };
}

async function run(job: PushClientJob): Promise<PushClientResult> {
  const sender =
    job.client === PushClient.Ours ? await ours(job.target, job.connections) : await nodeApn(job.target);
  const loadedRssMiB = process.memoryUsage.rss() / MiB;
  try {
    await sendAll(sender, `${job.runId}-warmup`, job.warmup, job.window);
    let peakHeap = getHeapStatistics().used_heap_size;
    const sampler = setInterval(() => {
      peakHeap = Math.max(peakHeap, getHeapStatistics().used_heap_size);
    }, 20);
    const cpuBefore = process.cpuUsage();
    const start = performance.now();
    const pass = await sendAll(sender, job.runId, job.notifications, job.window);
    const ms = performance.now() - start;
    const cpu = process.cpuUsage(cpuBefore);
    clearInterval(sampler);
    peakHeap = Math.max(peakHeap, getHeapStatistics().used_heap_size);
    // What the client still holds once the pass is over (the parent starts this process with --expose-gc).
    globalThis.gc?.();
    const retainedHeap = getHeapStatistics().used_heap_size;
    return {
      ...pass,
      client: job.client,
      ms,
      cpuMs: (cpu.user + cpu.system) / 1000,
      // maxRSS is in KiB.
      peakRssMiB: process.resourceUsage().maxRSS / 1024,
      loadedRssMiB,
      peakHeapMiB: peakHeap / MiB,
      retainedHeapMiB: retainedHeap / MiB,
    };
  } finally {
    await sender.close();
  }
}

// `on`, not `once`: the IPC channel keeps this process alive only while it has a listener, and a
// client's close() may wait on connections that no longer hold the event loop open.
process.on('message', (job: PushClientJob) => {
  run(job).then(
    (result) => process.send?.({ ok: true, result }, () => process.disconnect()),
    (err: unknown) =>
      process.send?.({ ok: false, error: err instanceof Error ? err.message : String(err) }, () =>
        process.disconnect(),
      ),
  );
});
