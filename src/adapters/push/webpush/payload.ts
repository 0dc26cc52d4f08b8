import { Category } from '../../../domain/types.ts';
import type { PushMessage } from '../../../ports/transports.ts';

/**
 * Most plaintext one push may carry (RFC 8291 §4): push services must take 4,096-byte bodies, and
 * an aes128gcm body spends 86 bytes on its header (salt, record size, the sender's key), 16 on the
 * authentication tag and 1 on the padding delimiter.
 */
export const WEB_PUSH_MAX_PAYLOAD_BYTES = 4_096 - 86 - 16 - 1;

/** What the service worker (`web/sw.js`) receives, decrypted: enough to show and open the item. */
export interface WebPushPayload {
  readonly title: string;
  readonly body: string;
  /** The notification's tag: a re-send with the same tag replaces the one shown. */
  readonly tag: string;
  /** The notification id (the inbox item), or the message id when the message names none. */
  readonly id: string;
  /** Where a click goes: the notification center, at the item. Same-origin, relative. */
  readonly url: string;
  readonly category: Category;
  /** The app's ids (notification, event, type, actor, object): never the event's free-form data. */
  readonly data: Readonly<Record<string, string>>;
}

/**
 * A withdrawal, as `web/sw.js` reads it: close the notifications shown under `tag` (the withdrawn
 * push's Topic). Sent under the same Topic, it also replaces the original at the push service
 * while a browser offline has not fetched it yet, so the browser never shows it.
 */
export interface WebPushRetraction {
  readonly type: 'retract';
  readonly tag: string;
}

/**
 * The `Topic` header (RFC 8030 §5.4): at most 32 base64url characters. The collapse id is 32 hex
 * characters, stable per (notification, device), so an ambiguous re-send replaces the copy the
 * push service still holds instead of queueing a second.
 */
export function webPushTopic(m: PushMessage): string {
  return m.collapseId.replace(/[^A-Za-z0-9_-]/g, '').slice(0, 32);
}

/** `Urgency` (RFC 8030 §5.3): wake the device for critical notices and mentions, as APNs and FCM do. */
export function webPushUrgency(m: PushMessage): 'high' | 'normal' {
  return m.category === Category.Critical || m.category === Category.Mention ? 'high' : 'normal';
}

/** The payload of one push, as the JSON text that is encrypted. */
export function webPushPayload(m: PushMessage): string {
  if (m.withdraw === true) {
    const retraction: WebPushRetraction = { type: 'retract', tag: webPushTopic(m) };
    return JSON.stringify(retraction);
  }
  const id = m.data?.notificationId ?? m.messageId;
  const payload: WebPushPayload = {
    title: m.title,
    body: m.body,
    tag: webPushTopic(m),
    id,
    url: `/#${encodeURIComponent(id)}`,
    category: m.category,
    data: m.data ?? {},
  };
  return JSON.stringify(payload);
}
