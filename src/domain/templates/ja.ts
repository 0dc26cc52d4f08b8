import type { MessageCatalog } from './catalog.ts';

/** Japanese, polite form; the actor's id takes さん as a name would. */
export const ja: MessageCatalog = {
  locale: 'ja',
  dir: 'ltr',
  types: {
    post: {
      title: '新しい投稿',
      line: (actor) => `${actor}さんが投稿しました`,
      many: (a) => `${a}が投稿しました`,
    },
    like: {
      title: 'いいね！',
      line: (actor) => `${actor}さんがあなたの投稿にいいね！しました`,
      many: (a) => `${a}があなたの投稿にいいね！しました`,
    },
    comment: {
      title: '新しいコメント',
      line: (actor) => `${actor}さんがあなたの投稿にコメントしました`,
      many: (a) => `${a}があなたの投稿にコメントしました`,
    },
    mention: {
      title: 'メンションされました',
      line: (actor) => `${actor}さんがあなたをメンションしました`,
      many: (a) => `${a}があなたをメンションしました`,
    },
    follow: {
      title: '新しいフォロワー',
      line: (actor) => `${actor}さんがあなたをフォローしました`,
      many: (a) => `${a}があなたをフォローしました`,
    },
  },
  critical: { title: '重要なお知らせ', line: (notice) => `重要：${notice}` },
  fallback: { title: '新しいアクティビティ', line: (actor, what) => `${actor}さん：${what}` },
  actors: { name: (actor) => `${actor}さん`, others: (_n, f) => `他${f}人` },
  update: '更新',
  categories: {
    social: 'ソーシャル',
    content: '投稿',
    mention: 'メンション',
    critical: '重要なお知らせ',
  },
  email: {
    openApp: 'アプリを開いてご確認ください。',
    reason: (category) =>
      `アカウントで「${category}」のメールがオンになっているため、このメールをお送りしています。`,
    unsubscribe: (category) => `「${category}」のメールを停止する`,
    managePreferences: '通知の設定はアプリで変更できます。',
  },
};
