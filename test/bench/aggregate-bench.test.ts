import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';

describe('npm run bench -- aggregate --json at a tiny size', () => {
  it('prints likes aggregated per second and write units per like, each with its goal', () => {
    // Act: as a user types it, sized down by its settings
    const run = spawnSync('npm', ['run', '--silent', 'bench', '--', 'aggregate', '--json'], {
      encoding: 'utf8',
      env: { ...process.env, BENCH_AGGREGATE_LIKES: '400', BENCH_AGGREGATE_AWS_LIKES: '40' },
      timeout: 240_000,
    });
    // Assess
    expect(run.status, run.stderr).toBe(0);
    const json = JSON.parse(run.stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
    expect(json.name).toBe('aggregate');
    for (const figure of ['likesAggregatedPerSec', 'awsWriteUnitsPerLike', 'awsInboxWriteUnitsPerLike']) {
      expect(typeof json[figure] === 'number' && (json[figure] as number) > 0, figure).toBe(true);
    }
    expect(json.settings).toMatchObject({ likes: 400, embeddedEvents: 406, awsLikes: 40, awsEvents: 40 });
    const goals = json.goals as { figure: string; op: string; value: number; met: boolean }[];
    expect(goals).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ figure: 'likesAggregatedPerSec', op: '>=', value: 20_000 }),
        expect.objectContaining({ figure: 'awsWriteUnitsPerLike', op: '<=', value: 2 }),
        expect.objectContaining({ figure: 'ownerPushesMaxPerWindow', op: '<=', value: 1 }),
        expect.objectContaining({ figure: 'awsOwnerPushesMaxPerWindow', op: '<=', value: 1 }),
        expect.objectContaining({ figure: 'awsOwnerPushCollapseIds', op: '==', value: 1 }),
      ]),
    );
    // Exactness goals hold at any size; the speed goal is a full-size, machine-alone figure.
    expect(goals.filter((g) => g.figure !== 'likesAggregatedPerSec' && !g.met)).toEqual([]);
  }, 300_000);
});
