import type { MessageCatalog } from './catalog.ts';

/** Brazilian Portuguese; a bare "pt" resolves here too. */
export const ptBR: MessageCatalog = {
  locale: 'pt-BR',
  dir: 'ltr',
  types: {
    post: {
      title: 'Nova publicação',
      line: (actor) => `${actor} compartilhou uma publicação`,
      many: (a) => `${a} compartilharam uma publicação`,
    },
    like: {
      title: 'Nova curtida',
      line: (actor) => `${actor} curtiu sua publicação`,
      many: (a) => `${a} curtiram sua publicação`,
    },
    comment: {
      title: 'Novo comentário',
      line: (actor) => `${actor} comentou sua publicação`,
      many: (a) => `${a} comentaram sua publicação`,
    },
    mention: {
      title: 'Nova menção',
      line: (actor) => `${actor} mencionou você`,
      many: (a) => `${a} mencionaram você`,
    },
    follow: {
      title: 'Novo seguidor',
      line: (actor) => `${actor} começou a seguir você`,
      many: (a) => `${a} começaram a seguir você`,
    },
  },
  critical: { title: 'Aviso importante', line: (notice) => `Importante: ${notice}` },
  fallback: { title: 'Nova atividade', line: (actor, what) => `${actor}: ${what}` },
  actors: { others: (n, f) => (n === 1 ? 'mais 1 pessoa' : `mais ${f} pessoas`) },
  update: 'atualização',
  categories: {
    social: 'Atividade social',
    content: 'Publicações',
    mention: 'Menções',
    critical: 'Avisos importantes',
  },
  email: {
    openApp: 'Abra o app para ver.',
    reason: (category) =>
      `Você recebe este e-mail porque os e-mails de “${category}” estão ativados na sua conta.`,
    unsubscribe: (category) => `Cancelar os e-mails de “${category}”`,
    managePreferences: 'Gerencie suas preferências no app.',
  },
};
