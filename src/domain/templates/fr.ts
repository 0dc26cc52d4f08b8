import type { MessageCatalog } from './catalog.ts';

/** French. A no-break space goes before a colon, as French typography wants. */
export const fr: MessageCatalog = {
  locale: 'fr',
  dir: 'ltr',
  types: {
    post: {
      title: 'Nouvelle publication',
      line: (actor) => `${actor} a partagé une publication`,
      many: (a) => `${a} ont partagé une publication`,
    },
    like: {
      title: 'Nouveau «\u00a0J’aime\u00a0»',
      line: (actor) => `${actor} a aimé votre publication`,
      many: (a) => `${a} ont aimé votre publication`,
    },
    comment: {
      title: 'Nouveau commentaire',
      line: (actor) => `${actor} a commenté votre publication`,
      many: (a) => `${a} ont commenté votre publication`,
    },
    mention: {
      title: 'Nouvelle mention',
      line: (actor) => `${actor} vous a mentionné dans une publication`,
      many: (a) => `${a} vous ont mentionné dans une publication`,
    },
    follow: {
      title: 'Nouvel abonné',
      line: (actor) => `${actor} a commencé à vous suivre`,
      many: (a) => `${a} ont commencé à vous suivre`,
    },
  },
  critical: { title: 'Avis important', line: (notice) => `Important\u00a0: ${notice}` },
  fallback: { title: 'Nouvelle activité', line: (actor, what) => `${actor}\u00a0: ${what}` },
  actors: { others: (n, f) => (n === 1 ? '1\u00a0autre personne' : `${f}\u00a0autres personnes`) },
  update: 'mise à jour',
  categories: {
    social: 'Activité sociale',
    content: 'Publications',
    mention: 'Mentions',
    critical: 'Avis importants',
  },
  email: {
    openApp: 'Ouvrez l’application pour le voir.',
    reason: (category) =>
      `Vous recevez cet e-mail car les e-mails «\u00a0${category}\u00a0» sont activés pour votre compte.`,
    unsubscribe: (category) => `Se désabonner des e-mails «\u00a0${category}\u00a0»`,
    managePreferences: 'Gérez vos préférences dans l’application.',
  },
};
