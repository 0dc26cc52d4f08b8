import type { MessageCatalog } from './catalog.ts';

/** German, addressing the user as "du", as social apps in German do. */
export const de: MessageCatalog = {
  locale: 'de',
  dir: 'ltr',
  types: {
    post: {
      title: 'Neuer Beitrag',
      line: (actor) => `${actor} hat einen Beitrag veröffentlicht`,
      many: (a) => `${a} haben einen Beitrag veröffentlicht`,
    },
    like: {
      title: 'Neues „Gefällt mir“',
      line: (actor) => `${actor} gefällt dein Beitrag`,
      many: (a) => `${a} gefällt dein Beitrag`,
    },
    comment: {
      title: 'Neuer Kommentar',
      line: (actor) => `${actor} hat deinen Beitrag kommentiert`,
      many: (a) => `${a} haben deinen Beitrag kommentiert`,
    },
    mention: {
      title: 'Du wurdest erwähnt',
      line: (actor) => `${actor} hat dich erwähnt`,
      many: (a) => `${a} haben dich erwähnt`,
    },
    follow: {
      title: 'Neuer Follower',
      line: (actor) => `${actor} folgt dir jetzt`,
      many: (a) => `${a} folgen dir jetzt`,
    },
  },
  critical: { title: 'Wichtiger Hinweis', line: (notice) => `Wichtig: ${notice}` },
  fallback: { title: 'Neue Aktivität', line: (actor, what) => `${actor}: ${what}` },
  actors: { others: (n, f) => (n === 1 ? '1 weitere Person' : `${f} weitere Personen`) },
  update: 'Aktualisierung',
  categories: {
    social: 'Soziales',
    content: 'Beiträge',
    mention: 'Erwähnungen',
    critical: 'Wichtige Hinweise',
  },
  email: {
    openApp: 'Öffne die App, um es dir anzusehen.',
    reason: (category) =>
      `Du erhältst diese E-Mail, weil E-Mails zu „${category}“ in deinem Konto aktiviert sind.`,
    unsubscribe: (category) => `E-Mails zu „${category}“ abbestellen`,
    managePreferences: 'Verwalte deine Einstellungen in der App.',
  },
};
