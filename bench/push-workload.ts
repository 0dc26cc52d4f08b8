import type { DemoBackend } from '../src/cli/demo/backend.ts';
import { ErrorCode, FanoutError } from '../src/domain/errors.ts';
import type { FollowEdge, Preferences } from '../src/domain/types.ts';
import { ingestEvents } from '../src/handlers/ingest.ts';
import type { DeviceRegistration } from '../src/ports/devices.ts';
import { auditTotals } from '../src/runtime/embedded-stats.ts';
import type { CostMeter } from '../src/runtime/local-aws/cost-meter.ts';
import type { LambdaMeter } from '../src/runtime/local-aws/lambda-meter.ts';
import type { Pipeline } from '../src/runtime/pipeline.ts';
import type { ModeRun } from './aws-cost-report.ts';

/**
 * The push workload: what a hosted push service bills for, a push sent. Authors post once each to
 * followers who all have one push device, push consent, no quiet hours and no email address; on
 * top, likes and comments (half each) from one of those users to another, each notifying one
 * user. Every delivery job but the comments' email jobs (suppressed: no email consent) ends in a
 * push sent, unlike the demo's mix (emails, inbox-only rows, users without a device, quiet hours).
 */
export interface PushWorkload {
  /** Authors who post once each. */
  readonly authors: number;
  readonly followersPerAuthor: number;
  /** Users the followers are drawn from, round-robin: each follows several authors. */
  readonly users: number;
  /** Likes and comments, one recipient each. */
  readonly singleRecipientEvents: number;
}

/** Its sizes, beside the aws-cost benchmark's. */
export const PUSH_WORKLOADS = {
  small: { authors: 40, followersPerAuthor: 100, users: 1000, singleRecipientEvents: 400 },
  tiny: { authors: 8, followersPerAuthor: 40, users: 160, singleRecipientEvents: 40 },
} as const satisfies Record<string, PushWorkload>;

/** The workload's own tenant, so its totals are read apart from the demo's. */
export const PUSH_WORKLOAD_TENANT = 'pushload';

/** What the workload needs of a finished cost run whose pipeline still runs. */
export interface PushWorkloadContext {
  readonly backend: DemoBackend;
  readonly pipeline: Pipeline;
  readonly meter: CostMeter;
  readonly lambda: LambdaMeter;
}

const user = (i: number) => `w${i}`;
const author = (j: number) => `wa${j}`;

/**
 * Seeds the workload's tenant with both meters off, then posts its events (live: no occurredAt)
 * and measures them until the pipeline is drained. The code is warm (the demo ran before), so the
 * usage is its own warm usage.
 */
export async function runPushWorkload(ctx: PushWorkloadContext, w: PushWorkload): Promise<ModeRun> {
  const { ports } = ctx.backend;
  const tenantId = PUSH_WORKLOAD_TENANT;
  ctx.meter.enabled = false;
  ctx.lambda.enabled = false;
  const at = ports.clock.now();
  // An API key nobody knows, as the demo's tenant has: the workload posts in-process.
  await ports.tenants.create(tenantId, 'f'.repeat(64), at).catch((err: unknown) => {
    if (!(err instanceof FanoutError && err.code === ErrorCode.Conflict)) throw err;
  });
  const edges: FollowEdge[] = [];
  for (let j = 0; j < w.authors; j++) {
    for (let k = 0; k < w.followersPerAuthor; k++) {
      edges.push({
        tenantId,
        authorId: author(j),
        followerId: user((j * w.followersPerAuthor + k) % w.users),
      });
    }
  }
  await ports.graph.follow(edges);
  const prefs: Preferences[] = [];
  const devices: DeviceRegistration[] = [];
  for (let i = 0; i < w.users; i++) {
    const userId = user(i);
    prefs.push({
      tenantId,
      userId,
      timezone: 'UTC',
      consent: { push: true },
      channels: {},
      categories: {},
      updatedAt: at,
    });
    devices.push({
      tenantId,
      userId,
      // Zero-padded: padding with a hex digit made 0xa and 0xaa (and 0x1 and 0xa1) one token, so a
      // later user took an earlier one's device.
      token: (i + 1).toString(16).padStart(64, '0'),
      platform: 'apns',
      registeredAt: at,
    });
  }
  await ports.preferences.putMany(prefs);
  await ports.devices.registerMany(devices);
  // The preference stream's invalidations of the seeding run now, not inside the measured span.
  await ctx.pipeline.drained();
  const bodies: Record<string, unknown>[] = [];
  for (let j = 0; j < w.authors; j++) {
    bodies.push({ id: `push-post-${j}`, type: 'post', actorId: author(j), objectId: `wp-${j}` });
  }
  for (let k = 0; k < w.singleRecipientEvents; k++) {
    bodies.push({
      id: `push-single-${k}`,
      type: k % 2 === 0 ? 'like' : 'comment',
      actorId: user(k % w.users),
      objectId: `wo-${k}`,
      recipients: [user((k + 1) % w.users)],
    });
  }
  const before = (await ctx.backend.storeCounts(tenantId)).inboxRows;
  ctx.meter.reset();
  ctx.lambda.reset();
  ctx.meter.enabled = true;
  ctx.lambda.enabled = true;
  await ingestEvents(tenantId, bodies, ports);
  await ctx.pipeline.drained();
  ctx.meter.enabled = false;
  ctx.lambda.enabled = false;
  const counts = ctx.meter.counts();
  const functions = ctx.lambda.usage();
  const rows = (await ctx.backend.storeCounts(tenantId)).inboxRows - before;
  const audit = await auditTotals(ctx.backend.auditEntries(), tenantId);
  return {
    summary: {
      events: bodies.length,
      inboxRows: rows,
      push: audit.channels.push,
      email: audit.channels.email,
      auditRecords: audit.channels.push.jobs + audit.channels.email.jobs,
    },
    live: { counts, rows },
    pipeline: counts,
    functions,
    warmFunctions: functions,
    reads: { requests: {}, writeUnits: {}, readUnits: {}, modelled: {} },
    readers: 0,
  };
}
