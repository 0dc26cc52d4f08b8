import type { DemoEventBody } from './events.ts';
import type { Scenario } from './scenario.ts';
import { demoUser, userId } from './users.ts';

/** One in this many likes is posted twice, the same body (an app's retry): counted once. */
const RESEND_EVERY = 100;
/** One in this many likers likes again with a new event (a double tap): counted once. */
const RELIKE_EVERY = 200;
/** Likes of the storm are this far apart, so 100,000 of them span under 17 minutes. */
const LIKE_SPACING_MS = 10;

/** The post the storm likes, and its owner. */
export interface ViralTarget {
  readonly ownerId: string;
  readonly objectId: string;
}

/**
 * The viral post's owner: the first active user with push consent, a device, no quiet hours and
 * social pushes on, so the summary shows what reached a phone. The same for the same seed.
 */
export function viralTarget(s: Scenario, at: number): ViralTarget {
  for (let i = 0; i < s.activeUsers; i++) {
    const { prefs, devices } = demoUser(s.tenantId, s.seed, i, at);
    const pushable =
      prefs?.consent.push === true &&
      prefs.quietHours === undefined &&
      prefs.categories.social?.push !== false &&
      devices.length > 0;
    if (pushable) return { ownerId: userId(i), objectId: `viral-${userId(i)}` };
  }
  return { ownerId: userId(0), objectId: `viral-${userId(0)}` };
}

/** The id of the storm's liker `j`: a user of their own, with no followers, devices or preferences. */
export const likerId = (j: number): string => `liker${j}`;

/**
 * A like storm on one post: `s.viralLikes` distinct likers, each naming the post's owner, plus an
 * exact re-send of one like in 100 and a second like (a new event) by one liker in 200. Every like
 * has the owner as its only recipient (the likers follow nobody and nobody follows them), so the
 * owner should end with one aggregated item whose actor count is exactly `viralLikes`. The likes
 * end just before `epoch`, 10 ms apart, after the scenario's other events.
 */
export function viralEvents(s: Scenario, epoch: number, target: ViralTarget): DemoEventBody[] {
  const likes = s.viralLikes ?? 0;
  const out: DemoEventBody[] = [];
  const total = likes + Math.floor(likes / RELIKE_EVERY);
  let n = 0;
  const at = () => epoch - (total - n++) * LIKE_SPACING_MS;
  for (let j = 0; j < likes; j++) {
    const like: DemoEventBody = {
      id: `${s.seed}-viral-like-${j}`,
      type: 'like',
      actorId: likerId(j),
      objectId: target.objectId,
      recipients: [target.ownerId],
      occurredAt: at(),
    };
    out.push(like);
    if (j % RESEND_EVERY === RESEND_EVERY - 1) out.push(like);
    if (j % RELIKE_EVERY === RELIKE_EVERY - 1)
      out.push({ ...like, id: `${s.seed}-viral-relike-${j}`, occurredAt: at() });
  }
  return out;
}
