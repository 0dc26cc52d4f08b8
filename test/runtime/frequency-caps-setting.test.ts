import { describe, expect, it } from 'vitest';
import { FunctionKind, readLambdaEnv } from '../../src/lambda/env.ts';
import { SettingsError } from '../../src/lib/settings.ts';
import { readRuntimeConfig } from '../../src/runtime/config.ts';
import { FIXTURE_ENV } from '../lambda/support.ts';

const DOC =
  '{"default": {"push": {"limit": 10, "windowSeconds": 3600}}, "tenants": {"acme": {"categories": {"social": {"limit": 2, "windowSeconds": 600}}}}}';

describe('FANOUT_FREQUENCY_CAPS', () => {
  it('reads the same document in both modes, and no caps when unset', () => {
    // Act
    const embedded = readRuntimeConfig({ FANOUT_FREQUENCY_CAPS: DOC }).frequencyCaps;
    const lambda = readLambdaEnv(
      { ...FIXTURE_ENV, FANOUT_FREQUENCY_CAPS: DOC },
      FunctionKind.PushConsumer,
    ).frequencyCaps;
    const unset = readRuntimeConfig({ FANOUT_FREQUENCY_CAPS: ' ' }).frequencyCaps;
    // Assess
    expect(embedded).toEqual({
      default: { push: { limit: 10, windowSeconds: 3600 } },
      tenants: { acme: { categories: { social: { limit: 2, windowSeconds: 600 } } } },
    });
    expect(lambda).toEqual(embedded);
    expect(unset).toEqual({});
  });

  it('keeps the Lambda counters on MemoryDB unless FANOUT_FREQUENCY_CAPS_STORE says dynamodb', () => {
    // Act
    const read = (store?: string) =>
      readLambdaEnv(
        { ...FIXTURE_ENV, ...(store === undefined ? {} : { FANOUT_FREQUENCY_CAPS_STORE: store }) },
        FunctionKind.PushConsumer,
      ).frequencyCapStore;
    // Assess
    expect([read(), read('memorydb'), read('dynamodb')]).toEqual(['memorydb', 'memorydb', 'dynamodb']);
    expect(() => read('redis')).toThrow(/FANOUT_FREQUENCY_CAPS_STORE/);
  });

  it('names the variable and every bad field of a bad document', () => {
    // Prepare
    const bad =
      '{"default": {"push": {"limit": 0, "windowSeconds": 3600}}, "tenants": {"acme": {"categories": {"critical": {"limit": 1, "windowSeconds": 60}}}}}';
    // Act
    const error = (() => {
      try {
        readRuntimeConfig({ FANOUT_FREQUENCY_CAPS: bad });
      } catch (err) {
        return err;
      }
    })();
    // Assess
    expect(error).toBeInstanceOf(SettingsError);
    expect((error as SettingsError).issues).toEqual([
      {
        variable: 'FANOUT_FREQUENCY_CAPS',
        message: 'frequencyCaps.default.push.limit: must be an integer from 1 to 1000',
      },
      {
        variable: 'FANOUT_FREQUENCY_CAPS',
        message: 'frequencyCaps.tenants.acme.categories.critical: critical pushes are never capped',
      },
    ]);
    expect(() => readRuntimeConfig({ FANOUT_FREQUENCY_CAPS: 'not json' })).toThrow(
      /FANOUT_FREQUENCY_CAPS frequencyCaps: must be JSON/,
    );
  });
});
