import { describe, expect, it } from 'vitest';
import { parsePushProviders } from '../../src/runtime/push/providers.ts';
import {
  ACCOUNT_JSON,
  ARN,
  apns,
  files,
  issuesOf,
  KEY_PEM,
  LAMBDA,
  options,
  paths,
} from './push-providers-support.ts';

describe('parsePushProviders: every problem by its path, never with a credential', () => {
  it('refuses a document that is not an object', () => {
    // Prepare
    const docs: unknown[] = [null, [], 'apns', 42, undefined];
    // Act
    const issues = docs.map((doc) => issuesOf(() => parsePushProviders(doc, options())));
    // Assess
    for (const list of issues) expect(paths(list)).toEqual(['']);
  });

  it('refuses sections and providers that are not objects', () => {
    // Prepare
    const doc = { default: { apns: 'apns', fcm: [] }, tenants: { acme: 'x' } };
    // Act
    const issues = issuesOf(() => parsePushProviders(doc, options()));
    // Assess
    expect(paths(issues)).toEqual(['default.apns', 'default.fcm', 'tenants.acme']);
    expect(paths(issuesOf(() => parsePushProviders({ default: [] }, options())))).toEqual(['default']);
    expect(paths(issuesOf(() => parsePushProviders({ tenants: [] }, options())))).toEqual(['tenants']);
  });

  it('refuses a provider the platform cannot use, and one the mode cannot build', () => {
    // Prepare
    const doc = {
      default: { apns: { provider: 'fcm', serviceAccount: ACCOUNT_JSON }, fcm: { provider: 'pigeon' } },
      tenants: { acme: { apns: { provider: 'sns', applicationArn: ARN } } },
    };
    // Act
    const embedded = issuesOf(() => parsePushProviders(doc, options()));
    const lambda = issuesOf(() =>
      parsePushProviders({ default: { apns: { provider: 'record' } } }, options({ allowed: LAMBDA })),
    );
    // Assess
    expect(embedded).toEqual([
      { path: 'default.apns.provider', message: 'must be one of apns, sns, record' },
      { path: 'default.fcm.provider', message: 'must be one of fcm, sns, record' },
      { path: 'tenants.acme.apns.provider', message: '"sns" is not available in this mode' },
    ]);
    expect(lambda).toEqual([
      { path: 'default.apns.provider', message: '"record" is not available in this mode' },
    ]);
  });

  it('wants exactly one of the inline credential and its file', () => {
    // Prepare
    const doc = {
      default: {
        apns: apns({ signingKeyFile: 'AuthKey.p8' }),
        fcm: { provider: 'fcm' },
      },
      tenants: {
        acme: { apns: apns({ signingKey: '' }), fcm: { provider: 'fcm', serviceAccount: 7 } },
        beta: {
          apns: apns({ signingKey: { pem: KEY_PEM } }),
          fcm: { provider: 'fcm', serviceAccountFile: '' },
        },
      },
    };
    const fs = files({ 'AuthKey.p8': KEY_PEM });
    // Act
    const issues = issuesOf(() => parsePushProviders(doc, options({ readText: fs.readText })));
    // Assess
    expect(fs.read).toEqual([]);
    expect(issues).toEqual([
      { path: 'default.apns.signingKey', message: 'give exactly one of "signingKey" and "signingKeyFile"' },
      {
        path: 'default.fcm.serviceAccount',
        message: 'give exactly one of "serviceAccount" and "serviceAccountFile"',
      },
      { path: 'tenants.acme.apns.signingKey', message: 'must be the credential text' },
      { path: 'tenants.acme.fcm.serviceAccount', message: 'must be the credential text' },
      { path: 'tenants.beta.apns.signingKey', message: 'must be the credential text' },
      { path: 'tenants.beta.fcm.serviceAccountFile', message: 'must be a file name' },
    ]);
  });

  it('names an unreadable file by its path and error code, never by what it holds', () => {
    // Prepare
    const readText = (path: string): string => {
      if (path.endsWith('.json')) {
        throw Object.assign(new Error('EACCES SENTINEL-FILE-CONTENT'), { code: 'EACCES' });
      }
      throw new Error('SENTINEL-FILE-CONTENT');
    };
    const doc = {
      default: {
        apns: apns({ signingKey: undefined, signingKeyFile: 'missing.p8' }),
        fcm: { provider: 'fcm', serviceAccountFile: 'locked.json' },
      },
    };
    // Act
    const issues = issuesOf(() => parsePushProviders(doc, options({ baseDir: '/keys', readText })));
    // Assess
    expect(issues).toEqual([
      { path: 'default.apns.signingKeyFile', message: 'cannot be read (error)' },
      { path: 'default.fcm.serviceAccountFile', message: 'cannot be read (EACCES)' },
    ]);
  });

  it('refuses bad key and team ids, topics, environments and origins, without echoing them', () => {
    // Prepare
    const doc = {
      default: {
        apns: apns({
          keyId: 'abc123defg',
          teamId: 'DEF123GHIJK',
          topic: 'not a bundle id',
          environment: 'staging',
          origin: 'http://127.0.0.1:4431',
        }),
        fcm: { provider: 'fcm', serviceAccount: ACCOUNT_JSON, origin: 'https://fcm.gw/v1/projects' },
      },
      tenants: { acme: { apns: apns({ topic: 'nodots', keyId: 12, origin: 42 }) } },
    };
    // Act
    const issues = issuesOf(() => parsePushProviders(doc, options()));
    // Assess
    expect(paths(issues)).toEqual([
      'default.apns.environment',
      'default.apns.keyId',
      'default.apns.teamId',
      'default.apns.topic',
      'default.apns.origin',
      'default.fcm.origin',
      'tenants.acme.apns.keyId',
      'tenants.acme.apns.topic',
      'tenants.acme.apns.origin',
    ]);
    const text = issues.map((i) => i.message).join('\n');
    for (const value of ['abc123defg', 'DEF123GHIJK', 'not a bundle id', 'staging', 'nodots']) {
      expect(text).not.toContain(value);
    }
  });

  it('refuses an SNS application ARN that is not a platform application', () => {
    // Prepare
    const bad = [
      'arn:aws:sns:us-east-2:123456789012:fanout-topic',
      'arn:aws:sns:us-east-2:123456789012:app/ADM/acme',
      'arn:aws:sns:us-east-2:12345:app/APNS/acme',
      '',
    ];
    // Act
    const issues = bad.map((applicationArn) =>
      issuesOf(() =>
        parsePushProviders(
          { default: { apns: { provider: 'sns', applicationArn } } },
          options({ allowed: LAMBDA }),
        ),
      ),
    );
    // Assess
    for (const list of issues) expect(paths(list)).toEqual(['default.apns.applicationArn']);
  });

  it('refuses unknown keys at every level', () => {
    // Prepare
    const doc = {
      defaults: {},
      default: {
        apns: apns({ password: 'hunter2' }),
        web: { provider: 'record' },
        fcm: { provider: 'record', serviceAccount: ACCOUNT_JSON },
      },
      tenants: { acme: { apns: { provider: 'sns', applicationArn: ARN, region: 'us-east-2' } } },
    };
    // Act
    const issues = issuesOf(() => parsePushProviders(doc, options({ allowed: ['apns', 'record', 'sns'] })));
    // Assess
    expect(issues).toEqual([
      { path: 'defaults', message: 'unknown field' },
      { path: 'default.web', message: 'unknown field' },
      { path: 'default.apns.password', message: 'unknown field' },
      { path: 'default.fcm.serviceAccount', message: 'unknown field' },
      { path: 'tenants.acme.apns.region', message: 'unknown field' },
    ]);
  });

  it('refuses tenant ids that could not name a tenant', () => {
    // Prepare
    const doc = { tenants: { 'acme corp': {}, '': {}, ['t'.repeat(300)]: {}, ok: {} } };
    // Act
    const issues = issuesOf(() => parsePushProviders(doc, options()));
    // Assess
    expect(paths(issues)).toEqual(['tenants.acme corp', 'tenants.', `tenants.${'t'.repeat(300)}`]);
    for (const issue of issues) expect(issue.message).toBe('is not a valid tenant id');
  });

  it('reports the problems of every section in one error', () => {
    // Prepare
    const doc = {
      default: { apns: apns({ keyId: 'short' }) },
      tenants: { acme: { fcm: { provider: 'fcm' } }, 'no way': {} },
    };
    // Act
    const issues = issuesOf(() => parsePushProviders(doc, options()));
    // Assess
    expect(paths(issues)).toEqual([
      'default.apns.keyId',
      'tenants.acme.fcm.serviceAccount',
      'tenants.no way',
    ]);
  });
});
