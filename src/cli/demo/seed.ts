import { createHash, randomBytes } from 'node:crypto';
import { ErrorCode, FanoutError } from '../../domain/errors.ts';
import type { FollowEdge, Preferences } from '../../domain/types.ts';
import type { DeviceRegistration } from '../../ports/devices.ts';
import type { Ports } from '../../ports/ports.ts';
import type { Reporter } from '../progress.ts';
import { pareto, seededRandom } from './random.ts';
import type { Scenario } from './scenario.ts';
import type { DemoState } from './state.ts';
import {
  authorId,
  badTokenUser,
  badUserCount,
  badUserId,
  CELEBRITY_ID,
  type DemoUser,
  demoUser,
  isQuietAuthor,
  passiveId,
  userId,
} from './users.ts';

/** Edges per `follow` call: bounded memory with a million-follower celebrity. */
const EDGE_CHUNK = 50_000;
/** Users per preferences / devices call. */
const USER_CHUNK = 5_000;

export interface SeedContext {
  readonly ports: Pick<Ports, 'graph' | 'preferences' | 'devices' | 'tenants'>;
  readonly state: DemoState;
  readonly reporter: Reporter;
  readonly signal: AbortSignal;
  /** Epoch ms stamped on registrations and preferences. */
  readonly at: number;
}

/**
 * Seeds the demo tenant: the celebrity's followers, regular authors' power-law audiences, users'
 * preferences and devices. Every write is an idempotent upsert and every finished step is marked
 * in the data dir, so a restarted run skips what is done and redoes a step cut off by a crash.
 */
export async function seedDemo(s: Scenario, ctx: SeedContext): Promise<void> {
  await ctx.state.once('seed:tenant', () => seedTenant(s, ctx));
  await ctx.state.once('seed:celebrity-followers', () => seedCelebrityFollowers(s, ctx));
  await ctx.state.once('seed:author-followers', () => seedAuthorFollowers(s, ctx));
  await ctx.state.once('seed:users', () => seedUsers(s, ctx));
}

async function seedTenant(s: Scenario, ctx: SeedContext): Promise<void> {
  // The demo tenant gets an API key nobody knows: the demo posts in-process, not over HTTP.
  const unusableKeyHash = createHash('sha256').update(randomBytes(32)).digest('hex');
  try {
    await ctx.ports.tenants.create(s.tenantId, unusableKeyHash, ctx.at);
  } catch (err) {
    if (!(err instanceof FanoutError && err.code === ErrorCode.Conflict)) throw err;
  }
}

async function seedCelebrityFollowers(s: Scenario, ctx: SeedContext): Promise<void> {
  ctx.reporter.phase('seed-celebrity');
  const bar = ctx.reporter.bar('celebrity followers', s.celebrityFollowers);
  const alertEvery = Math.max(
    1,
    Math.floor(s.activeUsers / Math.max(1, s.alertShare * s.celebrityFollowers)),
  );
  for (let from = 0; from < s.celebrityFollowers; from += EDGE_CHUNK) {
    ctx.signal.throwIfAborted();
    const to = Math.min(s.celebrityFollowers, from + EDGE_CHUNK);
    const edges: FollowEdge[] = [];
    for (let i = from; i < to; i++) {
      const active = i < s.activeUsers;
      edges.push({
        tenantId: s.tenantId,
        authorId: CELEBRITY_ID,
        followerId: active ? userId(i) : passiveId(i),
        ...(active && i % alertEvery === 0 ? { alerts: true } : {}),
      });
    }
    await ctx.ports.graph.follow(edges);
    bar.update(to);
  }
  bar.end();
}

async function seedAuthorFollowers(s: Scenario, ctx: SeedContext): Promise<void> {
  ctx.reporter.phase('seed-authors');
  const bar = ctx.reporter.bar('regular authors', s.authors);
  const random = seededRandom(s.seed + 1);
  // Power law below the celebrity line: most authors have a handful of followers, a few thousands.
  const cap = Math.max(1, Math.min(s.activeUsers, 8000));
  let edges: FollowEdge[] = [];
  const flush = async () => {
    if (edges.length === 0) return;
    await ctx.ports.graph.follow(edges);
    edges = [];
  };
  for (let j = 0; j < s.authors; j++) {
    ctx.signal.throwIfAborted();
    const count = pareto(random, 3, 1.3, cap);
    const followers = new Set<number>();
    while (followers.size < count) followers.add(Math.floor(random() * s.activeUsers));
    for (const i of followers)
      edges.push({ tenantId: s.tenantId, authorId: authorId(j), followerId: userId(i) });
    if (edges.length >= EDGE_CHUNK) await flush();
    bar.update(j + 1);
  }
  const quiet = quietAuthors(s.authors);
  for (let i = 0; i < badUserCount(s.activeUsers); i++) {
    const author = quiet[i % quiet.length]!;
    edges.push({ tenantId: s.tenantId, authorId: authorId(author), followerId: badUserId(i) });
  }
  await flush();
  bar.end();
}

/** Indexes of the quiet authors (at least author 0). */
export function quietAuthors(authors: number): number[] {
  const quiet: number[] = [];
  for (let j = 0; j < authors; j++) if (isQuietAuthor(j)) quiet.push(j);
  return quiet;
}

async function seedUsers(s: Scenario, ctx: SeedContext): Promise<void> {
  ctx.reporter.phase('seed-users');
  const bad = badUserCount(s.activeUsers);
  const total = s.activeUsers + bad;
  const bar = ctx.reporter.bar('users', total);
  const userAt = (n: number): DemoUser =>
    n < s.activeUsers
      ? demoUser(s.tenantId, s.seed, n, ctx.at)
      : badTokenUser(s.tenantId, s.seed, n - s.activeUsers, ctx.at);
  for (let from = 0; from < total; from += USER_CHUNK) {
    ctx.signal.throwIfAborted();
    const to = Math.min(total, from + USER_CHUNK);
    const prefs: Preferences[] = [];
    const devices: DeviceRegistration[] = [];
    for (let n = from; n < to; n++) {
      const user = userAt(n);
      if (user.prefs) prefs.push(user.prefs);
      devices.push(...user.devices);
    }
    await ctx.ports.preferences.putMany(prefs);
    await ctx.ports.devices.registerMany(devices);
    bar.update(to);
  }
  bar.end();
}
