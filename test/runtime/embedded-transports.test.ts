import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { generateApnsKey } from '../../fakes/fake-apns.ts';
import { generateServiceAccount } from '../../fakes/fake-fcm-account.ts';
import { ApnsTransport } from '../../src/adapters/push/apns/apns-transport.ts';
import { FcmTransport } from '../../src/adapters/push/fcm/fcm-transport.ts';
import { generateVapidKeyPair, type VapidKeys } from '../../src/adapters/push/webpush/vapid.ts';
import { WebPushTransport } from '../../src/adapters/push/webpush/webpush-transport.ts';
import { SmtpEmailTransport } from '../../src/adapters/smtp/smtp-email.ts';
import { ValidationError } from '../../src/domain/errors.ts';
import { silentLogger } from '../../src/ports/logger.ts';
import type { EmailTransport, PushTransport } from '../../src/ports/transports.ts';
import { readRuntimeConfig } from '../../src/runtime/config.ts';
import { type EmbeddedTransports, openEmbeddedTransports } from '../../src/runtime/push/embedded.ts';
import { issuesOf } from '../support/validation.ts';

const dir = mkdtempSync(join(tmpdir(), 'fanout-transports-'));
const apnsKey = generateApnsKey().privateKeyPem;
const account = generateServiceAccount('https://127.0.0.1:9');
const KEY_FILE = join(dir, 'AuthKey_ABC123DEFG.p8');
const ACCOUNT_FILE = join(dir, 'service-account.json');
writeFileSync(KEY_FILE, apnsKey);
writeFileSync(ACCOUNT_FILE, account.json);

/** The four variables of the default APNs provider. */
const APNS_ENV = {
  FANOUT_APNS_KEY_FILE: KEY_FILE,
  FANOUT_APNS_KEY_ID: 'ABC123DEFG',
  FANOUT_APNS_TEAM_ID: 'DEF123GHIJ',
  FANOUT_APNS_TOPIC: 'com.example.app',
};

const pushSink: PushTransport = { send: async () => ({ status: 'sent' }) };
const emailSink: EmailTransport = { send: async () => ({ status: 'sent' }) };

const opened: EmbeddedTransports[] = [];
afterEach(async () => {
  await Promise.all(opened.splice(0).map((t) => t.close()));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The transports of an environment, as `openEmbeddedPorts` opens them (closed after the test). */
function open(env: Record<string, string>, vapid?: VapidKeys): EmbeddedTransports {
  const transports = openEmbeddedTransports({
    settings: readRuntimeConfig(env).delivery,
    pushSink,
    emailSink,
    logger: silentLogger,
    ...(vapid === undefined ? {} : { vapid }),
  });
  opened.push(transports);
  return transports;
}

/** A file in the temp dir. */
function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

describe('openEmbeddedTransports', () => {
  it('sends everything to the recording sinks when nothing is configured', () => {
    // Prepare, Act
    const t = open({});
    // Assess
    expect(t.push.route('acme', 'apns')).toBe(pushSink);
    expect(t.push.route('acme', 'fcm')).toBe(pushSink);
    expect(t.email).toBe(emailSink);
    expect(t.summary).toEqual({
      apns: 'record',
      fcm: 'record',
      webpush: 'record',
      email: 'record',
      tenants: 0,
    });
  });

  it('pushes iOS through APNs with the variables alone, and keeps recording Android', () => {
    // Prepare, Act
    const t = open({ ...APNS_ENV, FANOUT_APNS_ENVIRONMENT: 'sandbox' });
    const apns = t.push.route('anyone', 'apns');
    // Assess
    expect(apns).toBeInstanceOf(ApnsTransport);
    expect((apns as ApnsTransport).origin).toBe('https://api.sandbox.push.apple.com');
    expect(t.push.route('anyone', 'fcm')).toBe(pushSink);
    expect(t.summary).toEqual({
      apns: 'apns',
      fcm: 'record',
      webpush: 'record',
      email: 'record',
      tenants: 0,
    });
  });

  it('takes another origin for APNs and an FCM service account from their variables', () => {
    // Prepare, Act
    const t = open({
      ...APNS_ENV,
      FANOUT_APNS_ORIGIN: 'https://127.0.0.1:4431',
      FANOUT_FCM_SERVICE_ACCOUNT_FILE: ACCOUNT_FILE,
      FANOUT_FCM_ORIGIN: 'https://127.0.0.1:4432',
    });
    // Assess
    expect((t.push.route('anyone', 'apns') as ApnsTransport).origin).toBe('https://127.0.0.1:4431');
    expect(t.push.route('anyone', 'fcm')).toBeInstanceOf(FcmTransport);
    expect(t.summary).toMatchObject({ apns: 'apns', fcm: 'fcm' });
  });

  it('gives tenants of a providers file their own providers, with key files beside the document', () => {
    // Prepare
    mkdirSync(join(dir, 'tenants'), { recursive: true });
    file('tenants/acme.p8', apnsKey);
    const doc = {
      default: { fcm: { provider: 'record' } },
      tenants: {
        acme: {
          apns: {
            provider: 'apns',
            keyId: 'ACME123456',
            teamId: 'ACME654321',
            topic: 'com.acme.app',
            signingKeyFile: 'tenants/acme.p8',
          },
        },
      },
    };
    const providers = file('providers.json', JSON.stringify(doc));
    // Act
    const t = open({ ...APNS_ENV, FANOUT_PUSH_PROVIDERS_FILE: providers });
    // Assess
    const own = t.push.route('acme', 'apns');
    const shared = t.push.route('globex', 'apns');
    expect(own).toBeInstanceOf(ApnsTransport);
    expect(shared).toBeInstanceOf(ApnsTransport);
    expect(own).not.toBe(shared);
    expect(t.push.route('acme', 'fcm')).toBe(pushSink);
    expect(t.summary).toEqual({
      apns: 'apns',
      fcm: 'record',
      webpush: 'record',
      email: 'record',
      tenants: 1,
    });
  });

  it("reads the variables' key file from the working directory, not from the document's", () => {
    // Prepare
    const elsewhere = mkdtempSync(join(dir, 'conf-'));
    const providers = join(elsewhere, 'providers.json');
    writeFileSync(providers, JSON.stringify({ tenants: {} }));
    // Act
    const t = open({
      ...APNS_ENV,
      FANOUT_APNS_KEY_FILE: relative(process.cwd(), KEY_FILE),
      FANOUT_PUSH_PROVIDERS_FILE: providers,
    });
    // Assess
    expect(t.push.route('anyone', 'apns')).toBeInstanceOf(ApnsTransport);
  });

  it('refuses a platform configured both by the variables and by the file', () => {
    // Prepare
    const doc = { default: { apns: { provider: 'record' }, fcm: { provider: 'record' } } };
    const providers = file('both.json', JSON.stringify(doc));
    const env = { ...APNS_ENV, FANOUT_PUSH_PROVIDERS_FILE: providers };
    // Act
    const issues = issuesOf(() => open(env));
    // Assess
    expect(issues).toEqual([
      {
        path: 'FANOUT_PUSH_PROVIDERS_FILE default.apns',
        message: 'is also set by FANOUT_APNS_* variables: keep one',
      },
    ]);
  });

  it('refuses a providers file it cannot read, or that holds no JSON object, without quoting it', () => {
    // Prepare
    const cases = {
      [join(dir, 'missing.json')]: 'cannot be read (ENOENT)',
      [file('broken.json', '{"default": SENTINEL-KEY-TEXT')]: 'is not valid JSON',
      [file('null.json', 'null')]: 'must hold a JSON object {default?, tenants?}',
      [file('list.json', '["SENTINEL-KEY-TEXT"]')]: 'must hold a JSON object {default?, tenants?}',
    };
    for (const [path, message] of Object.entries(cases)) {
      // Act: with and without a variable's provider merged into the document
      for (const env of [{}, APNS_ENV]) {
        const issues = issuesOf(() => open({ ...env, FANOUT_PUSH_PROVIDERS_FILE: path }));
        // Assess
        expect(issues).toEqual([{ path: 'FANOUT_PUSH_PROVIDERS_FILE', message }]);
      }
    }
  });

  it('reports a document whose default is no object by its path, also beside the variables', () => {
    // Prepare
    const providers = file('default-list.json', JSON.stringify({ default: ['apns'] }));
    // Act
    const issues = issuesOf(() => open({ ...APNS_ENV, FANOUT_PUSH_PROVIDERS_FILE: providers }));
    // Assess
    expect(issues.map((i) => i.path)).toEqual(['default']);
  });

  it('reports a missing or unusable key file by the variable that names it, never with the key', () => {
    // Prepare
    const notAKey = file('not-a-key.p8', 'SENTINEL-KEY-TEXT');
    // Act
    const missing = issuesOf(() => open({ ...APNS_ENV, FANOUT_APNS_KEY_FILE: join(dir, 'nope.p8') }));
    const unusable = (() => {
      try {
        open({ ...APNS_ENV, FANOUT_APNS_KEY_FILE: notAKey });
      } catch (err) {
        return err as Error;
      }
      throw new Error('expected an error');
    })();
    // Assess
    expect(missing).toEqual([{ path: 'FANOUT_APNS_KEY_FILE', message: 'cannot be read (ENOENT)' }]);
    expect(unusable).toBeInstanceOf(ValidationError);
    expect((unusable as ValidationError).issues.map((i) => i.path)).toEqual(['FANOUT_APNS_KEY_FILE']);
    expect(unusable.message).not.toContain('SENTINEL-KEY-TEXT');
  });

  it('refuses an APNs environment the variables name wrongly', () => {
    // Prepare, Act
    const issues = issuesOf(() => open({ ...APNS_ENV, FANOUT_APNS_ENVIRONMENT: 'staging' }));
    // Assess
    expect(issues).toEqual([
      { path: 'FANOUT_APNS_ENVIRONMENT', message: "must be 'production' or 'sandbox'" },
    ]);
  });

  it('mails through SMTP when a server and a From address are configured', () => {
    // Prepare, Act
    const t = open({ FANOUT_SMTP_URL: 'smtp://127.0.0.1:2525', FANOUT_EMAIL_FROM: 'demo@fanout.example' });
    // Assess
    expect(t.email).toBeInstanceOf(SmtpEmailTransport);
    expect(t.summary.email).toBe('smtp');
    expect(t.push.route('anyone', 'apns')).toBe(pushSink);
  });

  it('names the variable when the SMTP transport refuses its settings, never the password', () => {
    // Prepare, Act
    const issues = issuesOf(() =>
      open({
        FANOUT_SMTP_URL: 'smtp://user:SENTINEL-PASS@127.0.0.1:2525/extra',
        FANOUT_EMAIL_FROM: 'demo@fanout.example',
      }),
    );
    // Assess
    expect(issues.map((i) => i.path)).toEqual(['FANOUT_SMTP_URL']);
    expect(JSON.stringify(issues)).not.toContain('SENTINEL-PASS');
  });

  describe('web push', () => {
    const dataDir: VapidKeys = { ...generateVapidKeyPair(), subject: 'mailto:webpush@fanout.invalid' };
    const variables = generateVapidKeyPair();

    it("pushes with the data dir's generated keys when nothing else names any", () => {
      // Prepare, Act
      const t = open({}, dataDir);
      // Assess
      expect(t.push.route('acme', 'webpush')).toBeInstanceOf(WebPushTransport);
      expect(t.summary.webpush).toBe('webpush');
      expect(t.webPushPublicKey('acme')).toBe(dataDir.publicKey);
    });

    it('takes the FANOUT_VAPID_* keys and subject over the data dir keys', () => {
      // Prepare, Act
      const t = open(
        {
          FANOUT_VAPID_PUBLIC_KEY: variables.publicKey,
          FANOUT_VAPID_PRIVATE_KEY: variables.privateKey,
          FANOUT_VAPID_SUBJECT: 'https://example.com/contact',
        },
        undefined,
      );
      // Assess
      expect(t.webPushPublicKey('acme')).toBe(variables.publicKey);
    });

    it('names the variable when the FANOUT_VAPID_* keys do not belong together, never a key', () => {
      // Prepare
      const other = generateVapidKeyPair();
      // Act
      const opening = () =>
        open({ FANOUT_VAPID_PUBLIC_KEY: other.publicKey, FANOUT_VAPID_PRIVATE_KEY: variables.privateKey });
      // Assess
      expect(issuesOf(opening)).toEqual([
        { path: 'FANOUT_VAPID_PUBLIC_KEY', message: 'is not the public key of privateKey' },
      ]);
      expect(opening).not.toThrow(variables.privateKey);
    });

    it("lets a providers file's web push provider, and a tenant's own, win over the data dir keys", () => {
      // Prepare
      const acme = generateVapidKeyPair();
      const providers = file(
        'providers-webpush.json',
        JSON.stringify({
          default: { webpush: { provider: 'record' } },
          tenants: {
            acme: { webpush: { provider: 'webpush', ...acme, subject: 'mailto:ops@acme.example' } },
          },
        }),
      );
      // Act
      const t = open({ FANOUT_PUSH_PROVIDERS_FILE: providers }, dataDir);
      // Assess
      expect(t.webPushPublicKey('acme')).toBe(acme.publicKey);
      expect(t.webPushPublicKey('other')).toBeUndefined();
      expect(t.push.route('other', 'webpush')).toBe(pushSink);
    });
  });
});
