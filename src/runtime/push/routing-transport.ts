import { ValidationError } from '../../domain/errors.ts';
import type { Platform } from '../../domain/types.ts';
import type { PushMessage, PushResult, PushTransport } from '../../ports/transports.ts';

/** The transport of each platform; a platform left out has no push. */
export type PlatformRoutes = Readonly<Partial<Record<Platform, PushTransport>>>;

/** Options of {@link RoutingPushTransport}. */
export interface RoutingPushTransportOptions {
  /** Every tenant's transports unless `tenants` names the tenant and the platform. */
  readonly routes: PlatformRoutes;
  /** Per-tenant transports, by tenant id: a tenant with an app of its own pushes with its credentials. */
  readonly tenants?: ReadonlyMap<string, PlatformRoutes>;
}

const NOT_CONFIGURED: PushResult = Object.freeze({
  status: 'rejected',
  reason: 'platform_not_configured',
  deactivateDevice: false,
});

/**
 * Chooses the transport of each push by (tenant, platform): a tenant's own route first, then the
 * default one. A push with no route is rejected for good (`platform_not_configured`) with its device
 * kept: the token is fine, the deployment has no credentials for its platform, and retrying would
 * only fill the dead-letter queue.
 *
 * The transports it routes to are shared, not owned per route: one APNs client serves every tenant
 * of the same app, so its connections and provider token are shared too. `close()` closes each once.
 */
export class RoutingPushTransport implements PushTransport {
  readonly #routes: PlatformRoutes;
  readonly #tenants: ReadonlyMap<string, PlatformRoutes>;

  constructor(opts: RoutingPushTransportOptions) {
    if (opts?.routes === undefined || typeof opts.routes !== 'object') {
      throw new ValidationError([{ path: 'routes', message: 'must map platforms to transports' }]);
    }
    this.#routes = opts.routes;
    this.#tenants = opts.tenants ?? new Map();
  }

  /** The transport a push of this tenant and platform goes through, if any. */
  route(tenantId: string, platform: Platform): PushTransport | undefined {
    return ownRoute(this.#tenants.get(tenantId), platform) ?? ownRoute(this.#routes, platform);
  }

  async send(message: PushMessage): Promise<PushResult> {
    const transport = this.route(message?.tenantId, message?.platform);
    return transport === undefined ? NOT_CONFIGURED : transport.send(message);
  }

  /** Closes every distinct transport that can be closed. */
  async close(): Promise<void> {
    const all = new Set<PushTransport>(Object.values(this.#routes));
    for (const routes of this.#tenants.values()) for (const t of Object.values(routes)) all.add(t);
    await Promise.all([...all].map((t) => (t as { close?: () => Promise<void> }).close?.()));
  }
}

/** A platform's own route: a platform such as 'constructor' must not find Object.prototype's. */
function ownRoute(routes: PlatformRoutes | undefined, platform: Platform): PushTransport | undefined {
  return routes !== undefined && Object.hasOwn(routes, platform) ? routes[platform] : undefined;
}
