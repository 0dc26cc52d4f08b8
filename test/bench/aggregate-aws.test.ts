import { describe, expect, it } from 'vitest';
import { awsDigestStorm } from '../../bench/aggregate-aws.ts';
import { emulatorEndpoints } from '../support/aws.ts';

// The aggregate benchmark's aws storm at a small size: the full size (100,000 likers) runs with
// `npm run bench -- aggregate --aws-likes=100000`, and takes DynamoDB Local 10 to 30 minutes.
describe('the aggregate benchmark through the aws adapters (small)', () => {
  it('leaves the owner of 1,000 likes, re-sends and repeats ONE unread item of 1,000 actors, one push a window', async () => {
    // Act: batches of 100 likes, 100 s of clock each (some 17 minutes)
    const figures = await awsDigestStorm({
      likes: 1_000,
      batchSize: 100,
      msPerBatch: 100_000,
      redisUrl: emulatorEndpoints().redis,
      dynamodbEndpoint: emulatorEndpoints().dynamodb,
    });
    // Assess
    expect(figures.events).toBe(1_015);
    expect([figures.items, figures.actorCount, figures.unread]).toEqual([1, 1_000, 1]);
    expect(figures.maxPerWindow).toBe(1);
    expect(figures.pushes).toBeGreaterThan(1);
    expect(figures.pushes).toBeLessThanOrEqual(figures.windows);
    expect(figures.collapseIds).toBe(1);
    expect(figures.inboxWcu).toBeGreaterThan(0);
  }, 300_000);
});
