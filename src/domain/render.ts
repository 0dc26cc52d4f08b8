import { Category, type DeliveryJob } from './types.ts';

/** Length caps of rendered text, in UTF-16 code units. */
export const RENDER_LIMITS = {
  pushTitle: 64,
  /** Lock screens cut around here; APNs and FCM would take more but show less. */
  pushBody: 178,
  emailSubject: 120,
} as const;

/** One English template: a short headline and the sentence that says what happened. */
interface Template {
  readonly title: string;
  readonly line: (actor: string) => string;
}

const TEMPLATES: ReadonlyMap<string, Template> = new Map<string, Template>([
  ['post', { title: 'New post', line: (actor) => `${actor} posted` }],
  ['like', { title: 'New like', line: (actor) => `${actor} liked your post` }],
  ['comment', { title: 'New comment', line: (actor) => `${actor} commented on your post` }],
  ['mention', { title: 'You were mentioned', line: (actor) => `${actor} mentioned you` }],
  ['follow', { title: 'New follower', line: (actor) => `${actor} started following you` }],
]);

/** Prefixes of critical types, stripped to name the notice ("critical.outage" → "outage"). */
const CRITICAL_PREFIXES: readonly string[] = ['critical.', 'security.'];

/**
 * Default text of a notification. Per-locale templates arrive with the real transports; until
 * then one English rendering keeps push and email content in one place.
 *
 * Only ids and the type are rendered, never `data`: it is free-form input from the tenant and may
 * carry personal data.
 */
export function renderPush(job: DeliveryJob): { title: string; body: string } {
  const { title, line } = describe(job);
  return { title: clip(title, RENDER_LIMITS.pushTitle), body: clip(line, RENDER_LIMITS.pushBody) };
}

export function renderEmail(job: DeliveryJob): { subject: string; text: string; html: string } {
  const { title, line } = describe(job);
  const subject = clip(line, RENDER_LIMITS.emailSubject);
  const footer = 'Open the app to see it.';
  const text = `${line}\n\n${footer}\n`;
  const html =
    '<!doctype html>\n<html><head><meta charset="utf-8">' +
    `<title>${escapeHtml(title)}</title></head>\n` +
    `<body><h1>${escapeHtml(title)}</h1>\n<p>${escapeHtml(line)}</p>\n<p>${escapeHtml(footer)}</p></body></html>\n`;
  return { subject, text, html };
}

/** Escapes the five characters that matter in HTML text and attribute values. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => HTML_ENTITIES[c]!);
}

const HTML_ENTITIES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

function describe(job: DeliveryJob): { title: string; line: string } {
  // Ids and types are validated upstream, but text that reaches a mail header or a lock screen
  // must never carry a line break or a control character, whatever the queue held.
  const actor = plain(job.actorId);
  const template = TEMPLATES.get(job.type);
  if (template !== undefined) return { title: template.title, line: template.line(actor) };
  if (job.category === Category.Critical) {
    return { title: 'Important notice', line: `Important: ${humanize(stripCriticalPrefix(job.type))}` };
  }
  return { title: 'New activity', line: `${actor}: ${humanize(job.type)}` };
}

function stripCriticalPrefix(type: string): string {
  const prefix = CRITICAL_PREFIXES.find((p) => type.startsWith(p) && type.length > p.length);
  return prefix === undefined ? type : type.slice(prefix.length);
}

/** "new_badge.gold" → "new badge gold": a type read as words. */
function humanize(type: string): string {
  return plain(type.replace(/[._-]+/g, ' ')).trim() || 'update';
}

/** Control characters (C0, DEL, C1, line and paragraph separators) become spaces. */
function plain(value: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point.
  return value.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, ' ');
}

/** At most `max` code units, ending in "…" when cut, never splitting a surrogate pair. */
function clip(value: string, max: number): string {
  if (value.length <= max) return value;
  let cut = value.slice(0, max - 1);
  const last = cut.charCodeAt(cut.length - 1);
  if (last >= 0xd800 && last <= 0xdbff) cut = cut.slice(0, -1);
  return `${cut}…`;
}
