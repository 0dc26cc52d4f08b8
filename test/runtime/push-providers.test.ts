import { describe, expect, it } from 'vitest';
import { parsePushProviders } from '../../src/runtime/push/providers.ts';
import { ACCOUNT_JSON, ARN, apns, files, KEY_PEM, LAMBDA, options } from './push-providers-support.ts';

describe('parsePushProviders: valid documents', () => {
  it('reads key files relative to the document, and absolute ones as they are', () => {
    // Prepare
    const fs = files({
      '/etc/fanout/keys/AuthKey.p8': KEY_PEM,
      '/secrets/service-account.json': ACCOUNT_JSON,
    });
    const doc = {
      default: {
        apns: apns({ signingKey: undefined, signingKeyFile: 'keys/AuthKey.p8', environment: 'sandbox' }),
        fcm: { provider: 'fcm', serviceAccountFile: '/secrets/service-account.json' },
      },
    };
    // Act
    const config = parsePushProviders(JSON.parse(JSON.stringify(doc)), {
      ...options(),
      baseDir: '/etc/fanout',
      readText: fs.readText,
    });
    // Assess
    expect(fs.read).toEqual(['/etc/fanout/keys/AuthKey.p8', '/secrets/service-account.json']);
    expect(config).toEqual({
      default: {
        apns: {
          provider: 'apns',
          keyId: 'ABC123DEFG',
          teamId: 'DEF123GHIJ',
          topic: 'com.example.app',
          environment: 'sandbox',
          signingKey: KEY_PEM,
        },
        fcm: { provider: 'fcm', serviceAccount: ACCOUNT_JSON },
      },
      tenants: {},
    });
  });

  it('reads a relative file name as given when the document has no directory', () => {
    // Prepare
    const fs = files({ 'AuthKey.p8': KEY_PEM });
    const doc = { default: { apns: apns({ signingKey: undefined, signingKeyFile: 'AuthKey.p8' }) } };
    // Act
    const config = parsePushProviders(JSON.parse(JSON.stringify(doc)), options({ readText: fs.readText }));
    // Assess
    expect(fs.read).toEqual(['AuthKey.p8']);
    expect(config.default.apns).toMatchObject({ signingKey: KEY_PEM, environment: 'production' });
  });

  it('takes inline credentials, a service account given as an object, and reads no file', () => {
    // Prepare
    const fs = files({});
    const account = JSON.parse(ACCOUNT_JSON) as Record<string, unknown>;
    const doc = { default: { apns: apns(), fcm: { provider: 'fcm', serviceAccount: account } } };
    // Act
    const config = parsePushProviders(doc, options({ allowed: LAMBDA, readText: fs.readText }));
    // Assess
    expect(fs.read).toEqual([]);
    expect(config.default.apns).toMatchObject({ provider: 'apns', signingKey: KEY_PEM });
    expect(config.default.fcm).toEqual({ provider: 'fcm', serviceAccount: JSON.stringify(account) });
  });

  it('keeps per-tenant providers beside the default, and an https origin', () => {
    // Prepare
    const doc = {
      default: { apns: { provider: 'record' }, fcm: { provider: 'record' } },
      tenants: {
        acme: { apns: apns({ origin: 'https://127.0.0.1:4431' }) },
        'beta.co': { fcm: { provider: 'fcm', serviceAccount: ACCOUNT_JSON, origin: 'https://fcm.gw:8443' } },
      },
    };
    // Act
    const config = parsePushProviders(doc, options());
    // Assess
    expect(config.default).toEqual({ apns: { provider: 'record' }, fcm: { provider: 'record' } });
    expect(Object.keys(config.tenants)).toEqual(['acme', 'beta.co']);
    expect(config.tenants.acme?.apns).toMatchObject({ provider: 'apns', origin: 'https://127.0.0.1:4431' });
    expect(config.tenants.acme?.fcm).toBeUndefined();
    expect(config.tenants['beta.co']?.fcm).toEqual({
      provider: 'fcm',
      serviceAccount: ACCOUNT_JSON,
      origin: 'https://fcm.gw:8443',
    });
  });

  it('takes SNS platform applications where the mode allows them', () => {
    // Prepare
    const doc = {
      default: { fcm: { provider: 'sns', applicationArn: 'arn:aws:sns:eu-west-1:123456789012:app/GCM/app' } },
      tenants: { acme: { apns: { provider: 'sns', applicationArn: ARN } } },
    };
    // Act
    const config = parsePushProviders(doc, options({ allowed: LAMBDA }));
    // Assess
    expect(config.tenants.acme?.apns).toEqual({ provider: 'sns', applicationArn: ARN });
    expect(config.default.fcm?.provider).toBe('sns');
  });

  it('reads an empty document as no providers at all', () => {
    // Prepare, Act
    const config = parsePushProviders({}, options());
    // Assess
    expect(config).toEqual({ default: {}, tenants: {} });
  });
});
