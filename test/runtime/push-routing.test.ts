import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../src/domain/errors.ts';
import type { Platform } from '../../src/domain/types.ts';
import type { PushMessage, PushResult, PushTransport } from '../../src/ports/transports.ts';
import type {
  ApnsProviderConfig,
  FcmProviderConfig,
  PushProvidersConfig,
  SnsProviderConfig,
} from '../../src/runtime/push/providers.ts';
import { buildPushRouting, type PushFactories } from '../../src/runtime/push/routing.ts';
import { RoutingPushTransport } from '../../src/runtime/push/routing-transport.ts';

/** A transport that answers `sent` with its own name and counts its sends and closes. */
class NamedTransport implements PushTransport {
  readonly sent: PushMessage[] = [];
  closes = 0;
  readonly name: string;
  constructor(name: string) {
    this.name = name;
  }
  async send(message: PushMessage): Promise<PushResult> {
    this.sent.push(message);
    return { status: 'sent', providerMessageId: this.name };
  }
  async close(): Promise<void> {
    this.closes++;
  }
}

function push(tenantId: string, platform: string): PushMessage {
  return {
    tenantId,
    userId: 'u1',
    token: 'a1'.repeat(32),
    platform: platform as Platform,
    title: 'Ada posted',
    body: 'hello',
    category: 'social',
    collapseId: 'c1',
    messageId: 'm1',
  };
}

const APNS: ApnsProviderConfig = {
  provider: 'apns',
  keyId: 'ABC123DEFG',
  teamId: 'DEF123GHIJ',
  topic: 'com.example.app',
  environment: 'production',
  signingKey: 'pem',
};
const FCM: FcmProviderConfig = { provider: 'fcm', serviceAccount: '{"project_id":"p"}' };
const SNS: SnsProviderConfig = {
  provider: 'sns',
  applicationArn: 'arn:aws:sns:us-east-2:123456789012:app/GCM/x',
};

/** Factories that build NamedTransports and keep every one built, in order. */
function factories(): PushFactories & { built: NamedTransport[]; sink: NamedTransport } {
  const built: NamedTransport[] = [];
  const make = (name: string) => {
    const t = new NamedTransport(`${name}#${built.length}`);
    built.push(t);
    return t;
  };
  const sink = new NamedTransport('sink');
  return {
    built,
    sink,
    apns: (c) => make(`apns:${c.topic}`),
    fcm: () => make('fcm'),
    sns: (_c, platform) => make(`sns:${platform}`),
    record: () => sink,
  };
}

describe('RoutingPushTransport', () => {
  const own = new NamedTransport('acme-apns');
  const apns = new NamedTransport('default-apns');
  const fcm = new NamedTransport('default-fcm');
  const routing = new RoutingPushTransport({
    routes: { apns, fcm },
    tenants: new Map([['acme', { apns: own }]]),
  });

  it("routes a tenant's push to its own transport first, then to the default one", async () => {
    // Prepare: the routing above
    // Act
    const results = await Promise.all([
      routing.send(push('acme', 'apns')),
      routing.send(push('acme', 'fcm')),
      routing.send(push('globex', 'apns')),
    ]);
    // Assess
    expect(results.map((r) => (r.status === 'sent' ? r.providerMessageId : r.reason))).toEqual([
      'acme-apns',
      'default-fcm',
      'default-apns',
    ]);
    expect(routing.route('acme', 'apns')).toBe(own);
    expect(routing.route('acme', 'fcm')).toBe(fcm);
    expect(routing.route('globex', 'apns')).toBe(apns);
  });

  it('rejects a push for a platform without a route for good, keeping the device', async () => {
    // Prepare
    const apnsOnly = new RoutingPushTransport({ routes: { apns } });
    // Act
    const results = await Promise.all([
      apnsOnly.send(push('acme', 'fcm')),
      routing.send(push('acme', 'web')),
      apnsOnly.send(push('acme', 'constructor')),
    ]);
    // Assess
    for (const result of results) {
      expect(result).toEqual({
        status: 'rejected',
        reason: 'platform_not_configured',
        deactivateDevice: false,
      });
    }
    expect(apnsOnly.route('acme', 'fcm')).toBeUndefined();
  });

  it('refuses to be built without routes', () => {
    // Prepare
    const bad = [undefined, {}, { routes: undefined }, { routes: 'apns' }];
    // Act, Assess
    for (const opts of bad) {
      expect(() => new RoutingPushTransport(opts as never)).toThrow(ValidationError);
    }
  });

  it('closes every distinct transport once, and skips those that cannot be closed', async () => {
    // Prepare
    const shared = new NamedTransport('shared');
    const plain: PushTransport = { send: async () => ({ status: 'sent' }) };
    const r = new RoutingPushTransport({
      routes: { apns: shared, fcm: plain },
      tenants: new Map([
        ['acme', { apns: shared, fcm: own }],
        ['globex', { fcm: own }],
      ]),
    });
    // Act
    await r.close();
    // Assess
    expect(shared.closes).toBe(1);
    expect(own.closes).toBe(1);
  });
});

describe('buildPushRouting', () => {
  it('shares one transport between tenants with equal settings, and builds one per distinct setting', () => {
    // Prepare
    const f = factories();
    const config: PushProvidersConfig = {
      default: { apns: APNS },
      tenants: {
        acme: { apns: { ...APNS } },
        globex: { apns: { ...APNS } },
        initech: { apns: { ...APNS, topic: 'com.initech.app' } },
        umbrella: { apns: { ...APNS, environment: 'sandbox' } },
      },
    };
    // Act
    const routing = buildPushRouting(config, f);
    // Assess
    expect(f.built).toHaveLength(3);
    const shared = routing.route('anyone', 'apns');
    expect(routing.route('acme', 'apns')).toBe(shared);
    expect(routing.route('globex', 'apns')).toBe(shared);
    const distinct = new Set([shared, routing.route('umbrella', 'apns'), routing.route('initech', 'apns')]);
    expect(distinct.size).toBe(3);
    expect(new Set(f.built)).toEqual(distinct);
  });

  it('builds one SNS transport per platform, even for the same settings', () => {
    // Prepare
    const f = factories();
    const config: PushProvidersConfig = { default: { apns: SNS, fcm: SNS }, tenants: { acme: { fcm: SNS } } };
    // Act
    const routing = buildPushRouting(config, f);
    // Assess
    expect(f.built.map((t) => t.name.split('#')[0]).sort()).toEqual(['sns:apns', 'sns:fcm']);
    expect((routing.route('anyone', 'apns') as NamedTransport).name).toMatch(/^sns:apns#/);
    expect(routing.route('acme', 'fcm')).toBe(routing.route('anyone', 'fcm'));
  });

  it('uses the fallback for platforms the document leaves out, for the default and for tenants', () => {
    // Prepare
    const f = factories();
    const fallback = new NamedTransport('fallback');
    const config: PushProvidersConfig = {
      default: { apns: APNS },
      tenants: { acme: { apns: { ...APNS, topic: 'com.acme.app' } } },
    };
    // Act
    const routing = buildPushRouting(config, f, { apns: fallback, fcm: fallback });
    // Assess
    expect(routing.route('anyone', 'fcm')).toBe(fallback);
    expect(routing.route('acme', 'fcm')).toBe(fallback);
    expect((routing.route('anyone', 'apns') as NamedTransport).name).toMatch(/^apns:com\.example\.app#/);
    expect((routing.route('acme', 'apns') as NamedTransport).name).toMatch(/^apns:com\.acme\.app#/);
  });

  it('routes the record provider to the sink, and leaves a platform out without a fallback', async () => {
    // Prepare
    const f = factories();
    const config: PushProvidersConfig = {
      default: { fcm: FCM },
      tenants: { acme: { fcm: { provider: 'record' } } },
    };
    // Act
    const routing = buildPushRouting(config, f);
    const result = await routing.send(push('anyone', 'apns'));
    // Assess
    expect(routing.route('acme', 'fcm')).toBe(f.sink);
    expect(routing.route('anyone', 'fcm')).toBe(f.built[0]);
    expect(result).toMatchObject({ status: 'rejected', reason: 'platform_not_configured' });
  });

  it('fails loudly on a provider the mode has no factory for', () => {
    // Prepare
    const config: PushProvidersConfig = { default: { apns: SNS }, tenants: {} };
    // Act, Assess
    expect(() => buildPushRouting(config, { apns: () => new NamedTransport('apns') })).toThrow(
      /no factory for the sns push provider/,
    );
  });

  it('closes each built transport and the fallback once, however many tenants share them', async () => {
    // Prepare
    const f = factories();
    const fallback = new NamedTransport('fallback');
    const config: PushProvidersConfig = {
      default: { apns: APNS },
      tenants: {
        acme: { apns: { ...APNS }, fcm: { provider: 'record' } },
        globex: { fcm: FCM },
        initech: { fcm: { ...FCM } },
      },
    };
    const routing = buildPushRouting(config, f, { apns: fallback, fcm: fallback });
    // Act
    await routing.close();
    // Assess
    expect(f.built).toHaveLength(2);
    for (const t of [...f.built, f.sink, fallback]) expect(t.closes, t.name).toBe(1);
  });
});
