import type { DigestCadence } from '../email-digest.ts';

/**
 * The words of an email digest in each catalog's locale, kept beside the catalogs rather than in
 * them. Counted phrases pick their form with the locale's plural rules (Intl.PluralRules): a
 * language with no plural (Japanese) has one form, French and Portuguese count 0 and 1 as
 * singular, and CLDR's `many` (a million in Spanish, French, Portuguese) takes the plural.
 */
export interface DigestPhrases {
  /** The subject: "3 new notifications". */
  readonly subject: PluralForms;
  /** The heading of the email. */
  readonly heading: Readonly<Record<DigestCadence, string>>;
  /** Under a list cut short: "and 12 more in the app". */
  readonly more: PluralForms;
}

/** `one` and `other` at least, each given the count formatted in the locale; `other` covers the rest. */
export type PluralForms = Readonly<Partial<Record<Intl.LDMLPluralRule, (n: string) => string>>> & {
  readonly other: (n: string) => string;
};

const en: DigestPhrases = {
  subject: { one: (n) => `${n} new notification`, other: (n) => `${n} new notifications` },
  heading: { hourly: 'Your hourly digest', daily: 'Your daily digest' },
  more: { other: (n) => `and ${n} more in the app` },
};

/** Locale tag (as the catalogs name it) → its phrases. */
const PHRASES: ReadonlyMap<string, DigestPhrases> = new Map([
  ['en', en],
  [
    'de',
    {
      subject: { one: (n) => `${n} neue Benachrichtigung`, other: (n) => `${n} neue Benachrichtigungen` },
      heading: { hourly: 'Deine stündliche Zusammenfassung', daily: 'Deine tägliche Zusammenfassung' },
      more: { one: (n) => `und ${n} weitere in der App`, other: (n) => `und ${n} weitere in der App` },
    },
  ],
  [
    'es',
    {
      subject: { one: (n) => `${n} notificación nueva`, other: (n) => `${n} notificaciones nuevas` },
      heading: { hourly: 'Tu resumen de cada hora', daily: 'Tu resumen diario' },
      more: { other: (n) => `y ${n} más en la aplicación` },
    },
  ],
  [
    'fr',
    {
      subject: {
        one: (n) => `${n}\u00a0nouvelle notification`,
        other: (n) => `${n}\u00a0nouvelles notifications`,
      },
      heading: { hourly: 'Votre récapitulatif horaire', daily: 'Votre récapitulatif quotidien' },
      more: {
        one: (n) => `et ${n}\u00a0autre dans l’application`,
        other: (n) => `et ${n}\u00a0autres dans l’application`,
      },
    },
  ],
  [
    'ja',
    {
      subject: { other: (n) => `${n}件の新しいお知らせ` },
      heading: { hourly: '1時間のまとめ', daily: '1日のまとめ' },
      more: { other: (n) => `ほか${n}件はアプリでご覧ください` },
    },
  ],
  [
    'pt-BR',
    {
      subject: { one: (n) => `${n} nova notificação`, other: (n) => `${n} novas notificações` },
      heading: { hourly: 'Seu resumo da última hora', daily: 'Seu resumo do dia' },
      more: { other: (n) => `e mais ${n} no app` },
    },
  ],
]);

/** The phrases of a catalog's locale tag; English for a locale without its own. */
export function digestPhrasesFor(locale: string): DigestPhrases {
  return PHRASES.get(locale) ?? en;
}

/** `count` in the locale's form for it, the number formatted the locale's way. */
export function counted(forms: PluralForms, locale: string, count: number): string {
  const rule = new Intl.PluralRules(locale).select(count);
  return (forms[rule] ?? forms.other)(new Intl.NumberFormat(locale).format(count));
}
