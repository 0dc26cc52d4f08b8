/**
 * The HTML part of a notification email: a small document that mail clients render alike. Table
 * layout and inline styles (clients drop <style> and ignore most CSS layout), a hidden preheader
 * (the preview line inbox lists show), `lang` and `dir` for screen readers and right-to-left
 * scripts. Every value is escaped here; callers pass plain text.
 */

/** What one email shows, as plain text. */
export interface EmailHtmlParts {
  readonly lang: string;
  readonly dir: 'ltr' | 'rtl';
  readonly title: string;
  readonly line: string;
  readonly note: string;
  readonly preheader: string;
  readonly reason: string;
  /** The unsubscribe link, when the email has one. */
  readonly unsubscribe?: { readonly url: string; readonly text: string };
  readonly managePreferences: string;
}

const FONT = 'font-family:Arial,Helvetica,sans-serif;';
const TABLE = 'role="presentation" width="100%" cellpadding="0" cellspacing="0" border="0"';

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

/** What every email's document holds around its body, as plain text. */
export interface EmailShell {
  readonly lang: string;
  readonly dir: 'ltr' | 'rtl';
  readonly title: string;
  readonly preheader: string;
  readonly reason: string;
  /** The unsubscribe links of the footer (none, one, or one per category of a digest). */
  readonly unsubscribe: readonly { readonly url: string; readonly text: string }[];
  readonly managePreferences: string;
}

/** A notification email's document, lines ending in "\n" (the transport makes them CRLF). */
export function emailHtml(p: EmailHtmlParts): string {
  const e = escapeHtml;
  return emailDocument({ ...p, unsubscribe: p.unsubscribe === undefined ? [] : [p.unsubscribe] }, [
    `<p style="margin:0 0 12px;font-size:16px;line-height:24px;">${e(p.line)}</p>`,
    `<p style="margin:0;font-size:14px;line-height:20px;color:#52525b;">${e(p.note)}</p>`,
  ]);
}

/**
 * The document every email shares: head, hidden preheader, the card with the title and `body`
 * (HTML lines the caller escaped), and the footer with the reason and the links.
 */
export function emailDocument(p: EmailShell, body: readonly string[]): string {
  const e = escapeHtml;
  const links = [
    ...p.unsubscribe.map(
      (u) => `<a href="${e(u.url)}" style="color:#71717a;text-decoration:underline;">${e(u.text)}</a>`,
    ),
    e(p.managePreferences),
  ].join('<br>');
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
    ...body,
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
