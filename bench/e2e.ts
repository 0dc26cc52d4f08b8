import { Agent } from 'node:http';
import { join } from 'node:path';
import { sleep } from '../src/lib/sleep.ts';
import { follow, PacedLoad, pushReady } from './e2e-load.ts';
import { DataDirObserver, type ObservedPost } from './e2e-observer.ts';
import { Api, cpuSeconds, peakRssMiB, type Server, sendJson, startServer } from './serve-process.ts';
import { type BenchReport, percentile, withTempDir } from './support.ts';

/** Sizes of one end-to-end benchmark run. */
export interface E2eBenchOptions {
  /** Followers of the measured author, each with a push device and push consent. @default 9_999 */
  readonly followers?: number;
  /** Measured posts of that author. @default 20 */
  readonly posts?: number;
  /** Time between two posts, ms. @default 2000 */
  readonly postIntervalMs?: number;
  /** Background events per second, of ordinary authors, for the whole run. @default 1000 */
  readonly backgroundRate?: number;
  /** Ordinary authors the background events cycle through. @default 1000 */
  readonly authors?: number;
  /** Followers of each ordinary author, drawn from a pool of as many readers as there are authors. @default 3 */
  readonly followersPerAuthor?: number;
  /** Background load before the first post, ms. @default 3000 */
  readonly warmupMs?: number;
  /** How long after the last post its deliveries are waited for, ms. @default 60_000 */
  readonly drainTimeoutMs?: number;
}

/**
 * `--tiny` (and the smoke test): a 50-follower author posting three times over 50 background
 * events/s, in seconds. The drain timeout is a hang guard only: the run stops waiting as soon as
 * every post is complete.
 */
export const TINY_E2E: E2eBenchOptions = {
  followers: 50,
  posts: 3,
  postIntervalMs: 300,
  backgroundRate: 50,
  authors: 10,
  warmupMs: 200,
  drainTimeoutMs: 120_000,
};

/** The tenant `fanout serve` creates on first start, whose key it prints. */
const TENANT = 'dev';
const AUTHOR = 'star';
/** The server's celebrity threshold, set for the run rather than inherited. */
const CELEBRITY_THRESHOLD = 10_000;
/** Background requests in flight at most (at 1,000/s and a few ms each, a handful are). */
const MAX_IN_FLIGHT = 256;
/** Concurrent seeding requests. */
const SEED_CONCURRENCY = 32;
/** Pause between two polls of the data file. */
const POLL_MS = 10;

/**
 * The time from a post's 202 to the last of its followers' pushes recorded, and to the last of
 * their inbox rows written, for an author of 9,999 followers posting every 2 s while ordinary
 * authors' events arrive at a steady 1,000/s. `fanout serve` runs in its own process as the README
 * starts it (embedded profile, SQLite WAL file, no APNs credentials: pushes go to the recording
 * sink); the benchmark talks to it over HTTP only and reads its data file read-only.
 */
export async function e2eBench(opts: E2eBenchOptions = {}): Promise<BenchReport> {
  const followers = opts.followers ?? 9_999;
  const posts = opts.posts ?? 20;
  const postIntervalMs = opts.postIntervalMs ?? 2000;
  const backgroundRate = opts.backgroundRate ?? 1000;
  const authors = opts.authors ?? 1000;
  const followersPerAuthor = opts.followersPerAuthor ?? 3;
  const warmupMs = opts.warmupMs ?? 3000;
  const drainTimeoutMs = opts.drainTimeoutMs ?? 60_000;
  if (followers >= CELEBRITY_THRESHOLD) {
    throw new RangeError(`${followers} followers would make the author a celebrity (fan-out on read)`);
  }

  return withTempDir('e2e', async (dir) => {
    const server = await startServer(dir, { FANOUT_CELEBRITY_THRESHOLD: String(CELEBRITY_THRESHOLD) });
    const fans = Array.from({ length: followers }, (_, i) => `fan-${String(i).padStart(6, '0')}`);
    const observer = new DataDirObserver({
      dbPath: join(dir, 'fanout.db'),
      tenantId: TENANT,
      followers: fans,
    });
    const api = new Api(server.url, server.apiKey);
    // The posts' own connections: never queued behind the background load's.
    const postAgent = new Agent({ keepAlive: true });
    try {
      const seedStart = performance.now();
      // Ordinary author j is followed by readers j, j+1, … (mod the pool): a few followers each.
      // Readers are push-ready too, so the background is real delivery work (about 3,000 sends a
      // second beside the post's), not jobs that stop at a consent check; the observer tells the
      // post's sends apart by their followers' ids.
      const readerEdges = Array.from({ length: authors * followersPerAuthor }, (_, k) => ({
        userId: `author-${Math.floor(k / followersPerAuthor)}`,
        followerId: `reader-${(Math.floor(k / followersPerAuthor) + (k % followersPerAuthor)) % authors}`,
      }));
      await follow(api, [...fans.map((f) => ({ userId: AUTHOR, followerId: f })), ...readerEdges], 2);
      const readers = Array.from({ length: authors }, (_, i) => `reader-${i}`);
      await pushReady(api, [...fans, ...readers], SEED_CONCURRENCY);
      const seedSeconds = (performance.now() - seedStart) / 1000;

      const load = new PacedLoad({
        url: server.url,
        apiKey: server.apiKey,
        rate: backgroundRate,
        maxInFlight: MAX_IN_FLIGHT,
        body: (i) => ({ id: `bg-${i}`, type: 'post', actorId: `author-${i % authors}` }),
      });
      // CPU of each side while the load runs: on a shared machine, what the server got of it.
      const serverCpuBefore = cpuSeconds(server.pid);
      const clientCpuBefore = process.cpuUsage();
      const loadStart = performance.now();
      load.start();
      await sleep(warmupMs);

      const sent: ObservedPost[] = [];
      let postsRefused = 0;
      let allSent = false;
      let deadline = Number.POSITIVE_INFINITY;
      const polling = (async () => {
        while (!(allSent && observer.complete()) && Date.now() < deadline) {
          await observer.pollOnce();
          await sleep(POLL_MS);
        }
      })();
      // On the clock, whether or not the previous post was answered yet: a slow 202 does not delay
      // the next post.
      const firstAt = performance.now();
      const posting: Promise<void>[] = [];
      for (let k = 0; k < posts; k++) {
        await sleep(firstAt + k * postIntervalMs - performance.now());
        posting.push(
          sendPost(postAgent, server, `${AUTHOR}-post-${k}`).then((post) => {
            if (post === undefined) postsRefused++;
            else {
              sent.push(post);
              observer.track(post);
            }
          }),
        );
      }
      await Promise.all(posting);
      deadline = Date.now() + drainTimeoutMs;
      allSent = true;
      await polling;
      observer.recount();
      const observedUntil = Date.now();
      const background = await load.stop();
      const loadSeconds = (performance.now() - loadStart) / 1000;
      const serverCpuAfter = cpuSeconds(server.pid);
      const clientCpu = process.cpuUsage(clientCpuBefore);
      const cores = (seconds: number) => Math.round((seconds / loadSeconds) * 100) / 100;
      // The high-water mark of resident memory over seeding, load and deliveries, before it stops.
      const serverPeakRss = peakRssMiB(server.pid);

      const progress = observer.progress();
      const pushMs: number[] = [];
      const inboxMs: number[] = [];
      let inboxResolutionMs = 0;
      let pushResends = 0;
      let postsWithEveryPush = 0;
      let postsWithEveryInboxRow = 0;
      // A post not complete when the observation stopped counts with the time it had waited by then:
      // leaving it out would flatter the percentiles exactly when deliveries fall behind.
      progress.forEach((p, i) => {
        const acceptedAt = sent[i]!.acceptedAt;
        pushResends += p.pushSends - p.pushes;
        if (p.pushes >= followers && p.lastPushAt !== undefined) {
          postsWithEveryPush++;
          pushMs.push(p.lastPushAt - acceptedAt);
        } else pushMs.push(observedUntil - acceptedAt);
        if (p.inboxRows >= followers && p.lastInboxAt !== undefined) {
          postsWithEveryInboxRow++;
          inboxMs.push(p.lastInboxAt - acceptedAt);
          inboxResolutionMs = Math.max(inboxResolutionMs, p.lastInboxAt - (p.lastInboxMissAt ?? acceptedAt));
        } else inboxMs.push(observedUntil - acceptedAt);
      });
      pushMs.sort((a, b) => a - b);
      inboxMs.sort((a, b) => a - b);
      const spread = (name: string, values: readonly number[]) =>
        values.length === 0
          ? {}
          : {
              [`${name}P50Ms`]: percentile(values, 50),
              [`${name}P99Ms`]: percentile(values, 99),
              [`${name}MaxMs`]: values.at(-1)!,
            };
      return {
        name: 'e2e',
        figures: {
          ...spread('lastPush', pushMs),
          ...spread('lastInboxRow', inboxMs),
          backgroundEventsPerSec: background.achievedRate,
          ...(serverPeakRss === undefined ? {} : { serverPeakRssMiB: serverPeakRss }),
        },
        settings: {
          followers,
          posts,
          postIntervalMs,
          postsAccepted: sent.length,
          postsRefused,
          // occurredAt is stamped just before the request goes out.
          postAcceptMaxMs: Math.max(0, ...sent.map((p) => p.acceptedAt - p.occurredAt)),
          postsWithEveryPush,
          postsWithEveryInboxRow,
          pushResends,
          backgroundTargetPerSec: backgroundRate,
          backgroundRequests: background.issued,
          backgroundNon2xx: background.non2xx,
          backgroundErrors: background.errors,
          backgroundBehindSchedule: background.behind,
          ordinaryAuthors: authors,
          followersPerOrdinaryAuthor: followersPerAuthor,
          celebrityThreshold: CELEBRITY_THRESHOLD,
          authorTier: `regular (${followers} < ${CELEBRITY_THRESHOLD}: one inbox row and one push job per follower)`,
          inboxPollResolutionMs: inboxResolutionMs,
          inboxPollPasses: observer.polls,
          longestInboxPollPassMs: observer.maxPollMs,
          seedSeconds: Math.round(seedSeconds * 10) / 10,
          loadSeconds: Math.round(loadSeconds * 10) / 10,
          ...(serverCpuBefore === undefined || serverCpuAfter === undefined
            ? {}
            : { serverCpuCores: cores(serverCpuAfter - serverCpuBefore) }),
          clientCpuCores: cores((clientCpu.user + clientCpu.system) / 1e6),
          server: 'fanout serve (embedded, SQLite WAL file, recording push sink), own process, loopback',
        },
        goals: [{ figure: 'lastPushP99Ms', op: '<', value: 2000 }],
        notes: [
          "t0 is the post's 202 at the client. lastPush*: to the latest first-recording time the push sink",
          `stored (its own clock, per message id) among the ${followers.toLocaleString('en-US')} pushes of the post; the poll period does`,
          'not enter it. lastInboxRow*: to the poll that found the last missing inbox row (rows carry the',
          "event's time, not their write time), late by at most inboxPollResolutionMs.",
          `p99 of ${posts} posts is their maximum (nearest rank). A post not complete ${drainTimeoutMs / 1000} s after the last`,
          'one counts with the time it had waited then: with postsWithEvery* below postsAccepted, the figures',
          'are lower bounds.',
          'serverPeakRssMiB: VmHWM of the server process (Linux only), read before it stops. serverCpuCores and',
          'clientCpuCores: CPU seconds per second of load of the server (all its threads) and of this process;',
          'on a shared machine a server well under its cores was starved by other work.',
        ],
      };
    } finally {
      observer.close();
      api.close();
      postAgent.destroy();
      await server.stop();
    }
  });
}

/** Posts one event of the measured author; its acceptance time, or undefined when it was refused. */
async function sendPost(agent: Agent, server: Server, eventId: string): Promise<ObservedPost | undefined> {
  // The post's own time: its notification ids, inbox rows and push message ids all carry it.
  const occurredAt = Date.now();
  try {
    const { status } = await sendJson(
      agent,
      `${server.url}/v1/events`,
      'POST',
      { authorization: `Bearer ${server.apiKey}` },
      { id: eventId, type: 'post', actorId: AUTHOR, occurredAt },
    );
    const acceptedAt = Date.now();
    return status === 202 ? { eventId, occurredAt, acceptedAt } : undefined;
  } catch {
    return undefined;
  }
}
