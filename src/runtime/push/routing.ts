import { ValidationError } from '../../domain/errors.ts';
import { Platform } from '../../domain/types.ts';
import type { PushTransport } from '../../ports/transports.ts';
import type {
  ApnsProviderConfig,
  FcmProviderConfig,
  PlatformProviders,
  ProviderConfig,
  PushProvidersConfig,
  SnsProviderConfig,
  WebPushProviderConfig,
} from './providers.ts';
import { type PlatformRoutes, RoutingPushTransport } from './routing-transport.ts';

/** How this mode builds each provider's transport; a provider it cannot build is left out. */
export interface PushFactories {
  apns?(config: ApnsProviderConfig): PushTransport;
  fcm?(config: FcmProviderConfig): PushTransport;
  webpush?(config: WebPushProviderConfig): PushTransport;
  sns?(config: SnsProviderConfig, platform: Platform): PushTransport;
  /** The recording sink (embedded mode). */
  record?(): PushTransport;
}

/**
 * The routing transport of a push providers document. Equal provider settings share one transport,
 * so twenty tenants of one app hold one APNs connection pool and one provider token between them
 * (APNs refuses a provider token refreshed more often than every 20 minutes, so two clients with the
 * same key would also fight over it). `fallback` is the transport of a platform the document leaves
 * out (the recording sink in the embedded mode; none in AWS, which rejects such pushes).
 */
export function buildPushRouting(
  config: PushProvidersConfig,
  factories: PushFactories,
  fallback?: Readonly<Partial<Record<Platform, PushTransport>>>,
): RoutingPushTransport {
  const built = new Map<string, PushTransport>();
  const transport = (where: string, platform: Platform, provider: ProviderConfig): PushTransport => {
    // The key holds credentials, but only in memory, as the settings themselves do.
    const key = `${provider.provider === 'sns' ? platform : ''}\n${JSON.stringify(provider)}`;
    let t = built.get(key);
    if (t === undefined) {
      try {
        t = make(platform, provider, factories);
      } catch (err) {
        // A client refusing its settings (a key that is no EC key, say) names them by its own
        // option names: say where in the document they came from.
        if (!(err instanceof ValidationError)) throw err;
        throw new ValidationError(
          err.issues.map((i) => ({ path: `${where}.${platform}.${i.path}`, message: i.message })),
          { cause: err },
        );
      }
      built.set(key, t);
    }
    return t;
  };
  const routes = (
    where: string,
    providers: PlatformProviders,
    base?: Readonly<Partial<Record<Platform, PushTransport>>>,
  ) => {
    const out: Partial<Record<Platform, PushTransport>> = { ...base };
    for (const platform of Object.values(Platform)) {
      const provider = providers[platform];
      if (provider !== undefined) out[platform] = transport(where, platform, provider);
    }
    return out as PlatformRoutes;
  };
  const tenants = new Map<string, PlatformRoutes>();
  for (const [tenantId, providers] of Object.entries(config.tenants)) {
    tenants.set(tenantId, routes(`tenants.${tenantId}`, providers));
  }
  return new RoutingPushTransport({ routes: routes('default', config.default, fallback), tenants });
}

function make(platform: Platform, provider: ProviderConfig, factories: PushFactories): PushTransport {
  const missing = (): never => {
    // parsePushProviders already refused providers a mode does not allow; this is a wiring bug.
    throw new Error(`no factory for the ${provider.provider} push provider in this mode`);
  };
  switch (provider.provider) {
    case 'apns':
      return factories.apns?.(provider) ?? missing();
    case 'fcm':
      return factories.fcm?.(provider) ?? missing();
    case 'webpush':
      return factories.webpush?.(provider) ?? missing();
    case 'sns':
      return factories.sns?.(provider, platform) ?? missing();
    default:
      return factories.record?.() ?? missing();
  }
}
