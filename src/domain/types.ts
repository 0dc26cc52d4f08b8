import type { EmailCadences } from './email-digest.ts';
import type { FrequencyCapPolicy } from './frequency-cap.ts';
import type { GroupSummary } from './grouping.ts';

/**
 * The nouns of the domain. Pure data: no behaviour, no I/O.
 * Every key a store writes starts with the tenant (see `keys.ts`).
 */

export type TenantId = string;
export type UserId = string;
/** A ULID (26 chars, Crockford base32). Lexicographic order is time order. */
export type NotificationId = string;

/** A user within a tenant: the unit of isolation for every read. */
export interface UserKey {
  readonly tenantId: TenantId;
  readonly userId: UserId;
}

export const Channel = { Push: 'push', Email: 'email' } as const;
export type Channel = (typeof Channel)[keyof typeof Channel];
export const CHANNELS: readonly Channel[] = [Channel.Push, Channel.Email];

/**
 * Where a device's pushes go: Apple's APNs, Google's FCM, or a browser's push service (Web Push,
 * RFC 8030), whose device token is the subscription itself (`web-push-subscription.ts`).
 */
export const Platform = { Apns: 'apns', Fcm: 'fcm', WebPush: 'webpush' } as const;
export type Platform = (typeof Platform)[keyof typeof Platform];

/**
 * Categories group event types for consent and quiet hours. `critical` bypasses quiet hours
 * (never consent).
 */
export const Category = {
  Social: 'social',
  Content: 'content',
  Mention: 'mention',
  Critical: 'critical',
} as const;
export type Category = (typeof Category)[keyof typeof Category];
export const CATEGORIES: readonly Category[] = Object.values(Category);

export const Tier = { Regular: 'regular', Celebrity: 'celebrity' } as const;
export type Tier = (typeof Tier)[keyof typeof Tier];

/** An author action as accepted by the Event API, after validation. */
export interface AuthorEvent {
  readonly tenantId: TenantId;
  /** Caller-chosen idempotency id, unique per tenant. */
  readonly id: string;
  readonly type: string;
  readonly actorId: UserId;
  readonly objectId?: string;
  /** Explicit recipients besides the actor's followers (e.g. the owner of a liked post). */
  readonly recipients?: readonly UserId[];
  /** Small free-form payload shown with the notification. */
  readonly data?: Readonly<Record<string, unknown>>;
  /** Epoch ms the action happened; defaults to the time it was accepted. */
  readonly occurredAt: number;
  /** Epoch ms the Event API accepted it. */
  readonly acceptedAt: number;
  /**
   * The id of an earlier event of the same actor this one takes back (an `unlike` of a `like`):
   * this event notifies nobody, the retracted one leaves the aggregated items it joined, and its
   * deliveries not yet sent are not sent (src/domain/retraction.ts, handlers/fanout.ts).
   */
  readonly retracts?: string;
  /**
   * Set only on the event `DELETE /v1/events/{id}` appends (`deletionEvent`, retraction.ts): it
   * carries the retracted event's type, object, recipients and time, so fan-out can name every row
   * and the pointer that event wrote. Never accepted from a caller's body.
   */
  readonly retraction?: 'delete';
}

/** A row of one user's inbox (fan-out on write). */
export interface InboxRow {
  readonly tenantId: TenantId;
  readonly userId: UserId;
  readonly id: NotificationId;
  readonly eventId: string;
  readonly type: string;
  readonly category: Category;
  readonly actorId: UserId;
  readonly objectId?: string;
  readonly data?: Readonly<Record<string, unknown>>;
  /** Epoch ms; equals the ULID's time part. */
  readonly createdAt: number;
  readonly read: boolean;
  /**
   * Absent for a row fan-out wrote; 'celebrity' for a celebrity pointer copied into the reader's
   * inbox when they caught up (the row's id is the pointer's, its actor the celebrity).
   */
  readonly source?: 'celebrity';
  /**
   * The group this row folds into (`groupKeyOf`, src/domain/grouping.ts); absent: one item per
   * event. Rows of one group become one item whose id is its newest activity's.
   */
  readonly groupKey?: string;
  /** On a row a page returns for a group: its newest actors and exact distinct-actor count. */
  readonly group?: GroupSummary;
  /** On a row a page returns: true when archived (out of All and Unread; archived rows are read). */
  readonly archived?: boolean;
}

/**
 * One celebrity event, stored once (plus one entry in its tenant's arrival log) and copied into
 * a follower's inbox when that follower next reads (catch-up).
 */
export interface CelebrityPointer {
  readonly tenantId: TenantId;
  readonly authorId: UserId;
  readonly id: NotificationId;
  readonly eventId: string;
  readonly type: string;
  readonly category: Category;
  readonly objectId?: string;
  readonly data?: Readonly<Record<string, unknown>>;
  readonly createdAt: number;
}

/** What the inbox shows: a row, fan-out's or a caught-up celebrity pointer, with its read state. */
export interface InboxItem {
  readonly id: NotificationId;
  readonly type: string;
  readonly category: Category;
  readonly actorId: UserId;
  readonly objectId: string | null;
  readonly eventId: string;
  readonly createdAt: number;
  readonly read: boolean;
  readonly data: Readonly<Record<string, unknown>> | null;
  /** 'row' for fan-out-on-write rows, 'celebrity' for caught-up celebrity pointers. */
  readonly source: 'row' | 'celebrity';
  /** An aggregated item: its newest actors and how many distinct actors it holds; else null. */
  readonly group: GroupSummary | null;
  /** An aggregated item's group key, stable while the item moves; else null. */
  readonly groupKey: string | null;
  /** At or below the user's seen watermark (`POST /v1/me/inbox/seen`). */
  readonly seen: boolean;
  /** Archived: shown under Archived only, and read. */
  readonly archived: boolean;
  /** The catalog's short headline in the user's locale ("New like"). */
  readonly title: string;
  /** The sentence in the user's locale ("ana, bo and 14,998 others liked your post"). */
  readonly text: string;
  /** `data.url` when it is an absolute http(s) URL; else null. */
  readonly url: string | null;
  /** `data.avatarUrl` (or `data.actorAvatarUrl`) when it is an absolute http(s) URL; else null. */
  readonly avatarUrl: string | null;
}

/** A follow edge. `alerts` asks for push even when the author is a celebrity. */
export interface FollowEdge {
  readonly tenantId: TenantId;
  readonly authorId: UserId;
  readonly followerId: UserId;
  readonly alerts?: boolean;
}

/** One delivery to do: the SQS message body (and the embedded queue's). */
export interface DeliveryJob {
  readonly tenantId: TenantId;
  readonly userId: UserId;
  readonly notificationId: NotificationId;
  readonly channel: Channel;
  readonly eventId: string;
  readonly type: string;
  readonly category: Category;
  readonly actorId: UserId;
  readonly objectId?: string;
  readonly data?: Readonly<Record<string, unknown>>;
  /** Epoch ms of the notification (ULID time). */
  readonly createdAt: number;
  /** Set when quiet hours deferred the job: do not deliver before this epoch ms. */
  readonly notBefore?: number;
  /**
   * How many times a provider's Retry-After (longer than the transport's own retry budget) put the
   * job off; bounded, so a provider that never lets up ends in the dead-letter queue.
   */
  readonly providerDeferrals?: number;
  /**
   * The aggregated group the notification joined (`groupKeyOf`): its pushes are digested, at most
   * one per `digestWindowMs` (src/domain/digest.ts). Set together with `digestWindowMs`.
   */
  readonly groupKey?: string;
  /** The tenant's digest window for this type when fan-out made the job, in ms. */
  readonly digestWindowMs?: number;
  /** Set on a flush job: the index of the digest window whose later activity it pushes. */
  readonly digestFlush?: number;
  /**
   * A push withdrawal (push channel only): the notification `notificationId` was retracted after
   * its push may have been shown. The consumer sends each device that got the original a message
   * with the original's collapse id that shows nothing and lets the app or service worker remove
   * it (docs/push.md, "Retracted notifications"). Never digested, capped or held by quiet hours.
   */
  readonly withdraw?: true;
}

/** A user's device for push. Tokens are personal data: never logged whole. */
export interface Device {
  readonly tenantId: TenantId;
  readonly userId: UserId;
  readonly token: string;
  readonly platform: Platform;
  /** Epoch ms of the latest registration; APNs 410 removes only older registrations. */
  readonly registeredAt: number;
  readonly active: boolean;
  readonly deactivatedReason?: string;
}

export const QuietAction = { Suppress: 'suppress', Defer: 'defer' } as const;
export type QuietAction = (typeof QuietAction)[keyof typeof QuietAction];

/** A daily window in the user's timezone, e.g. 22:00–07:00 (crosses midnight). */
export interface QuietHours {
  /** "HH:MM", 24-hour, local time. */
  readonly start: string;
  /** "HH:MM"; end < start means the window crosses midnight; start == end means no window. */
  readonly end: string;
  /** What quiet hours do to push per category. @default 'defer' for every category */
  readonly actions?: Readonly<Partial<Record<Category, QuietAction>>>;
}

/** Per-channel toggles; a missing entry means "on". */
export type ChannelSwitches = Readonly<Partial<Record<Channel, boolean>>>;

/**
 * A user's delivery preferences.
 * Consent is explicit: no consent record for a channel means no send on it.
 */
export interface Preferences {
  readonly tenantId: TenantId;
  readonly userId: UserId;
  /** IANA timezone, e.g. "Europe/Paris". @default 'UTC' */
  readonly timezone: string;
  readonly locale?: string;
  /** Email address for the email channel. Personal data. */
  readonly email?: string;
  /** Channel consent (opt-in), given by the user. */
  readonly consent: ChannelSwitches;
  /** Channel on/off switches. */
  readonly channels: ChannelSwitches;
  /** Per-category channel switches (a category the user turned off on a channel). */
  readonly categories: Readonly<Partial<Record<Category, ChannelSwitches>>>;
  readonly quietHours?: QuietHours;
  /** The user's own push frequency caps; each rule replaces the tenant's default of the same scope. */
  readonly frequencyCaps?: FrequencyCapPolicy;
  /**
   * Per category, how its email goes out: at once (`immediate`, the default) or gathered into an
   * hourly or daily digest. `critical` is always immediate and takes no cadence.
   */
  readonly emailCadence?: EmailCadences;
  /** Local hour (0–23, in `timezone`) of the daily digest. @default 9 */
  readonly digestHour?: number;
  /** Epoch ms of the last change. */
  readonly updatedAt: number;
}

/** Outcome of one delivery decision, as the audit log records it. */
export const Outcome = {
  Sent: 'sent',
  SuppressedQuietHours: 'suppressed_quiet_hours',
  SuppressedNoConsent: 'suppressed_no_consent',
  SuppressedPreference: 'suppressed_preference',
  SuppressedNoAddress: 'suppressed_no_address',
  /** Over the user's frequency cap (reason `frequency_cap`); `critical` is never capped. */
  SuppressedFrequencyCap: 'suppressed_frequency_cap',
  Deferred: 'deferred',
  /**
   * Not sent on its own. A grouped push: folded into its group's digest push (reason
   * `digest_window`), or nothing new to show (`digest_unchanged`, `digest_empty`,
   * `digest_covered`). An email: held for the user's hourly or daily digest (reason
   * `email_digest`), which lists it (src/handlers/email-digest.ts).
   */
  Digested: 'digested',
  Duplicate: 'duplicate',
  Failed: 'failed',
  /**
   * The send may or may not have reached the provider (a timeout or dropped connection after the
   * request left). Not final: the job is retried, as an ambiguous re-send with the same ids.
   */
  Unknown: 'unknown',
  DeadLettered: 'dead_lettered',
  /** A due email digest with nothing to send (reason `nothing_unread`, `no_email`, …). */
  Skipped: 'skipped',
  /** The event was retracted (an unlike, `DELETE /v1/events/{id}`) before the job was sent: nothing sent. */
  Retracted: 'retracted',
  /**
   * A withdrawal (a retracted notification's push already sent) went to this device: a message
   * with the original's collapse id that shows nothing and removes the one shown where the
   * platform allows (docs/push.md, "Retracted notifications").
   */
  Withdrawn: 'withdrawn',
  /** A withdrawal found that this device never got the original push: nothing sent. */
  NotShown: 'not_shown',
} as const;
export type Outcome = (typeof Outcome)[keyof typeof Outcome];
