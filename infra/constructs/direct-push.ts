import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { secretId, secretRef } from './secret-ref.ts';
import { type ApnsApplicationProps, ApnsPlatform, type FcmApplicationProps } from './transport.ts';

/** How the push consumer reaches Apple and Google. */
export const PushDelivery = {
  /** SNS mobile push platform applications (`FanoutTransport` makes them). */
  Sns: 'sns',
  /** Straight to APNs (HTTP/2, token auth) and FCM HTTP v1 from the push consumer; needs a NAT route out. */
  Direct: 'direct',
} as const;
export type PushDelivery = (typeof PushDelivery)[keyof typeof PushDelivery];

export interface FanoutDirectPushProps {
  /** APNs credentials: the same props as SNS's APNs application (`platform` picks the gateway). */
  readonly apns?: ApnsApplicationProps;
  /** FCM credentials: the same props as SNS's FCM application. */
  readonly fcm?: FcmApplicationProps;
  /**
   * A secret holding a push providers document (docs/push.md): per-tenant providers and inline
   * credentials, for a deployment whose tenants push with apps of their own.
   * @default none
   */
  readonly providersSecret?: secretsmanager.ISecret | string;
  /**
   * A secret holding the Web Push provider's VAPID keys, JSON `{publicKey, privateKey, subject}`
   * (docs/push.md). Web push leaves from the push consumer itself, so it needs the route out that
   * `PushDelivery.Direct` gives it.
   * @default none: web push devices are refused (`platform_not_configured`)
   */
  readonly webPushVapidSecret?: secretsmanager.ISecret | string;
}

/**
 * Direct push's configuration: the secrets the push consumer reads at cold start and the variables
 * that name them. Nothing here holds a credential; the template carries secret names and ids only.
 * The push consumer is granted read on `secrets` in `grants.ts`.
 */
export class FanoutDirectPush extends Construct {
  /** Variables of the push consumer (`FANOUT_APNS_*`, `FANOUT_FCM_SECRET_ID`, …; docs/lambda.md). */
  readonly environment: Readonly<Record<string, string>>;
  /** The secrets the push consumer must read. */
  readonly secrets: readonly secretsmanager.ISecret[];
  /** The VAPID public key (a dynamic reference into the VAPID secret), when web push is on. */
  readonly vapidPublicKey?: string;

  constructor(scope: Construct, id: string, props: FanoutDirectPushProps) {
    super(scope, id);
    const environment: Record<string, string> = {};
    const secrets: secretsmanager.ISecret[] = [];
    if (props.apns !== undefined) {
      const key = secretRef(this, 'ApnsSigningKey', props.apns.signingKey);
      secrets.push(key);
      Object.assign(environment, {
        FANOUT_APNS_SECRET_ID: secretId(key),
        FANOUT_APNS_KEY_ID: props.apns.keyId,
        FANOUT_APNS_TEAM_ID: props.apns.teamId,
        FANOUT_APNS_TOPIC: props.apns.bundleId,
        FANOUT_APNS_ENVIRONMENT: props.apns.platform === ApnsPlatform.Sandbox ? 'sandbox' : 'production',
      });
    }
    if (props.fcm !== undefined) {
      const account = secretRef(this, 'FcmServiceAccount', props.fcm.serviceAccount);
      secrets.push(account);
      environment.FANOUT_FCM_SECRET_ID = secretId(account);
    }
    if (props.providersSecret !== undefined) {
      const doc = secretRef(this, 'PushProviders', props.providersSecret);
      secrets.push(doc);
      environment.FANOUT_PUSH_PROVIDERS_SECRET_ID = secretId(doc);
    }
    if (props.webPushVapidSecret !== undefined) {
      const vapid = secretRef(this, 'WebPushVapid', props.webPushVapidSecret);
      secrets.push(vapid);
      environment.FANOUT_VAPID_SECRET_ID = secretId(vapid);
      // Public by nature (every browser is given it): a dynamic reference CloudFormation resolves
      // at deployment, for the inbox API's key route. The private key never leaves the secret.
      this.vapidPublicKey = vapid.secretValueFromJson('publicKey').unsafeUnwrap();
    }
    this.environment = environment;
    this.secrets = secrets;
  }
}
