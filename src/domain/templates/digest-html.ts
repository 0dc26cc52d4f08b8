import { escapeHtml } from './email-html.ts';

/**
 * The HTML part of an email digest: the notification email's document (email-html.ts) with a
 * list of lines instead of one, and an unsubscribe link per category. Every value is escaped
 * here; callers pass plain text.
 */
export interface DigestHtmlParts {
  readonly lang: string;
  readonly dir: 'ltr' | 'rtl';
  readonly title: string;
  readonly lines: readonly string[];
  /** Under the list when it was cut short ("and 12 more in the app"). */
  readonly more?: string;
  readonly note: string;
  readonly preheader: string;
  readonly reason: string;
  readonly unsubscribe: readonly { readonly url: string; readonly text: string }[];
  readonly managePreferences: string;
}

const FONT = 'font-family:Arial,Helvetica,sans-serif;';
const TABLE = 'role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0"';

/** The whole document, lines ending in "\n". */
export function digestHtml(p: DigestHtmlParts): string {
  const e = escapeHtml;
  const links = [
    ...p.unsubscribe.map(
      (u) => `<a href="${e(u.url)}" style="color:#71717a;text-decoration:underline;">${e(u.text)}</a>`,
    ),
    e(p.managePreferences),
  ].join('<br>');
  const items = p.lines.map((line) => `<li style="margin:0 0 8px;">${e(line)}</li>`);
  return [
    '<!doctype html>',
    `<html lang="${e(p.lang)}" dir="${p.dir}">`,
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${e(p.title)}</title>`,
    '</head>',
    '<body style="margin:0;padding:0;background-color:#f4f4f5;">',
    '<div style="display:none;max-height:0;overflow:hidden;opacity:0;mso-hide:all;">' +
      `${e(p.preheader)}</div>`,
    `<table ${TABLE} style="background-color:#f4f4f5;">`,
    '<tr><td align="center" style="padding:24px 12px;">',
    `<table ${TABLE} style="max-width:560px;background-color:#ffffff;border-radius:8px;">`,
    `<tr><td style="padding:24px;${FONT}color:#18181b;">`,
    `<h1 style="margin:0 0 12px;font-size:20px;line-height:28px;font-weight:bold;">${e(p.title)}</h1>`,
    `<ul style="margin:0 0 12px;padding:0 0 0 20px;font-size:16px;line-height:24px;">`,
    ...items,
    '</ul>',
    ...(p.more === undefined
      ? []
      : [`<p style="margin:0 0 12px;font-size:14px;line-height:20px;">${e(p.more)}</p>`]),
    `<p style="margin:0;font-size:14px;line-height:20px;color:#52525b;">${e(p.note)}</p>`,
    '</td></tr>',
    '</table>',
    `<table ${TABLE} style="max-width:560px;">`,
    `<tr><td style="padding:16px 24px;${FONT}font-size:12px;line-height:18px;color:#71717a;">`,
    `<p style="margin:0 0 8px;">${e(p.reason)}</p>`,
    `<p style="margin:0;">${links}</p>`,
    '</td></tr>',
    '</table>',
    '</td></tr>',
    '</table>',
    '</body>',
    '</html>',
    '',
  ].join('\n');
}
