import { ApnsTransport } from '../../adapters/push/apns/apns-transport.ts';
import { FcmTransport } from '../../adapters/push/fcm/fcm-transport.ts';
import { parseServiceAccount } from '../../adapters/push/fcm/service-account.ts';
import { WebPushTransport } from '../../adapters/push/webpush/webpush-transport.ts';
import type { Clock } from '../../ports/clock.ts';
import type { Logger } from '../../ports/logger.ts';
import type { PushTransport } from '../../ports/transports.ts';
import type { ApnsProviderConfig, FcmProviderConfig, WebPushProviderConfig } from './providers.ts';

/** The direct clients' factories, from a providers document's settings: one shape in both modes. */
export interface DirectPushFactories {
  apns(config: ApnsProviderConfig): PushTransport;
  fcm(config: FcmProviderConfig): PushTransport;
  webpush(config: WebPushProviderConfig): PushTransport;
}

/**
 * APNs, FCM and Web Push clients as the embedded mode and Lambda build them. `clock` must be real time
 * (Apple and Google check provider tokens, OAuth assertions and expiry times against it).
 */
export function directPushFactories(opts: {
  readonly logger: Logger;
  readonly clock?: Clock;
  /** FANOUT_WEBPUSH_ENDPOINT_HOSTS: the push services' hosts subscriptions may name. @default the known ones */
  readonly webPushEndpointHosts?: readonly string[];
}): DirectPushFactories {
  const { logger, clock } = opts;
  const common = { logger, ...(clock === undefined ? {} : { clock }) };
  return {
    apns: (c) =>
      new ApnsTransport({
        signingKey: c.signingKey,
        keyId: c.keyId,
        teamId: c.teamId,
        topic: c.topic,
        environment: c.environment,
        ...(c.origin === undefined ? {} : { origin: c.origin }),
        ...common,
      }),
    fcm: (c) =>
      new FcmTransport({
        serviceAccount: parseServiceAccount(c.serviceAccount),
        ...(c.origin === undefined ? {} : { origin: c.origin }),
        ...common,
      }),
    webpush: (c) =>
      new WebPushTransport({
        vapid: { publicKey: c.publicKey, privateKey: c.privateKey, subject: c.subject },
        ...(opts.webPushEndpointHosts === undefined ? {} : { endpointHosts: opts.webPushEndpointHosts }),
        ...common,
      }),
  };
}
