import type { MessageCatalog } from './templates/catalog.ts';
import { emailHtml } from './templates/email-html.ts';
import { catalogFor } from './templates/locales.ts';
import { Category, type DeliveryJob } from './types.ts';

export { escapeHtml } from './templates/email-html.ts';
export { catalogFor, DEFAULT_LOCALE, resolveLocale, SUPPORTED_LOCALES } from './templates/locales.ts';

/** Length caps of rendered text, in UTF-16 code units. */
export const RENDER_LIMITS = {
  pushTitle: 64,
  /** Lock screens cut around here; APNs and FCM would take more but show less. */
  pushBody: 178,
  emailSubject: 120,
} as const;

/** A rendered push: what the lock screen shows. */
export interface RenderedPush {
  readonly title: string;
  readonly body: string;
}

/** How an email is rendered besides its job. */
export interface EmailRenderOptions {
  /** The user's BCP 47 locale preference; resolved with `catalogFor`. @default English */
  readonly locale?: string;
  /** The one-click unsubscribe link (http or https); the footer shows one only when given. */
  readonly unsubscribeUrl?: string;
}

/** A rendered email, and the locale it was written in (the resolved catalog's tag). */
export interface RenderedEmail {
  readonly subject: string;
  readonly text: string;
  readonly html: string;
  readonly locale: string;
}

/** Prefixes of critical types, stripped to name the notice ("critical.outage" → "outage"). */
const CRITICAL_PREFIXES: readonly string[] = ['critical.', 'security.'];

/*
 * Only ids and the type are rendered, never `data`: it is free-form input from the tenant and may
 * carry personal data. Ids and types are validated upstream, but text that reaches a mail header
 * or a lock screen must never carry a line break or a control character, whatever the queue held,
 * so every value is cleaned here before a catalog sees it.
 */

/** What a sentence is about: who did what (a job, an inbox item). */
export type NotificationSubject = Pick<DeliveryJob, 'type' | 'actorId' | 'category'>;

/**
 * An aggregated item's actors: the newest first (`GroupSummary.actors`) and the exact number of
 * distinct actors. With one actor the sentence is the single form; otherwise up to three are named
 * (two when more than three, then "and N others").
 */
export interface ActorGroup {
  readonly actors: readonly string[];
  readonly actorCount: number;
}

/** The most actors named in a sentence; beyond, two are named and the rest counted. */
const NAMED_ACTORS = 3;

/** The push text of a job in the user's locale (see `catalogFor`); `group` for an aggregated one. */
export function renderPush(job: DeliveryJob, locale?: string, group?: ActorGroup): RenderedPush {
  const { title, line } = describe(job, catalogFor(locale), group);
  return { title: clip(title, RENDER_LIMITS.pushTitle), body: clip(line, RENDER_LIMITS.pushBody) };
}

/**
 * The headline and sentence of a notification in the user's locale, as the inbox shows it
 * (the push's words, uncut): "ana, bo and 14,998 others liked your post".
 */
export function renderLine(
  subject: NotificationSubject,
  locale?: string,
  group?: ActorGroup,
): { readonly title: string; readonly line: string; readonly locale: string } {
  const catalog = catalogFor(locale);
  return { ...describe(subject, catalog, group), locale: catalog.locale };
}

/** The email of a job in the user's locale: subject, text and HTML parts saying the same. */
export function renderEmail(job: DeliveryJob, opts: EmailRenderOptions = {}): RenderedEmail {
  const catalog = catalogFor(opts.locale);
  const { title, line } = describe(job, catalog);
  const category = catalog.categories[job.category] ?? plain(job.category);
  const { openApp, reason, unsubscribe, managePreferences } = catalog.email;
  const url = opts.unsubscribeUrl === undefined ? undefined : plain(opts.unsubscribeUrl).trim();
  // Only web links: an href is the one place in the document where escaping alone is not enough.
  const link = url && /^https?:\/\//i.test(url) ? { url, text: unsubscribe(category) } : undefined;
  // The link goes on a line of its own: clients make a bare URL clickable, and no punctuation is
  // needed around it in any language.
  const footer = [reason(category), ...(link ? [link.text, link.url] : []), managePreferences];
  // "-- " is the signature separator (RFC 3676): clients grey out or fold what follows.
  const text = `${line}\n\n${openApp}\n\n-- \n${footer.join('\n')}\n`;
  const html = emailHtml({
    lang: catalog.locale,
    dir: catalog.dir,
    title,
    line,
    note: openApp,
    preheader: openApp,
    reason: reason(category),
    ...(link ? { unsubscribe: link } : {}),
    managePreferences,
  });
  return { subject: clip(line, RENDER_LIMITS.emailSubject), text, html, locale: catalog.locale };
}

function describe(
  job: NotificationSubject,
  catalog: MessageCatalog,
  group?: ActorGroup,
): { title: string; line: string } {
  const several = group !== undefined && group.actorCount > 1 && group.actors.length > 0;
  const actor = several ? actorList(group, catalog) : plain(job.actorId);
  const known = Object.hasOwn(catalog.types, job.type)
    ? catalog.types[job.type as keyof MessageCatalog['types']]
    : undefined;
  if (known !== undefined)
    return { title: known.title, line: several ? known.many(actor) : known.line(actor) };
  if (job.category === Category.Critical) {
    const notice = humanize(stripCriticalPrefix(job.type), catalog);
    return { title: catalog.critical.title, line: catalog.critical.line(notice) };
  }
  return { title: catalog.fallback.title, line: catalog.fallback.line(actor, humanize(job.type, catalog)) };
}

/** "ana, bo and 14,998 others" in the catalog's language, with its list and number formats. */
function actorList(group: ActorGroup, catalog: MessageCatalog): string {
  const { name = (a: string) => a, others } = catalog.actors;
  const shown = group.actorCount <= NAMED_ACTORS ? NAMED_ACTORS : NAMED_ACTORS - 1;
  const named = [...new Set(group.actors)]
    .slice(0, Math.min(shown, group.actorCount))
    .map((a) => name(plain(a)));
  const rest = group.actorCount - named.length;
  const parts =
    rest > 0 ? [...named, others(rest, new Intl.NumberFormat(catalog.locale).format(rest))] : named;
  return new Intl.ListFormat(catalog.locale, { style: 'long', type: 'conjunction' }).format(parts);
}

function stripCriticalPrefix(type: string): string {
  const prefix = CRITICAL_PREFIXES.find((p) => type.startsWith(p) && type.length > p.length);
  return prefix === undefined ? type : type.slice(prefix.length);
}

/** "new_badge.gold" → "new badge gold": a type read as words (tenants name types in their language). */
function humanize(type: string, catalog: MessageCatalog): string {
  return plain(type.replace(/[._-]+/g, ' ')).trim() || catalog.update;
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
