import { describe, expect, it } from 'vitest';
import { readRuntimeConfig } from '../../src/runtime/config.ts';
import { issuesOf } from '../support/validation.ts';

/** The delivery settings' variables (FANOUT_APNS_*, FANOUT_FCM_*, FANOUT_SMTP_URL, …) of readRuntimeConfig. */

const KEY_FILE = '/etc/fanout/AuthKey_ABC123DEFG.p8';
const APNS_ENV = {
  FANOUT_APNS_KEY_FILE: KEY_FILE,
  FANOUT_APNS_KEY_ID: 'ABC123DEFG',
  FANOUT_APNS_TEAM_ID: 'DEF123GHIJ',
  FANOUT_APNS_TOPIC: 'com.example.app',
};

describe('readRuntimeConfig: delivery settings', () => {
  it('reads none without the variables, and treats empty ones as unset', () => {
    // Prepare, Act
    const none = readRuntimeConfig({}).delivery;
    const empty = readRuntimeConfig({ FANOUT_APNS_KEY_FILE: '', FANOUT_SMTP_URL: '' }).delivery;
    // Assess
    expect(none).toEqual({});
    expect(empty).toEqual({});
  });

  it('reads the APNs variables into one provider, production by default', () => {
    // Prepare, Act
    const { delivery } = readRuntimeConfig({ ...APNS_ENV, FANOUT_APNS_ORIGIN: 'https://gw.example:8443' });
    // Assess
    expect(delivery.apns).toEqual({
      keyFile: KEY_FILE,
      keyId: 'ABC123DEFG',
      teamId: 'DEF123GHIJ',
      topic: 'com.example.app',
      environment: 'production',
      origin: 'https://gw.example:8443',
    });
  });

  it('names each missing variable of a partial APNs set', () => {
    // Prepare
    const partial = { FANOUT_APNS_KEY_FILE: KEY_FILE, FANOUT_APNS_TOPIC: 'com.example.app' };
    // Act
    const issues = issuesOf(() => readRuntimeConfig(partial));
    const environmentOnly = issuesOf(() => readRuntimeConfig({ FANOUT_APNS_ENVIRONMENT: 'sandbox' }));
    const originOnly = issuesOf(() => readRuntimeConfig({ FANOUT_APNS_ORIGIN: 'https://gw.example' }));
    // Assess
    expect(issues).toEqual([
      { path: 'FANOUT_APNS_KEY_ID', message: 'must be set with the other FANOUT_APNS_* variables' },
      { path: 'FANOUT_APNS_TEAM_ID', message: 'must be set with the other FANOUT_APNS_* variables' },
    ]);
    expect(environmentOnly.map((i) => i.path)).toEqual([
      'FANOUT_APNS_KEY_FILE',
      'FANOUT_APNS_KEY_ID',
      'FANOUT_APNS_TEAM_ID',
      'FANOUT_APNS_TOPIC',
    ]);
    expect(originOnly).toHaveLength(4);
  });

  it('wants a From address with an SMTP server, and an smtp URL that does not leak its password', () => {
    // Prepare
    const noFrom = { FANOUT_SMTP_URL: 'smtp://user:SENTINEL-PASSWORD@smtp.example:587' };
    const badUrl = {
      FANOUT_SMTP_URL: 'https://user:SENTINEL-PASSWORD@smtp.example',
      FANOUT_EMAIL_FROM: 'a@b.c',
    };
    // Act
    const missing = issuesOf(() => readRuntimeConfig(noFrom));
    const bad = issuesOf(() => readRuntimeConfig(badUrl));
    // Assess
    expect(missing).toEqual([{ path: 'FANOUT_EMAIL_FROM', message: 'must be set with FANOUT_SMTP_URL' }]);
    expect(bad).toEqual([{ path: 'FANOUT_SMTP_URL', message: 'must be an smtp:// or smtps:// URL' }]);
    expect(JSON.stringify([missing, bad])).not.toContain('SENTINEL-PASSWORD');
  });

  it('refuses bad URLs: public base URL, provider origins, and an FCM origin without its account', () => {
    // Prepare
    const env = {
      ...APNS_ENV,
      FANOUT_PUBLIC_BASE_URL: 'ftp://fanout.example',
      FANOUT_APNS_ORIGIN: 'http://127.0.0.1:4431',
      FANOUT_FCM_ORIGIN: 'https://fcm.gw/v1',
    };
    // Act
    const issues = issuesOf(() => readRuntimeConfig(env));
    const notAUrl = issuesOf(() => readRuntimeConfig({ FANOUT_PUBLIC_BASE_URL: 'fanout.example' }));
    // Assess
    expect(issues).toEqual([
      { path: 'FANOUT_APNS_ORIGIN', message: 'must be an https:// origin (no path)' },
      { path: 'FANOUT_FCM_ORIGIN', message: 'must be an https:// origin (no path)' },
      { path: 'FANOUT_FCM_SERVICE_ACCOUNT_FILE', message: 'must be set with FANOUT_FCM_ORIGIN' },
      { path: 'FANOUT_PUBLIC_BASE_URL', message: 'must be an http(s) URL' },
    ]);
    expect(notAUrl).toEqual([{ path: 'FANOUT_PUBLIC_BASE_URL', message: 'must be an http(s) URL' }]);
  });
});
