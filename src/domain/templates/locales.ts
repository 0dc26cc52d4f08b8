import type { MessageCatalog } from './catalog.ts';
import { de } from './de.ts';
import { en } from './en.ts';
import { es } from './es.ts';
import { fr } from './fr.ts';
import { ja } from './ja.ts';
import { ptBR } from './pt-br.ts';

/** The locale every unknown or missing preference falls back to. */
export const DEFAULT_LOCALE = 'en';

/** Every catalog, by its tag in lower case. */
const CATALOGS: ReadonlyMap<string, MessageCatalog> = new Map(
  [en, fr, de, es, ptBR, ja].map((c) => [c.locale.toLowerCase(), c] as const),
);

/** Language subtag → the catalog a tag of that language gets when no catalog matches it whole. */
const BY_LANGUAGE: ReadonlyMap<string, MessageCatalog> = languageIndex();

/** The tags of the catalogs Fanout ships, e.g. ["en", "fr", …, "pt-BR", "ja"]. */
export const SUPPORTED_LOCALES: readonly string[] = [...CATALOGS.values()].map((c) => c.locale);

/**
 * The catalog for a user's BCP 47 `locale` preference: the catalog of that exact tag (any case),
 * else of its language alone ("fr-CA" → fr, "pt" or "pt-PT" → pt-BR while that is the only
 * Portuguese), else English. Scripts and regions we have no catalog for ("zh-Hant-TW") get
 * English rather than a guess.
 */
export function catalogFor(locale: string | undefined): MessageCatalog {
  if (typeof locale !== 'string' || locale === '') return en;
  const tag = locale.trim().replaceAll('_', '-').toLowerCase();
  const exact = CATALOGS.get(tag);
  if (exact !== undefined) return exact;
  return BY_LANGUAGE.get(tag.split('-', 1)[0]!) ?? en;
}

/** The resolved tag for a preference: `catalogFor(locale).locale`. */
export function resolveLocale(locale: string | undefined): string {
  return catalogFor(locale).locale;
}

function languageIndex(): Map<string, MessageCatalog> {
  const index = new Map<string, MessageCatalog>();
  // A catalog of the bare language ("fr") wins over a regional one of the same language.
  for (const catalog of CATALOGS.values()) {
    const [language, ...rest] = catalog.locale.toLowerCase().split('-');
    if (rest.length === 0 || !index.has(language!)) index.set(language!, catalog);
  }
  return index;
}
