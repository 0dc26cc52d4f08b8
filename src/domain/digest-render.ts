import type { DigestCadence } from './email-digest.ts';
import {
  type ActorGroup,
  catalogFor,
  type NotificationSubject,
  type RenderedEmail,
  renderLine,
} from './render.ts';
import { counted, digestPhrasesFor } from './templates/digest.ts';
import { digestHtml } from './templates/digest-html.ts';
import type { Category } from './types.ts';

/** One line of a digest: an inbox item, and its actors when it is an aggregated one. */
export interface DigestLine extends NotificationSubject {
  readonly group?: ActorGroup;
}

/** How a digest is rendered besides its lines. */
export interface DigestRenderOptions {
  readonly cadence: DigestCadence;
  /** The user's BCP 47 locale preference. @default English */
  readonly locale?: string;
  /** How many unread items the digest stands for; more than `lines` when the list was cut. */
  readonly total: number;
  /** The categories the digest covers, each with its one-click unsubscribe link when there is one. */
  readonly categories: readonly { readonly category: Category; readonly unsubscribeUrl?: string }[];
}

/** Length cap of the subject, as for a single email. */
const SUBJECT_MAX = 120;

/**
 * A digest email in the user's locale: the subject counts the unread items ("3 new
 * notifications", in the locale's plural form), the body lists one line per item (an aggregated
 * item is one line, "ana, bo and 14,998 others liked your post"), and the footer names the
 * categories with an unsubscribe link for each. Text and HTML parts say the same.
 */
export function renderDigest(lines: readonly DigestLine[], opts: DigestRenderOptions): RenderedEmail {
  const catalog = catalogFor(opts.locale);
  const locale = catalog.locale;
  const phrases = digestPhrasesFor(locale);
  const said = lines.map((l) => renderLine(l, locale, l.group).line);
  const rest = opts.total - lines.length;
  const more = rest > 0 ? counted(phrases.more, locale, rest) : undefined;
  const title = phrases.heading[opts.cadence];
  const names = opts.categories.map((c) => catalog.categories[c.category] ?? c.category);
  const reason = catalog.email.reason(new Intl.ListFormat(locale, { type: 'conjunction' }).format(names));
  const unsubscribe = opts.categories.flatMap((c, i) =>
    c.unsubscribeUrl !== undefined && /^https?:\/\//i.test(c.unsubscribeUrl)
      ? [{ url: c.unsubscribeUrl, text: catalog.email.unsubscribe(names[i]!) }]
      : [],
  );
  const { openApp, managePreferences } = catalog.email;
  const footer = [reason, ...unsubscribe.flatMap((u) => [u.text, u.url]), managePreferences];
  const list = said.map((line) => `- ${line}`);
  // "-- " is the signature separator (RFC 3676): clients grey out or fold what follows.
  const text = `${title}\n\n${[...list, ...(more ? [more] : [])].join('\n')}\n\n${openApp}\n\n-- \n${footer.join('\n')}\n`;
  const html = digestHtml({
    lang: locale,
    dir: catalog.dir,
    title,
    lines: said,
    ...(more === undefined ? {} : { more }),
    note: openApp,
    preheader: said[0] ?? openApp,
    reason,
    unsubscribe,
    managePreferences,
  });
  const subject = counted(phrases.subject, locale, opts.total);
  return {
    subject: subject.length > SUBJECT_MAX ? subject.slice(0, SUBJECT_MAX) : subject,
    text,
    html,
    locale,
  };
}
