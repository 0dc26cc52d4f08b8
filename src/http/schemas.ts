import { EVENT_LIMITS } from '../domain/event.ts';
import { CAP_LIMITS } from '../domain/frequency-cap.ts';
import { INBOX_PAGE_LIMITS } from '../handlers/inbox.ts';

/**
 * JSON schemas of the API, compiled once by Fastify: they refuse malformed requests before a
 * handler runs and give the OpenAPI document. The domain validators (`parseEvent`,
 * `parsePreferences`) still have the last word on meaning (time windows, timezones).
 */

const ID_PATTERN = '^[A-Za-z0-9._:@-]+$';

export const userIdSchema = {
  type: 'string',
  minLength: 1,
  maxLength: EVENT_LIMITS.userIdMaxLength,
  pattern: ID_PATTERN,
} as const;

export const errorSchema = {
  $id: 'Error',
  type: 'object',
  description: 'Every 4xx and 5xx body. `code` is stable; `message` is for people.',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['code', 'message'],
      properties: {
        code: {
          type: 'string',
          enum: [
            'VALIDATION',
            'INVALID_CURSOR',
            'INVALID_UNSUBSCRIBE_TOKEN',
            'UNAUTHORIZED',
            'FORBIDDEN',
            'NOT_FOUND',
            'CONFLICT',
            'PAYLOAD_TOO_LARGE',
            'UNSUPPORTED_MEDIA_TYPE',
            'RATE_LIMITED',
            'REQUEST_TIMEOUT',
            'HEADERS_TOO_LARGE',
            'UNAVAILABLE',
            'INTERNAL',
          ],
        },
        message: { type: 'string' },
      },
    },
  },
} as const;

const errorRef = { $ref: 'Error#' } as const;

/** Response schemas of the error statuses, for every route. */
export const errorResponses = { '4xx': errorRef, '5xx': errorRef } as const;

export const noContent = { type: 'null', description: 'No content' } as const;

/** An event id as a caller chose it (the `id` of `POST /v1/events`). */
export const eventIdSchema = {
  type: 'string',
  minLength: 1,
  maxLength: EVENT_LIMITS.idMaxLength,
  pattern: ID_PATTERN,
} as const;

export const eventBodySchema = {
  type: 'object',
  required: ['id', 'type', 'actorId'],
  additionalProperties: false,
  properties: {
    id: {
      type: 'string',
      minLength: 1,
      maxLength: EVENT_LIMITS.idMaxLength,
      pattern: ID_PATTERN,
      description: 'Idempotency id, unique per tenant: the same id again changes nothing.',
    },
    type: { type: 'string', pattern: '^[a-z][a-z0-9_.-]{0,63}$', description: 'e.g. post, like, comment' },
    actorId: userIdSchema,
    objectId: {
      type: 'string',
      minLength: 1,
      maxLength: EVENT_LIMITS.objectIdMaxLength,
      pattern: ID_PATTERN,
    },
    recipients: {
      type: 'array',
      maxItems: EVENT_LIMITS.maxRecipients,
      items: userIdSchema,
      description: "Users told besides the actor's followers (e.g. the owner of a liked post).",
    },
    data: { type: 'object', description: `Free-form JSON, at most ${EVENT_LIMITS.maxDataBytes} bytes.` },
    occurredAt: {
      anyOf: [
        { type: 'string', maxLength: 40, description: 'ISO-8601 date-time with offset' },
        { type: 'integer', minimum: 0, description: 'epoch ms' },
      ],
    },
    retracts: {
      type: 'string',
      minLength: 1,
      maxLength: EVENT_LIMITS.idMaxLength,
      pattern: ID_PATTERN,
      description:
        'The id of an earlier event of the same actor on the same objectId that this one takes back (e.g. an unlike of a like): this event notifies nobody, the retracted one leaves the aggregated items it joined, and its deliveries not yet sent are not sent. To remove any event from every inbox, use DELETE /v1/events/{id}.',
    },
  },
} as const;

export const followBodySchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    alerts: { type: 'boolean', description: "Push for this author's events even when a celebrity." },
  },
} as const;

export const FOLLOW_BATCH_MAX = 1000;

export const followBatchBodySchema = {
  type: 'object',
  required: ['follows'],
  additionalProperties: false,
  properties: {
    follows: {
      type: 'array',
      minItems: 1,
      maxItems: FOLLOW_BATCH_MAX,
      items: {
        type: 'object',
        required: ['userId', 'followerId'],
        additionalProperties: false,
        properties: {
          userId: { ...userIdSchema, description: 'The author followed.' },
          followerId: userIdSchema,
          alerts: { type: 'boolean' },
        },
      },
    },
  },
} as const;

export const deviceTokenSchema = {
  type: 'string',
  minLength: 1,
  maxLength: 512,
  pattern: '^[A-Za-z0-9:_.-]+$',
} as const;

export const deviceBodySchema = {
  type: 'object',
  required: ['platform'],
  additionalProperties: false,
  properties: { platform: { type: 'string', enum: ['apns', 'fcm'] } },
} as const;

/**
 * A browser's `PushSubscription.toJSON()`. The shapes only: `parseWebPushSubscription` checks the
 * endpoint's scheme and the keys' lengths, and answers 400 naming the field.
 */
export const webPushSubscriptionSchema = {
  type: 'object',
  required: ['endpoint', 'keys'],
  additionalProperties: false,
  properties: {
    endpoint: {
      type: 'string',
      minLength: 1,
      maxLength: 800,
      description: 'The push service URL: https (http only on a loopback host).',
    },
    expirationTime: { type: ['number', 'null'] },
    keys: {
      type: 'object',
      required: ['p256dh', 'auth'],
      additionalProperties: false,
      properties: {
        p256dh: { type: 'string', maxLength: 100, description: 'Base64url, 65 bytes.' },
        auth: { type: 'string', maxLength: 30, description: 'Base64url, 16 bytes.' },
      },
    },
  },
} as const;

const switchesSchema = {
  type: 'object',
  additionalProperties: false,
  properties: { push: { type: 'boolean' }, email: { type: 'boolean' } },
} as const;

const categoriesSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    social: switchesSchema,
    content: switchesSchema,
    mention: switchesSchema,
    critical: switchesSchema,
  },
} as const;

const quietActionSchema = { type: 'string', enum: ['suppress', 'defer'] } as const;

const quietHoursSchema = {
  type: 'object',
  required: ['start', 'end'],
  additionalProperties: false,
  properties: {
    start: { type: 'string', pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$' },
    end: { type: 'string', pattern: '^([01][0-9]|2[0-3]):[0-5][0-9]$' },
    actions: {
      type: 'object',
      additionalProperties: false,
      properties: {
        social: quietActionSchema,
        content: quietActionSchema,
        mention: quietActionSchema,
        critical: quietActionSchema,
      },
    },
  },
} as const;

const capRuleSchema = {
  type: 'object',
  required: ['limit', 'windowSeconds'],
  additionalProperties: false,
  properties: {
    limit: { type: 'integer', minimum: 1, maximum: CAP_LIMITS.maxLimit },
    windowSeconds: {
      type: 'integer',
      minimum: CAP_LIMITS.minWindowSeconds,
      maximum: CAP_LIMITS.maxWindowSeconds,
    },
  },
} as const;

const frequencyCapsSchema = {
  type: 'object',
  additionalProperties: false,
  description:
    "At most `limit` pushes in any rolling `windowSeconds`, over every push and per category; each rule replaces the tenant's default of the same scope. `critical` is never capped.",
  properties: {
    push: capRuleSchema,
    categories: {
      type: 'object',
      additionalProperties: false,
      properties: { social: capRuleSchema, content: capRuleSchema, mention: capRuleSchema },
    },
  },
} as const;

const cadenceSchema = { type: 'string', enum: ['immediate', 'hourly', 'daily'] } as const;

const emailCadenceSchema = {
  type: 'object',
  additionalProperties: false,
  description:
    'Per category, how its email goes out: `immediate` (the default), or gathered into one `hourly` or `daily` digest of the unread items. `critical` is always immediate and takes no cadence (400).',
  properties: { social: cadenceSchema, content: cadenceSchema, mention: cadenceSchema },
} as const;

const preferenceFields = {
  timezone: { type: 'string', maxLength: 64, description: 'IANA timezone, e.g. Europe/Paris' },
  locale: { type: 'string', maxLength: 35 },
  email: { type: 'string', maxLength: 254 },
  consent: switchesSchema,
  channels: switchesSchema,
  categories: categoriesSchema,
  quietHours: quietHoursSchema,
  frequencyCaps: frequencyCapsSchema,
  emailCadence: emailCadenceSchema,
  digestHour: {
    type: 'integer',
    minimum: 0,
    maximum: 23,
    description: 'Local hour (in `timezone`) of the daily email digest; default 9',
  },
} as const;

export const preferencesBodySchema = {
  type: 'object',
  additionalProperties: false,
  description: 'Replaces the whole record: an absent field takes its default (no consent, UTC).',
  properties: preferenceFields,
} as const;

export const preferencesSchema = {
  type: 'object',
  required: ['userId', 'timezone', 'consent', 'channels', 'categories', 'updatedAt'],
  properties: {
    userId: { type: 'string' },
    ...preferenceFields,
    updatedAt: { type: 'string', format: 'date-time' },
  },
} as const;

export const inboxQuerySchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    // Query values arrive as text: the pattern is the range 1..100.
    limit: {
      type: 'string',
      pattern: '^(100|[1-9][0-9]?)$',
      description: `Items per page, 1..${INBOX_PAGE_LIMITS.max}; default ${INBOX_PAGE_LIMITS.default}.`,
    },
    cursor: {
      type: 'string',
      minLength: 1,
      maxLength: 256,
      description: 'nextCursor of the previous page, of the same status',
    },
    status: {
      type: 'string',
      enum: ['all', 'unread', 'archived'],
      description:
        'all (default): every item not archived, read or unread; unread: not archived and unread; archived: archived only.',
    },
  },
} as const;

export const inboxItemSchema = {
  type: 'object',
  required: [
    'id',
    'type',
    'actorId',
    'objectId',
    'eventId',
    'createdAt',
    'read',
    'data',
    'seen',
    'archived',
    'title',
    'text',
    'url',
    'avatarUrl',
  ],
  properties: {
    id: { type: 'string', description: 'ULID of the notification' },
    type: { type: 'string' },
    actorId: { type: 'string' },
    objectId: { type: ['string', 'null'] },
    eventId: { type: 'string' },
    createdAt: { type: 'string', format: 'date-time' },
    read: { type: 'boolean' },
    data: { type: ['object', 'null'], additionalProperties: true },
    seen: {
      type: 'boolean',
      description:
        'At or below the seen watermark (POST /v1/me/inbox/seen); an aggregated item that moves up is unseen again.',
    },
    archived: {
      type: 'boolean',
      description: 'Archived items are read and listed under status=archived only.',
    },
    title: { type: 'string', description: 'The short headline in the user\'s locale ("New like").' },
    text: {
      type: 'string',
      description:
        'The sentence in the user\'s locale, from the push and email catalogs ("ana, bo and 14,998 others liked your post").',
    },
    url: {
      type: ['string', 'null'],
      description: 'data.url when it is an absolute http or https URL; else null.',
    },
    avatarUrl: {
      type: ['string', 'null'],
      description:
        'data.avatarUrl (or data.actorAvatarUrl) when it is an absolute http or https URL; else null.',
    },
    group: {
      description:
        'An aggregated item ("Ana, Bo and 14,998 others liked your post"), else null. Its id, actor, event and data are its newest activity; when a new actor joins, the item takes a newer id and moves to the top.',
      anyOf: [
        {
          type: 'object',
          required: ['key', 'actors', 'actorCount'],
          properties: {
            key: {
              type: 'string',
              description: 'Stable while the item moves: a client replaces the item it shows with this key.',
            },
            actors: {
              type: 'array',
              items: { type: 'string' },
              maxItems: 3,
              description: 'The newest distinct actors, newest first.',
            },
            actorCount: { type: 'integer', minimum: 1, description: 'The exact number of distinct actors.' },
          },
        },
        { type: 'null' },
      ],
    },
  },
} as const;

export const inboxPageSchema = {
  type: 'object',
  required: ['items', 'nextCursor'],
  properties: {
    items: { type: 'array', items: inboxItemSchema },
    nextCursor: { type: ['string', 'null'], description: 'null on the last page' },
  },
} as const;

export const notificationIdSchema = {
  type: 'string',
  pattern: '^[0-7][0-9A-HJKMNP-TV-Z]{25}$',
  description: 'ULID of the notification',
} as const;

/**
 * The merge-patch form of an object schema: every property may also be `null` (remove it), and
 * nothing is required (a patch names only what changes). The merged record is then validated
 * whole, like a tenant's write.
 */
function patchOf(schema: Readonly<Record<string, unknown>>): Record<string, unknown> {
  const { required: _required, properties, ...rest } = schema;
  if (properties === undefined) return { ...rest };
  const props = Object.entries(properties as Record<string, Readonly<Record<string, unknown>>>).map(
    ([name, sub]) => [name, { anyOf: [patchOf(sub), { type: 'null' }] }] as const,
  );
  return { ...rest, properties: Object.fromEntries(props) };
}

const { email: _tenantOnly, ...userPreferenceFields } = preferenceFields;

export const preferencesPatchSchema = {
  ...patchOf({ type: 'object', additionalProperties: false, properties: userPreferenceFields }),
  description:
    "A JSON merge patch (RFC 7396): a named object merges key by key, `null` removes a key (its default applies again), a field not named keeps what is stored. `email` is the tenant's to set.",
};

export const myPreferencesSchema = {
  type: 'object',
  required: ['userId', 'timezone', 'consent', 'channels', 'categories', 'updatedAt'],
  properties: {
    userId: { type: 'string' },
    ...preferenceFields,
    updatedAt: {
      type: ['string', 'null'],
      format: 'date-time',
      description: 'null while nothing was stored: the answer shows the defaults',
    },
  },
} as const;
