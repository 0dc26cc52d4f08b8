import {
  CreatePlatformEndpointCommand,
  GetEndpointAttributesCommand,
  type MessageAttributeValue,
  PublishCommand,
  SetEndpointAttributesCommand,
  type SNSClient,
} from '@aws-sdk/client-sns';
import { TransportRetryableError, ValidationError } from '../../domain/errors.ts';
import { Platform } from '../../domain/types.ts';
import type { PushMessage, PushResult, PushTransport } from '../../ports/transports.ts';
import { apnsPayload, apnsPriority, apnsPushType } from '../push/apns/payload.ts';
import { fcmMessage } from '../push/fcm/payload.ts';
import { checkPushMessage } from '../push/message-checks.ts';
import { awsErrorName, isRetryableAwsError } from './errors.ts';

/**
 * Where the SNS endpoint ARN of a device token is kept (the Devices adapter keeps it beside the
 * device). An implementation should forget the ARN when the device is deactivated, so that a
 * re-registered token goes through the create / re-enable flow again instead of publishing to
 * the endpoint SNS disabled.
 */
export interface EndpointCache {
  get(tenantId: string, token: string): Promise<string | undefined>;
  set(tenantId: string, token: string, arn: string): Promise<void>;
}

/** An EndpointCache in a Map, for tests and single-process runs. */
export class InMemoryEndpointCache implements EndpointCache {
  readonly #arns = new Map<string, string>();

  async get(tenantId: string, token: string): Promise<string | undefined> {
    return this.#arns.get(`${tenantId}#${token}`);
  }

  async set(tenantId: string, token: string, arn: string): Promise<void> {
    this.#arns.set(`${tenantId}#${token}`, arn);
  }
}

/** The platforms SNS mobile push serves. */
type SnsPlatform = typeof Platform.Apns | typeof Platform.Fcm;

/** Options of {@link SnsPushTransport}. */
export interface SnsPushTransportOptions {
  /**
   * Preferably built with `maxAttempts: 1`: the SDK's own retry of a timed-out Publish is a
   * second send this transport never hears about; the delivery pipeline retries it instead, as
   * an ambiguous re-send with the same collapse id.
   */
  readonly sns: SNSClient;
  /**
   * Platform application ARNs, at least one. An APNs ARN of an `APNS_SANDBOX` application
   * (…:app/APNS_SANDBOX/…) publishes under the `APNS_SANDBOX` key, any other under `APNS`. A
   * deployment may push to one platform only: a message for the other is rejected for good
   * (`platform_not_configured`), its device kept.
   */
  readonly applicationArns: { readonly apns?: string; readonly fcm?: string };
  readonly endpoints: EndpointCache;
}

/** The error SNS gives when an endpoint for the token exists with other attributes (AWS's documented pattern). */
const ALREADY_EXISTS = /.*Endpoint (arn:aws[a-z-]*:sns[^ ]+) already exists with the same [Tt]oken.*/;
const INVALID_PARAMETER = new Set([
  'InvalidParameterException',
  'InvalidParameter',
  'InvalidParameterValueException',
]);

/**
 * Push through SNS mobile push (APNs and FCM platform applications).
 *
 * Per message: the endpoint ARN of (tenant, token) from the cache; on a miss, CreatePlatformEndpoint
 * (idempotent for the same token; for a token whose endpoint exists with other attributes, the
 * ARN SNS names in its error), then GetEndpointAttributes and, when the endpoint is disabled or
 * holds another token, SetEndpointAttributes {Token, Enabled} — SNS's documented re-registration
 * flow, run once per token. Then one Publish with a per-platform JSON message. A cached endpoint
 * costs one request per push; a new token four at most.
 *
 * Answers: EndpointDisabled → rejected and the device deactivated (the provider told SNS the token
 * is dead); InvalidParameter → rejected, device kept; throttling, 5xx and network errors →
 * TransportRetryableError, `ambiguous` when a Publish may have left before the failure.
 */
export class SnsPushTransport implements PushTransport {
  readonly #sns: SNSClient;
  readonly #apps: SnsPushTransportOptions['applicationArns'];
  readonly #endpoints: EndpointCache;

  constructor(opts: SnsPushTransportOptions) {
    const given = [Platform.Apns, Platform.Fcm].filter((p) => opts?.applicationArns?.[p] !== undefined);
    for (const platform of given) {
      if (typeof opts.applicationArns[platform] !== 'string' || opts.applicationArns[platform] === '') {
        throw new ValidationError([{ path: `applicationArns.${platform}`, message: 'must be an ARN' }]);
      }
    }
    if (given.length === 0) {
      throw new ValidationError([
        { path: 'applicationArns', message: 'must name at least one platform application' },
      ]);
    }
    this.#sns = opts.sns;
    this.#apps = opts.applicationArns;
    this.#endpoints = opts.endpoints;
  }

  async send(message: PushMessage): Promise<PushResult> {
    checkMessage(message);
    // SNS mobile push has no Web Push platform: such a device needs the `webpush` provider.
    if (message.platform === Platform.WebPush || this.#apps[message.platform] === undefined) {
      return { status: 'rejected', reason: 'platform_not_configured', deactivateDevice: false };
    }
    let arn = await this.#cached(message);
    const fresh = arn === undefined;
    try {
      arn ??= await this.#ensureEndpoint(message);
    } catch (err) {
      return rejectionOf(err) ?? throwRetryable(err, 'SNS endpoint set-up', false);
    }
    try {
      return await this.#publish(arn, message);
    } catch (err) {
      // A cached endpoint that was deleted since: register the token again, once.
      if (!fresh && awsErrorName(err) === 'NotFoundException') {
        try {
          return await this.#publish(await this.#ensureEndpoint(message), message);
        } catch (again) {
          return rejectionOf(again) ?? throwRetryable(again, 'SNS Publish', true);
        }
      }
      return rejectionOf(err) ?? throwRetryable(err, 'SNS Publish', true);
    }
  }

  async #cached(message: PushMessage): Promise<string | undefined> {
    try {
      return await this.#endpoints.get(message.tenantId, message.token);
    } catch (err) {
      throw new TransportRetryableError('endpoint cache did not answer', { cause: err });
    }
  }

  /** The endpoint ARN for the token, created or re-enabled as needed, and cached. */
  async #ensureEndpoint(message: PushMessage): Promise<string> {
    let arn: string;
    try {
      const created = await this.#sns.send(
        new CreatePlatformEndpointCommand({
          PlatformApplicationArn: this.#apps[message.platform as SnsPlatform],
          Token: message.token,
        }),
      );
      arn = created.EndpointArn!;
    } catch (err) {
      const existing = INVALID_PARAMETER.has(awsErrorName(err))
        ? ALREADY_EXISTS.exec((err as Error).message ?? '')?.[1]
        : undefined;
      if (existing === undefined) throw err;
      arn = existing;
    }
    const { Attributes: attributes = {} } = await this.#sns.send(
      new GetEndpointAttributesCommand({ EndpointArn: arn }),
    );
    if (attributes.Enabled !== 'true' || !sameToken(attributes.Token, message)) {
      await this.#sns.send(
        new SetEndpointAttributesCommand({
          EndpointArn: arn,
          Attributes: { Token: message.token, Enabled: 'true' },
        }),
      );
    }
    try {
      await this.#endpoints.set(message.tenantId, message.token, arn);
    } catch (err) {
      throw new TransportRetryableError('endpoint cache did not answer', { cause: err });
    }
    return arn;
  }

  async #publish(arn: string, message: PushMessage): Promise<PushResult> {
    const apns = message.platform === Platform.Apns;
    const key = apns ? apnsKey(this.#apps.apns ?? '') : 'GCM';
    const payload = apns ? apnsPayload(message) : fcmPayload(message);
    const out = await this.#sns.send(
      new PublishCommand({
        TargetArn: arn,
        MessageStructure: 'json',
        // `default` must be a non-empty string; a withdrawal has no text, and the platform key is
        // what the endpoint receives.
        Message: JSON.stringify({
          default: message.withdraw === true ? 'retract' : message.body,
          [key]: JSON.stringify(payload),
        }),
        ...(apns ? { MessageAttributes: apnsAttributes(message) } : {}),
      }),
    );
    return { status: 'sent', ...(out.MessageId === undefined ? {} : { providerMessageId: out.MessageId }) };
  }
}

/** `APNS_SANDBOX` for a sandbox platform application, else `APNS`. */
export function apnsKey(applicationArn: string): 'APNS' | 'APNS_SANDBOX' {
  return /:app\/APNS_SANDBOX\//.test(applicationArn) ? 'APNS_SANDBOX' : 'APNS';
}

/**
 * APNs request headers as SNS's reserved message attributes: the collapse id (an ambiguous
 * re-send replaces the first on the device), the push type (`background` for a withdrawal, else
 * `alert`), and the priority.
 */
function apnsAttributes(m: PushMessage): Record<string, MessageAttributeValue> {
  const text = (value: string): MessageAttributeValue => ({ DataType: 'String', StringValue: value });
  return {
    'AWS.SNS.MOBILE.APNS.COLLAPSE_ID': text(m.collapseId),
    'AWS.SNS.MOBILE.APNS.PUSH_TYPE': text(apnsPushType(m)),
    'AWS.SNS.MOBILE.APNS.PRIORITY': text(apnsPriority(m)),
  };
}

/**
 * The FCM HTTP v1 message as SNS takes it under `GCM` (`fcmV1Message`): the direct client's
 * rendering without the token, which SNS adds from the endpoint.
 */
function fcmPayload(m: PushMessage): Record<string, unknown> {
  return { fcmV1Message: { message: fcmMessage(m) } };
}

/** APNs tokens come back from SNS in lowercase; FCM tokens are compared as they are. */
function sameToken(stored: string | undefined, m: PushMessage): boolean {
  if (stored === undefined) return false;
  return m.platform === Platform.Apns ? stored.toLowerCase() === m.token.toLowerCase() : stored === m.token;
}

/** A final refusal, or undefined when `err` is not one. */
function rejectionOf(err: unknown): PushResult | undefined {
  const name = awsErrorName(err);
  if (name === 'EndpointDisabledException' || name === 'EndpointDisabled') {
    return { status: 'rejected', reason: 'endpoint_disabled', deactivateDevice: true };
  }
  if (INVALID_PARAMETER.has(name)) {
    return { status: 'rejected', reason: 'invalid_parameter', deactivateDevice: false };
  }
  return undefined;
}

function throwRetryable(err: unknown, what: string, mayHaveSent: boolean): never {
  throw transportFailure(err, what, mayHaveSent);
}

/** Codes of a connection that never opened: the request certainly did not leave. */
const NOT_CONNECTED = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

/**
 * A send that failed for now, as TransportRetryableError. Shared by the SNS and SES transports.
 * `ambiguous` only when `mayHaveSent` and the failure came without an answer after the
 * connection was up (a timeout, a reset): the provider may have taken the message. An answer
 * (throttling, 5xx, access denied) means it did not.
 */
export function transportFailure(err: unknown, what: string, mayHaveSent: boolean): TransportRetryableError {
  if (err instanceof TransportRetryableError) return err;
  const name = awsErrorName(err);
  const status = (err as { $metadata?: { httpStatusCode?: number } } | null)?.$metadata?.httpStatusCode;
  const code = (err as { code?: unknown } | null)?.code;
  const message = err instanceof Error ? err.message : '';
  const answered = status !== undefined;
  const neverConnected =
    (typeof code === 'string' && NOT_CONNECTED.has(code)) || /did not establish a connection/.test(message);
  const ambiguous = mayHaveSent && !answered && !neverConnected;
  const kind = isRetryableAwsError(err) ? 'failed for now' : 'failed';
  return new TransportRetryableError(`${what} ${kind} (${name})`, { ambiguous, cause: err });
}

function checkMessage(m: PushMessage): void {
  checkPushMessage(m);
  if (typeof m.token !== 'string' || m.token === '') {
    throw new ValidationError([{ path: 'message.token', message: 'must be a non-empty string' }]);
  }
  if (!Object.values(Platform).includes(m.platform)) {
    throw new ValidationError([{ path: 'message.platform', message: 'must be a platform' }]);
  }
}
