import type { MessageCatalog } from './catalog.ts';

/** English: the default, and the catalog every other locale falls back to. */
export const en: MessageCatalog = {
  locale: 'en',
  dir: 'ltr',
  types: {
    post: { title: 'New post', line: (actor) => `${actor} posted`, many: (a) => `${a} posted` },
    like: {
      title: 'New like',
      line: (actor) => `${actor} liked your post`,
      many: (a) => `${a} liked your post`,
    },
    comment: {
      title: 'New comment',
      line: (actor) => `${actor} commented on your post`,
      many: (a) => `${a} commented on your post`,
    },
    mention: {
      title: 'You were mentioned',
      line: (actor) => `${actor} mentioned you`,
      many: (a) => `${a} mentioned you`,
    },
    follow: {
      title: 'New follower',
      line: (actor) => `${actor} started following you`,
      many: (a) => `${a} started following you`,
    },
  },
  critical: { title: 'Important notice', line: (notice) => `Important: ${notice}` },
  fallback: { title: 'New activity', line: (actor, what) => `${actor}: ${what}` },
  actors: { others: (n, f) => (n === 1 ? '1 other' : `${f} others`) },
  update: 'update',
  categories: {
    social: 'Social',
    content: 'Posts',
    mention: 'Mentions',
    critical: 'Important notices',
  },
  email: {
    openApp: 'Open the app to see it.',
    reason: (category) => `You get this email because “${category}” emails are on for your account.`,
    unsubscribe: (category) => `Unsubscribe from “${category}” emails`,
    managePreferences: 'Manage your preferences in the app.',
  },
};
