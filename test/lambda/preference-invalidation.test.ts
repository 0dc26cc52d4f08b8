import type { DynamoDBRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { StoreUnavailableError } from '../../src/domain/errors.ts';
import type { UserKey } from '../../src/domain/types.ts';
import { FunctionKind } from '../../src/lambda/env.ts';
import { createPreferenceInvalidationHandler } from '../../src/lambda/preference-invalidation.ts';
import type { PreferenceCache } from '../../src/ports/preferences.ts';
import { consenting } from '../support/world.ts';
import {
  captureOutput,
  fixture,
  harnessesClosedAfterEach,
  type LambdaHarness,
  lambdaContext,
  metricValues,
  type TestPorts,
} from './support.ts';

const USERS = ['alice', 'bob', 'carol', 'dave'] as const;
const user = (userId: string): UserKey => ({ tenantId: 'acme', userId });

const harness = harnessesClosedAfterEach();

/** A harness whose cache holds every fixture user's preferences. */
async function warmHarness(adjust?: (ports: TestPorts) => TestPorts): Promise<LambdaHarness> {
  const h = harness(FunctionKind.PreferenceInvalidation, adjust === undefined ? {} : { adjust });
  const ports = await h.ports();
  for (const id of USERS) await ports.preferenceCache.set(user(id), consenting(user(id)));
  return h;
}

async function cached(h: LambdaHarness): Promise<string[]> {
  const ports = await h.ports();
  const present: string[] = [];
  for (const id of USERS) if ((await ports.preferenceCache.get(user(id))) !== undefined) present.push(id);
  return present;
}

/** A cache that cannot drop the entries of the users `fails` picks. */
function failingFor(cache: PreferenceCache, fails: (userId: string) => boolean): PreferenceCache {
  return {
    get: (u) => cache.get(u),
    set: (u, p) => cache.set(u, p),
    async invalidate(users) {
      if (users.some((u) => fails(u.userId))) throw new StoreUnavailableError('cache node failing over');
      await cache.invalidate(users);
    },
  };
}

describe('preference invalidation Lambda (DynamoDB Streams → EventBridge Pipe)', () => {
  it('takes the Pipe’s bare array and drops every user’s cache entry, TTL deletions included', async () => {
    // Prepare
    const h = await warmHarness();
    const records = fixture<DynamoDBRecord[]>('pipe-dynamodb-preferences.json');
    const handler = createPreferenceInvalidationHandler(h.deps);
    // Act
    const { result, lines } = await captureOutput(() =>
      handler(records, lambdaContext('fanout-preference-invalidation')),
    );
    // Assess
    expect(records.map((r) => r.eventName)).toEqual(['INSERT', 'MODIFY', 'REMOVE', 'REMOVE']);
    expect(records[3]!.userIdentity).toEqual({ type: 'Service', principalId: 'dynamodb.amazonaws.com' });
    expect(result).toEqual({ batchItemFailures: [] });
    expect(await cached(h)).toEqual([]);
    expect(metricValues(lines)).toMatchObject({ PreferencesInvalidated: 4, BatchItemFailures: 0 });
  });

  it('reports a failed record to the Pipe by its eventID', async () => {
    // Prepare
    const h = await warmHarness((ports) => ({
      ...ports,
      preferenceCache: failingFor(ports.preferenceCache, (id) => id === 'carol'),
    }));
    const records = fixture<DynamoDBRecord[]>('pipe-dynamodb-preferences.json');
    const handler = createPreferenceInvalidationHandler(h.deps);
    // Act
    const { result, lines } = await captureOutput(() =>
      handler(records, lambdaContext('fanout-preference-invalidation')),
    );
    // Assess
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: records[2]!.eventID }] });
    expect(await cached(h)).toEqual(['carol']);
    expect(metricValues(lines)).toMatchObject({ PreferencesInvalidated: 3, BatchItemFailures: 1 });
  });

  it('takes {Records} from an event-source mapping too, reporting failures by SequenceNumber', async () => {
    // Prepare
    const h = await warmHarness((ports) => ({
      ...ports,
      preferenceCache: failingFor(ports.preferenceCache, (id) => id === 'bob'),
    }));
    const records = fixture<DynamoDBRecord[]>('pipe-dynamodb-preferences.json');
    const handler = createPreferenceInvalidationHandler(h.deps);
    // Act
    const { result } = await captureOutput(() =>
      handler({ Records: records }, lambdaContext('fanout-preference-invalidation')),
    );
    // Assess
    expect(result).toEqual({ batchItemFailures: [{ itemIdentifier: records[1]!.dynamodb!.SequenceNumber }] });
    expect(await cached(h)).toEqual(['bob']);
  });

  it('reports every record when the whole batch fails, rather than throwing', async () => {
    // Prepare
    const h = await warmHarness((ports) => ({
      ...ports,
      preferenceCache: failingFor(ports.preferenceCache, () => true),
    }));
    const records = fixture<DynamoDBRecord[]>('pipe-dynamodb-preferences.json');
    const handler = createPreferenceInvalidationHandler(h.deps);
    // Act
    const { result } = await captureOutput(() =>
      handler(records, lambdaContext('fanout-preference-invalidation')),
    );
    // Assess
    expect(result.batchItemFailures.map((f) => f.itemIdentifier)).toEqual(records.map((r) => r.eventID));
  });

  it('refuses an event that is neither an array nor {Records}', async () => {
    // Prepare
    const h = await warmHarness();
    const handler = createPreferenceInvalidationHandler(h.deps);
    // Act
    const invocation = captureOutput(() =>
      handler({} as unknown as DynamoDBRecord[], lambdaContext('fanout-preference-invalidation')),
    );
    // Assess
    await expect(invocation).rejects.toThrow(/array of records \(Pipe\) or \{Records\}/);
  });
});
