import { createHash } from 'node:crypto';
import type { Category } from '../../domain/types.ts';

/**
 * The pages of the unsubscribe route: one self-contained HTML document each (no script, no file
 * to fetch), in the reader's language when the emails are written in it, English otherwise.
 */

/** What the second button and `scope=all` turn off: email altogether, not one category. */
export const OptOutScope = { Category: 'category', All: 'all' } as const;
export type OptOutScope = (typeof OptOutScope)[keyof typeof OptOutScope];

interface Strings {
  /** BCP 47 tag of the text, for `lang` and `Content-Language`. */
  readonly tag: string;
  readonly title: string;
  readonly category: Readonly<Record<Category, string>>;
  readonly ask: (category: string) => string;
  readonly askDetail: string;
  readonly button: (category: string) => string;
  readonly buttonAll: string;
  readonly doneCategory: (category: string) => string;
  readonly doneAll: string;
  readonly doneDetail: string;
  readonly invalid: string;
  readonly invalidDetail: string;
}

const STRINGS = {
  en: {
    tag: 'en',
    title: 'Email preferences',
    category: { social: 'activity', content: 'new content', mention: 'mention', critical: 'account' },
    ask: (c) => `Stop ${c} emails?`,
    askDetail: 'Nothing changes until you press a button.',
    button: (c) => `Unsubscribe from ${c} emails`,
    buttonAll: 'Unsubscribe from all emails',
    doneCategory: (c) => `You will no longer get ${c} emails.`,
    doneAll: 'You will no longer get emails from us.',
    doneDetail: 'You can turn them back on in the app’s settings.',
    invalid: 'This unsubscribe link is not valid.',
    invalidDetail: 'It may have been cut short or changed. Open the whole link from the email again.',
  },
  fr: {
    tag: 'fr',
    title: 'Préférences d’e-mail',
    category: {
      social: 'd’activité',
      content: 'de nouveautés',
      mention: 'de mention',
      critical: 'de compte',
    },
    ask: (c) => `Ne plus recevoir les e-mails ${c}\u00a0?`,
    askDetail: 'Rien ne change tant que vous n’appuyez pas sur un bouton.',
    button: (c) => `Se désabonner des e-mails ${c}`,
    buttonAll: 'Se désabonner de tous les e-mails',
    doneCategory: (c) => `Vous ne recevrez plus d’e-mails ${c}.`,
    doneAll: 'Vous ne recevrez plus d’e-mails de notre part.',
    doneDetail: 'Vous pouvez les réactiver dans les réglages de l’application.',
    invalid: 'Ce lien de désabonnement n’est pas valide.',
    invalidDetail: 'Il a peut-être été tronqué ou modifié. Ouvrez à nouveau le lien complet de l’e-mail.',
  },
  // "du", as the emails say it.
  de: {
    tag: 'de',
    title: 'E-Mail-Einstellungen',
    category: { social: 'Aktivitäts', content: 'Neuigkeiten', mention: 'Erwähnungs', critical: 'Konto' },
    ask: (c) => `Keine ${c}-E-Mails mehr erhalten?`,
    askDetail: 'Erst ein Klick auf eine Schaltfläche ändert etwas.',
    button: (c) => `${c}-E-Mails abbestellen`,
    buttonAll: 'Alle E-Mails abbestellen',
    doneCategory: (c) => `Du erhältst keine ${c}-E-Mails mehr.`,
    doneAll: 'Du erhältst keine E-Mails mehr von uns.',
    doneDetail: 'In den Einstellungen der App kannst du sie wieder einschalten.',
    invalid: 'Dieser Abmeldelink ist ungültig.',
    invalidDetail:
      'Er wurde vielleicht gekürzt oder verändert. Öffne den vollständigen Link aus der E-Mail erneut.',
  },
  es: {
    tag: 'es',
    title: 'Preferencias de correo',
    category: {
      social: 'de actividad',
      content: 'de novedades',
      mention: 'de menciones',
      critical: 'de la cuenta',
    },
    ask: (c) => `¿Dejar de recibir correos ${c}?`,
    askDetail: 'Nada cambia hasta que pulses un botón.',
    button: (c) => `Darse de baja de los correos ${c}`,
    buttonAll: 'Darse de baja de todos los correos',
    doneCategory: (c) => `Ya no recibirás correos ${c}.`,
    doneAll: 'Ya no recibirás correos nuestros.',
    doneDetail: 'Puedes volver a activarlos en los ajustes de la aplicación.',
    invalid: 'Este enlace para darse de baja no es válido.',
    invalidDetail: 'Puede que se haya cortado o modificado. Abre de nuevo el enlace completo del correo.',
  },
  // Brazilian, as the emails are; any "pt" reader gets it.
  pt: {
    tag: 'pt-BR',
    title: 'Preferências de e-mail',
    category: {
      social: 'de atividade',
      content: 'de novidades',
      mention: 'de menções',
      critical: 'da conta',
    },
    ask: (c) => `Parar de receber e-mails ${c}?`,
    askDetail: 'Nada muda até você apertar um botão.',
    button: (c) => `Parar de receber e-mails ${c}`,
    buttonAll: 'Parar de receber todos os e-mails',
    doneCategory: (c) => `Você não vai mais receber e-mails ${c}.`,
    doneAll: 'Você não vai mais receber nossos e-mails.',
    doneDetail: 'Você pode ativá-los de novo nas configurações do app.',
    invalid: 'Este link para cancelar a inscrição não é válido.',
    invalidDetail: 'Ele pode ter sido cortado ou alterado. Abra de novo o link completo do e-mail.',
  },
  ja: {
    tag: 'ja',
    title: 'メールの設定',
    category: {
      social: 'アクティビティ',
      content: '新着コンテンツ',
      mention: 'メンション',
      critical: 'アカウント',
    },
    ask: (c) => `${c}に関するメールの配信を停止しますか？`,
    askDetail: 'ボタンを押すまで設定は変わりません。',
    button: (c) => `${c}に関するメールを停止する`,
    buttonAll: 'すべてのメールを停止する',
    doneCategory: (c) => `${c}に関するメールの配信を停止しました。`,
    doneAll: 'すべてのメールの配信を停止しました。',
    doneDetail: 'アプリの設定からいつでも再開できます。',
    invalid: 'この配信停止リンクは無効です。',
    invalidDetail:
      'リンクが途中で切れているか、変更された可能性があります。メールのリンクをもう一度そのまま開いてください。',
  },
} as const satisfies Record<string, Strings>;

type Language = keyof typeof STRINGS;

const STYLE =
  'body{font:16px/1.5 system-ui,sans-serif;margin:0;padding:2rem 1rem;color:#1f2328;background:#f6f8fa}' +
  'main{max-width:32rem;margin:0 auto;padding:1.5rem;background:#fff;border:1px solid #d0d7de;border-radius:8px}' +
  'h1{font-size:1.25rem;margin:0 0 .5rem}form{display:flex;flex-direction:column;gap:.75rem;margin-top:1rem}' +
  'button{font:inherit;padding:.6rem 1rem;border-radius:6px;border:1px solid #1f2328;background:#1f2328;color:#fff;cursor:pointer}' +
  'button.all{background:#fff;color:#1f2328}';

/**
 * Headers of every answer of the route. The page needs no script and posts only to itself; the
 * token is in its URL, so no Referer may carry it away, and no cache may keep the page.
 */
export const PAGE_HEADERS = {
  'content-security-policy': `default-src 'none'; style-src 'sha256-${createHash('sha256').update(STYLE).digest('base64')}'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'`,
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'x-robots-tag': 'noindex',
  vary: 'accept, accept-language',
} as const;

/** A rendered page and the BCP 47 tag of its language (for `Content-Language`). */
export interface Page {
  readonly html: string;
  readonly language: string;
}

/** The question asked by GET: a form posting the one-click body back to the same link. */
export function confirmPage(acceptLanguage: string | undefined, category: Category, token: string): Page {
  const language = pickLanguage(acceptLanguage);
  const s: Strings = STRINGS[language];
  const name = s.category[category];
  const action = `?${new URLSearchParams({ token })}`;
  const body =
    `<h1>${escapeHtml(s.ask(name))}</h1><p>${escapeHtml(s.askDetail)}</p>` +
    `<form method="post" action="${escapeHtml(action)}">` +
    '<input type="hidden" name="List-Unsubscribe" value="One-Click">' +
    `<button type="submit" name="scope" value="${OptOutScope.Category}">${escapeHtml(s.button(name))}</button>` +
    `<button type="submit" name="scope" value="${OptOutScope.All}" class="all">${escapeHtml(s.buttonAll)}</button>` +
    '</form>';
  return { html: document(s.tag, s.title, body), language: s.tag };
}

/** The answer to a browser's POST. */
export function donePage(acceptLanguage: string | undefined, category: Category, scope: OptOutScope): Page {
  const language = pickLanguage(acceptLanguage);
  const s: Strings = STRINGS[language];
  const done = scope === OptOutScope.All ? s.doneAll : s.doneCategory(s.category[category]);
  const body = `<h1>${escapeHtml(done)}</h1><p>${escapeHtml(s.doneDetail)}</p>`;
  return { html: document(s.tag, s.title, body), language: s.tag };
}

/** The answer to a link that is not one of ours (forged, altered, cut short). */
export function invalidPage(acceptLanguage: string | undefined): Page {
  const language = pickLanguage(acceptLanguage);
  const s: Strings = STRINGS[language];
  const body = `<h1>${escapeHtml(s.invalid)}</h1><p>${escapeHtml(s.invalidDetail)}</p>`;
  return { html: document(s.tag, s.title, body), language: s.tag };
}

function document(tag: string, title: string, body: string): string {
  return (
    `<!doctype html><html lang="${tag}"><head><meta charset="utf-8">` +
    '<meta name="viewport" content="width=device-width, initial-scale=1">' +
    '<meta name="robots" content="noindex">' +
    `<title>${escapeHtml(title)}</title><style>${STYLE}</style></head>` +
    `<body><main>${body}</main></body></html>`
  );
}

/** The first language of `Accept-Language` (by weight) that has strings; English otherwise. */
export function pickLanguage(header: string | undefined): Language {
  if (header === undefined) return 'en';
  const ranked = header
    .split(',')
    .slice(0, 20)
    .map((part, index) => {
      const [tag = '', ...params] = part.trim().split(';');
      const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
      return { tag: tag.trim().toLowerCase(), q: q === undefined ? 1 : Number(q.slice(2)), index };
    })
    .filter((r) => r.q > 0)
    .sort((a, b) => b.q - a.q || a.index - b.index);
  for (const { tag } of ranked) {
    const primary = tag.split('-')[0] ?? '';
    if (Object.hasOwn(STRINGS, primary)) return primary as Language;
  }
  return 'en';
}

const HTML_ESCAPES: Readonly<Record<string, string>> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c] ?? c);
}
