import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  catalogFor,
  RENDER_LIMITS,
  renderEmail,
  renderPush,
  resolveLocale,
  SUPPORTED_LOCALES,
} from '../../src/domain/render.ts';
import { KNOWN_TYPES } from '../../src/domain/templates/catalog.ts';
import { CATEGORIES, type Category, type DeliveryJob } from '../../src/domain/types.ts';

function job(type: string, category: Category, overrides: Partial<DeliveryJob> = {}): DeliveryJob {
  return {
    tenantId: 'acme',
    userId: 'alice',
    notificationId: '01JS0000000000000000000000',
    channel: 'email',
    eventId: 'e1',
    type,
    category,
    actorId: 'bob',
    createdAt: Date.parse('2026-01-15T12:00:00Z'),
    ...overrides,
  };
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point.
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

describe('locale resolution', () => {
  it.each([
    ['fr', 'fr'],
    ['FR', 'fr'],
    ['fr-CA', 'fr'],
    ['fr_BE', 'fr'],
    ['pt-BR', 'pt-BR'],
    ['pt-br', 'pt-BR'],
    ['pt', 'pt-BR'],
    ['pt-PT', 'pt-BR'],
    ['de-CH-1996', 'de'],
    ['es-419', 'es'],
    ['ja-JP', 'ja'],
    ['en-GB', 'en'],
    ['zh-Hant-TW', 'en'],
    ['x', 'en'],
    ['', 'en'],
    [undefined, 'en'],
  ])('resolves %j to %s', (given, expected) => {
    expect(resolveLocale(given)).toBe(expected);
  });

  it('ships at least English, French, German, Spanish, Brazilian Portuguese and Japanese', () => {
    expect(SUPPORTED_LOCALES).toEqual(expect.arrayContaining(['en', 'fr', 'de', 'es', 'pt-BR', 'ja']));
  });
});

describe.each(SUPPORTED_LOCALES)('catalog %s', (locale) => {
  const catalog = catalogFor(locale);

  it('words every known type, the critical and the fallback forms around their arguments', () => {
    for (const type of KNOWN_TYPES) {
      const { title, line } = catalog.types[type];
      expect(title.length).toBeGreaterThan(0);
      expect(title.length).toBeLessThanOrEqual(RENDER_LIMITS.pushTitle);
      expect(line('ACTOR')).toContain('ACTOR');
    }
    expect(catalog.critical.line('NOTICE')).toContain('NOTICE');
    expect(catalog.fallback.line('ACTOR', 'WHAT')).toMatch(/ACTOR.*WHAT/);
    expect(catalog.update.length).toBeGreaterThan(0);
  });

  it('names every category and puts the name in the footer lines', () => {
    for (const category of CATEGORIES) expect(catalog.categories[category].length).toBeGreaterThan(0);
    expect(catalog.email.reason('CAT')).toContain('CAT');
    expect(catalog.email.unsubscribe('CAT')).toContain('CAT');
    expect(catalog.email.openApp.length).toBeGreaterThan(0);
    expect(catalog.email.managePreferences.length).toBeGreaterThan(0);
  });

  it('writes every known type in its own words (no English left behind)', () => {
    if (locale === 'en') return;
    const english = catalogFor('en');
    for (const type of KNOWN_TYPES) {
      expect(catalog.types[type].line('bob')).not.toBe(english.types[type].line('bob'));
      expect(catalog.types[type].title).not.toBe(english.types[type].title);
    }
    expect(catalog.email.openApp).not.toBe(english.email.openApp);
  });

  it('renders an email whose html declares the locale and holds the same words as the text part', () => {
    // Act
    const email = renderEmail(job('follow', 'social'), {
      locale,
      unsubscribeUrl: 'https://n.example/v1/unsubscribe?token=t.k',
    });
    // Assess
    expect(email.locale).toBe(locale);
    expect(email.html).toContain(`<html lang="${locale}" dir="ltr">`);
    const lines = email.text.split('\n').filter((l) => l !== '' && l !== '-- ');
    for (const line of lines) expect(email.html).toContain(escapeForHtml(line));
  });
});

describe('rendering in the user’s language', () => {
  it('gives a French user French push and email', () => {
    // Act
    const push = renderPush(job('comment', 'social'), 'fr-CA');
    const email = renderEmail(job('comment', 'social'), {
      locale: 'fr-CA',
      unsubscribeUrl: 'https://n.example/v1/unsubscribe?token=t.k',
    });
    // Assess
    expect(push).toEqual({ title: 'Nouveau commentaire', body: 'bob a commenté votre publication' });
    expect(email.locale).toBe('fr');
    expect(email.subject).toBe('bob a commenté votre publication');
    expect(email.text).toBe(
      'bob a commenté votre publication\n\nOuvrez l’application pour le voir.\n\n-- \n' +
        'Vous recevez cet e-mail car les e-mails «\u00a0Activité sociale\u00a0» sont activés pour votre compte.\n' +
        'Se désabonner des e-mails «\u00a0Activité sociale\u00a0»\n' +
        'https://n.example/v1/unsubscribe?token=t.k\n' +
        'Gérez vos préférences dans l’application.\n',
    );
    expect(email.html).toContain('<html lang="fr" dir="ltr">');
    expect(email.html).toMatch(/<h1 [^>]*>Nouveau commentaire<\/h1>/);
  });

  it.each([
    ['de', 'mention', 'mention', 'Du wurdest erwähnt', 'bob hat dich erwähnt'],
    ['es-MX', 'like', 'social', 'Nuevo «Me gusta»', 'A bob le gustó tu publicación'],
    ['pt', 'follow', 'social', 'Novo seguidor', 'bob começou a seguir você'],
    ['ja-JP', 'post', 'content', '新しい投稿', 'bobさんが投稿しました'],
    ['fr', 'critical.outage', 'critical', 'Avis important', 'Important\u00a0: outage'],
    ['ja', 'badge.gold', 'social', '新しいアクティビティ', 'bobさん：badge gold'],
    ['de', '...', 'social', 'Neue Aktivität', 'bob: Aktualisierung'],
  ] as const)('renders %s %s push as %j / %j', (locale, type, category, title, body) => {
    expect(renderPush(job(type, category), locale)).toEqual({ title, body });
  });

  it('gives a user with an unknown locale exactly the English rendering', () => {
    // Prepare
    const j = job('mention', 'mention');
    // Act / Assess
    expect(renderPush(j, 'zh-Hant-TW')).toEqual(renderPush(j));
    expect(renderEmail(j, { locale: 'zh-Hant-TW' })).toEqual(renderEmail(j));
    expect(renderPush(j, 'zh-Hant-TW')).toEqual({ title: 'You were mentioned', body: 'bob mentioned you' });
  });
});

describe('safety in every locale', () => {
  const locales = fc.oneof(fc.constantFrom(...SUPPORTED_LOCALES, 'zh-Hant-TW', 'pt-PT'), fc.string());
  const types = fc.oneof(fc.constantFrom(...KNOWN_TYPES, 'critical.x', 'security.', 'a_b'), fc.string());

  it('caps lengths, keeps control characters out and never splits a surrogate pair', () => {
    fc.assert(
      fc.property(
        locales,
        types,
        fc.constantFrom(...CATEGORIES),
        fc.string({ unit: 'binary' }),
        (l, t, c, a) => {
          const j = job(t, c, { actorId: a });
          const push = renderPush(j, l);
          const email = renderEmail(j, { locale: l, unsubscribeUrl: 'https://n.example/u?token=a.b' });
          expect(push.title.length).toBeLessThanOrEqual(RENDER_LIMITS.pushTitle);
          expect(push.body.length).toBeLessThanOrEqual(RENDER_LIMITS.pushBody);
          expect(email.subject.length).toBeLessThanOrEqual(RENDER_LIMITS.emailSubject);
          for (const text of [push.title, push.body, email.subject]) {
            expect(text).not.toMatch(CONTROL);
            expect(text.isWellFormed()).toBe(true);
          }
          expect(email.text.replaceAll('\n', '')).not.toMatch(CONTROL);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('escapes the actor in the html of every locale and never renders data', () => {
    for (const locale of SUPPORTED_LOCALES) {
      // Act
      const email = renderEmail(
        job('like', 'social', { actorId: '<img src=x onerror=alert(1)>', data: { text: 'secret diary' } }),
        { locale },
      );
      const push = renderPush(job('like', 'social', { data: { text: 'secret diary' } }), locale);
      // Assess
      expect(email.html).not.toContain('<img');
      expect(email.html).toContain('&lt;img src=x onerror=alert(1)&gt;');
      expect(JSON.stringify([email, push])).not.toContain('secret diary');
    }
  });
});

describe('email html', () => {
  it('is one small table-layout document with inline styles, a hidden preheader and no scripts', () => {
    // Act
    const { html } = renderEmail(job('post', 'content'), {
      locale: 'de',
      unsubscribeUrl: 'https://n.example/v1/unsubscribe?token=t.k',
    });
    // Assess
    expect(
      html.startsWith('<!doctype html>\n<html lang="de" dir="ltr">\n<head>\n<meta charset="utf-8">'),
    ).toBe(true);
    expect(html.trimEnd().endsWith('</body>\n</html>')).toBe(true);
    for (const tag of ['html', 'head', 'body', 'title', 'h1']) expect(count(html, `<${tag}[ >]`)).toBe(1);
    for (const tag of ['table', 'tr', 'td', 'p', 'a', 'div']) {
      expect(count(html, `<${tag}[ >]`)).toBe(count(html, `</${tag}>`));
    }
    expect(html).toMatch(/<div style="display:none;[^"]*">Öffne die App, um es dir anzusehen\.<\/div>/);
    expect(html).not.toMatch(/<style|<script|<link|class=/);
    expect(html).toContain('role="presentation"');
    expect(html.length).toBeLessThan(4000);
  });
});

function count(html: string, pattern: string): number {
  return html.match(new RegExp(pattern, 'g'))?.length ?? 0;
}

function escapeForHtml(value: string): string {
  return value.replace(
    /[&<>"']/g,
    (c) => `&${{ '&': 'amp', '<': 'lt', '>': 'gt', '"': 'quot', "'": '#39' }[c]};`,
  );
}
