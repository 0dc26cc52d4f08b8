import { seededRandom } from './random.ts';
import type { Scenario } from './scenario.ts';
import { authorId, CELEBRITY_ID, isQuietAuthor, userId } from './users.ts';

/** An Event API body, as an app would POST it. */
export interface DemoEventBody {
  readonly id: string;
  readonly type: string;
  readonly actorId: string;
  readonly objectId: string;
  readonly recipients?: readonly string[];
  readonly occurredAt: number;
}

const EXTRA_TYPES = ['comment', 'like', 'mention'] as const;

/**
 * The demo's events: one post per regular author, the celebrity's posts spread among them, and
 * comments, likes and mentions by authors that also notify one user each. Ids and times derive
 * from the seed and `epoch` alone, so re-posting them is idempotent.
 */
export function demoEvents(s: Scenario, epoch: number): DemoEventBody[] {
  const random = seededRandom(s.seed + 3);
  const plain: Omit<DemoEventBody, 'occurredAt'>[] = [];
  for (let j = 0; j < s.authors; j++) {
    plain.push({
      id: `${s.seed}-post-${authorId(j)}`,
      type: 'post',
      actorId: authorId(j),
      objectId: `p-${authorId(j)}`,
    });
  }
  for (let k = 0; k < s.extraEvents; k++) {
    const type = EXTRA_TYPES[Math.floor(random() * EXTRA_TYPES.length)]!;
    let j = Math.floor(random() * s.authors);
    // Quiet authors post once and nothing more (see users.ts).
    if (isQuietAuthor(j) && s.authors > 1) j = (j + 1) % s.authors;
    const recipient = userId(Math.floor(random() * s.activeUsers));
    plain.push({
      id: `${s.seed}-${type}-${k}`,
      type,
      actorId: authorId(j),
      objectId: `o-${k}`,
      recipients: [recipient],
    });
  }
  const all: Omit<DemoEventBody, 'occurredAt'>[] = [];
  const every = Math.max(1, Math.floor(plain.length / (s.celebrityPosts + 1)));
  let posted = 0;
  plain.forEach((body, i) => {
    if (i > 0 && i % every === 0 && posted < s.celebrityPosts) {
      all.push(celebrityPost(s, posted++));
    }
    all.push(body);
  });
  while (posted < s.celebrityPosts) all.push(celebrityPost(s, posted++));
  // One second apart, the newest a second before the epoch: inside the Event API's time window.
  return all.map((body, i) => ({ ...body, occurredAt: epoch - (all.length - i) * 1000 }));
}

function celebrityPost(s: Scenario, n: number): Omit<DemoEventBody, 'occurredAt'> {
  return { id: `${s.seed}-celebrity-post-${n}`, type: 'post', actorId: CELEBRITY_ID, objectId: `c-${n}` };
}
