import { type EmailShell, emailDocument, escapeHtml } from './email-html.ts';

/**
 * The HTML part of an email digest: the notification email's document (email-html.ts) with a
 * list of lines instead of one, and an unsubscribe link per category. Every value is escaped
 * here; callers pass plain text.
 */
export interface DigestHtmlParts extends EmailShell {
  readonly lines: readonly string[];
  /** Under the list when it was cut short ("and 12 more in the app"). */
  readonly more?: string;
  readonly note: string;
}

/** The whole document, lines ending in "\n". */
export function digestHtml(p: DigestHtmlParts): string {
  const e = escapeHtml;
  return emailDocument(p, [
    `<ul style="margin:0 0 12px;padding:0 0 0 20px;font-size:16px;line-height:24px;">`,
    ...p.lines.map((line) => `<li style="margin:0 0 8px;">${e(line)}</li>`),
    '</ul>',
    ...(p.more === undefined
      ? []
      : [`<p style="margin:0 0 12px;font-size:14px;line-height:20px;">${e(p.more)}</p>`]),
    `<p style="margin:0;font-size:14px;line-height:20px;color:#52525b;">${e(p.note)}</p>`,
  ]);
}
