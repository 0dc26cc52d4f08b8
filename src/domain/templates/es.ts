import type { MessageCatalog } from './catalog.ts';

/** Spanish, in the neutral register shared by Spain and Latin America. */
export const es: MessageCatalog = {
  locale: 'es',
  dir: 'ltr',
  types: {
    post: {
      title: 'Nueva publicación',
      line: (actor) => `${actor} compartió una publicación`,
      many: (a) => `${a} compartieron una publicación`,
    },
    like: {
      title: 'Nuevo «Me gusta»',
      line: (actor) => `A ${actor} le gustó tu publicación`,
      many: (a) => `A ${a} les gustó tu publicación`,
    },
    comment: {
      title: 'Nuevo comentario',
      line: (actor) => `${actor} comentó tu publicación`,
      many: (a) => `${a} comentaron tu publicación`,
    },
    mention: {
      title: 'Te mencionaron',
      line: (actor) => `${actor} te mencionó`,
      many: (a) => `${a} te mencionaron`,
    },
    follow: {
      title: 'Nuevo seguidor',
      line: (actor) => `${actor} comenzó a seguirte`,
      many: (a) => `${a} comenzaron a seguirte`,
    },
  },
  critical: { title: 'Aviso importante', line: (notice) => `Importante: ${notice}` },
  fallback: { title: 'Nueva actividad', line: (actor, what) => `${actor}: ${what}` },
  actors: { others: (n, f) => (n === 1 ? '1 persona más' : `${f} personas más`) },
  update: 'actualización',
  categories: {
    social: 'Actividad social',
    content: 'Publicaciones',
    mention: 'Menciones',
    critical: 'Avisos importantes',
  },
  email: {
    openApp: 'Abre la aplicación para verlo.',
    reason: (category) =>
      `Recibes este correo porque tienes activados los correos de «${category}» en tu cuenta.`,
    unsubscribe: (category) => `Darse de baja de los correos de «${category}»`,
    managePreferences: 'Gestiona tus preferencias en la aplicación.',
  },
};
