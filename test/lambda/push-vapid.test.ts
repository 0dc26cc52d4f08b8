import { describe, expect, it } from 'vitest';
import { generateVapidKeyPair } from '../../src/adapters/push/webpush/vapid.ts';
import { loadPushProviders } from '../../src/runtime/push/lambda.ts';
import { env } from './push-support.ts';

describe('Lambda push: the Web Push VAPID secret', () => {
  it('reads FANOUT_VAPID_SECRET_ID at cold start as the default webpush provider', async () => {
    // Prepare
    const keys = { ...generateVapidKeyPair(), subject: 'mailto:ops@example.com' };
    const e = env({ FANOUT_VAPID_SECRET_ID: 'fanout/webpush-vapid' });
    const asked: string[] = [];
    // Act
    const providers = await loadPushProviders(e, async (id) => {
      asked.push(id);
      return JSON.stringify(keys);
    });
    // Assess
    expect(asked).toEqual(['fanout/webpush-vapid']);
    expect(providers.default.webpush).toEqual({ provider: 'webpush', ...keys });
  });

  it('refuses a secret that holds no JSON object, naming the secret and not its text', async () => {
    // Prepare
    const e = env({ FANOUT_VAPID_SECRET_ID: 'fanout/webpush-vapid' });
    // Act
    const loading = loadPushProviders(e, async () => 'not json, private-key-text');
    // Assess
    await expect(loading).rejects.toThrow('secret fanout/webpush-vapid must hold JSON');
    await expect(loading).rejects.not.toThrow('private-key-text');
  });
});
