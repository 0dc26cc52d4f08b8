import type { Category } from '../types.ts';

/** The event types every catalog words on its own; any other type gets the fallback form. */
export const KNOWN_TYPES = ['post', 'like', 'comment', 'mention', 'follow'] as const;
export type KnownType = (typeof KNOWN_TYPES)[number];

/** A short headline and the sentence that says what happened, for one kind of notification. */
export interface Phrase<A extends unknown[]> {
  /** Push title and email heading. */
  readonly title: string;
  /** Push body, email subject and first line. */
  readonly line: (...args: A) => string;
}

/** A phrase that also has a plural form, for an aggregated item's several actors. */
export interface GroupPhrase extends Phrase<[actor: string]> {
  /** The line with several actors as subject (already joined: "ana, bo and 3 others"). */
  readonly many: (actors: string) => string;
}

/** How several actors are named together. */
export interface ActorNaming {
  /** One actor's name as it appears in a list (Japanese adds さん); default: as is. */
  readonly name?: (actor: string) => string;
  /** The actors not named, `n` ≥ 1 (plural rules are the catalog's), `formatted` in the locale. */
  readonly others: (n: number, formatted: string) => string;
}

/**
 * Every text of one locale. Arguments (the actor's id, a humanised type, a category name) arrive
 * already cleaned of control characters; a catalog never escapes, the renderer does.
 */
export interface MessageCatalog {
  /** BCP 47 tag of the language written here, e.g. "pt-BR": the email's `lang`. */
  readonly locale: string;
  /** Direction of the script, for the email's `dir`. */
  readonly dir: 'ltr' | 'rtl';
  readonly types: Readonly<Record<KnownType, GroupPhrase>>;
  /** A critical notice ("critical.outage"): the words of its type. */
  readonly critical: Phrase<[notice: string]>;
  /** Any other type: who, and the type read as words. */
  readonly fallback: Phrase<[actor: string, what: string]>;
  /** Naming an aggregated item's actors ("ana, bo and 14,998 others"). */
  readonly actors: ActorNaming;
  /** What a type with no readable words in it is called. */
  readonly update: string;
  /** Category names as a user reads them in footers. */
  readonly categories: Readonly<Record<Category, string>>;
  readonly email: {
    /** The sentence under the line: the email carries ids only, the app shows the rest. */
    readonly openApp: string;
    /** Why the user gets this email, naming the category. */
    readonly reason: (category: string) => string;
    /** The text of the unsubscribe link. */
    readonly unsubscribe: (category: string) => string;
    readonly managePreferences: string;
  };
}
