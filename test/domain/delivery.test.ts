import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decideDelivery, parsePreferences } from '../../src/domain/delivery.ts';
import { ValidationError } from '../../src/domain/errors.ts';
import type { Preferences } from '../../src/domain/types.ts';
import { type Overrides, withOverrides } from '../support/overrides.ts';

const NOW = Date.parse('2026-01-15T12:00:00Z');
/** 23:30 in Paris, inside a 22:00–07:00 window. */
const PARIS_NIGHT = Date.parse('2026-01-15T23:30:00+01:00');

/** A user who consented to both channels, with a 22:00–07:00 window in Paris. */
function prefs(overrides: Overrides<Preferences> = {}): Preferences {
  return withOverrides(
    {
      tenantId: 'acme',
      userId: 'alice',
      timezone: 'Europe/Paris',
      email: 'alice@example.com',
      consent: { push: true, email: true },
      channels: {},
      categories: {},
      quietHours: { start: '22:00', end: '07:00' },
      updatedAt: NOW,
    },
    overrides,
  );
}

/** The issue paths of the ValidationError `fn` throws. */
function issuePaths(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(ValidationError);
    return (err as ValidationError).issues.map((i) => i.path);
  }
  throw new Error('expected a ValidationError');
}

describe('decideDelivery', () => {
  it('sends push outside quiet hours to a user who consented', () => {
    expect(decideDelivery(prefs(), 'push', 'social', NOW)).toEqual({ kind: 'send' });
  });

  it('suppresses for lack of consent when the user has no preferences at all', () => {
    // Act
    const push = decideDelivery(undefined, 'push', 'critical', NOW);
    const email = decideDelivery(undefined, 'email', 'social', NOW);
    // Assess
    expect(push).toEqual({ kind: 'suppress', outcome: 'suppressed_no_consent', reason: 'no_consent' });
    expect(email).toEqual({ kind: 'suppress', outcome: 'suppressed_no_consent', reason: 'no_consent' });
  });

  it.each([
    ['missing', {}],
    ['refused', { push: false, email: true }],
  ])('suppresses push when consent is %s, even for critical', (_name, consent) => {
    // Act
    const decision = decideDelivery(prefs({ consent }), 'push', 'critical', NOW);
    // Assess
    expect(decision).toEqual({ kind: 'suppress', outcome: 'suppressed_no_consent', reason: 'no_consent' });
  });

  it('checks consent before the switches', () => {
    // Act
    const decision = decideDelivery(prefs({ consent: {}, channels: { push: false } }), 'push', 'social', NOW);
    // Assess
    expect(decision).toMatchObject({ reason: 'no_consent' });
  });

  it('suppresses a channel the user switched off', () => {
    // Act
    const decision = decideDelivery(prefs({ channels: { email: false } }), 'email', 'social', NOW);
    // Assess
    expect(decision).toEqual({ kind: 'suppress', outcome: 'suppressed_preference', reason: 'channel_off' });
  });

  it('suppresses a category the user switched off on that channel only', () => {
    // Prepare
    const p = prefs({ categories: { mention: { push: false } } });
    // Act
    const push = decideDelivery(p, 'push', 'mention', NOW);
    const email = decideDelivery(p, 'email', 'mention', NOW);
    const otherCategory = decideDelivery(p, 'push', 'social', NOW);
    // Assess
    expect(push).toEqual({ kind: 'suppress', outcome: 'suppressed_preference', reason: 'category_off' });
    expect(email).toEqual({ kind: 'send' });
    expect(otherCategory).toEqual({ kind: 'send' });
  });

  it('suppresses email when there is no address to send to', () => {
    // Act
    const decision = decideDelivery(prefs({ email: undefined }), 'email', 'social', NOW);
    // Assess
    expect(decision).toEqual({ kind: 'suppress', outcome: 'suppressed_no_address', reason: 'no_email' });
  });

  it('defers push during quiet hours until the window ends in the user’s timezone', () => {
    // Act
    const decision = decideDelivery(prefs(), 'push', 'social', PARIS_NIGHT);
    // Assess
    expect(decision).toEqual({ kind: 'defer', until: Date.parse('2026-01-16T06:00:00.000Z') });
  });

  it('suppresses push during quiet hours for a category set to suppress', () => {
    // Prepare
    const p = prefs({ quietHours: { start: '22:00', end: '07:00', actions: { content: 'suppress' } } });
    // Act
    const decision = decideDelivery(p, 'push', 'content', PARIS_NIGHT);
    // Assess
    expect(decision).toEqual({ kind: 'suppress', outcome: 'suppressed_quiet_hours', reason: 'quiet_hours' });
  });

  it('lets critical push through quiet hours', () => {
    expect(decideDelivery(prefs(), 'push', 'critical', PARIS_NIGHT)).toEqual({ kind: 'send' });
  });

  it('does not hold email back during quiet hours', () => {
    expect(decideDelivery(prefs(), 'email', 'social', PARIS_NIGHT)).toEqual({ kind: 'send' });
  });
});

describe('parsePreferences', () => {
  it('accepts a full valid body', () => {
    // Prepare
    const body = {
      timezone: 'America/New_York',
      locale: 'pt-BR',
      email: 'alice.smith+news@mail.example.com',
      consent: { push: true, email: false },
      channels: { push: true, email: true },
      categories: { social: { push: false }, mention: { email: true, push: true } },
      quietHours: { start: '22:30', end: '06:45', actions: { social: 'suppress', content: 'defer' } },
      frequencyCaps: {
        push: { limit: 10, windowSeconds: 3600 },
        categories: { social: { limit: 3, windowSeconds: 600 } },
      },
    };
    // Act
    const p = parsePreferences(body, 'acme', 'alice', NOW);
    // Assess
    expect(p).toEqual({ tenantId: 'acme', userId: 'alice', updatedAt: NOW, ...body });
  });

  it('fills the defaults for an empty body', () => {
    // Act
    const p = parsePreferences({}, 'acme', 'alice', NOW);
    // Assess
    expect(p).toEqual({
      tenantId: 'acme',
      userId: 'alice',
      timezone: 'UTC',
      consent: {},
      channels: {},
      categories: {},
      updatedAt: NOW,
    });
  });

  it('copies the input, so later changes to it change nothing', () => {
    // Prepare
    const body = { consent: { push: true }, categories: { social: { push: true } } };
    const p = parsePreferences(body, 'acme', 'alice', NOW);
    // Act
    body.consent.push = false;
    body.categories.social.push = false;
    // Assess
    expect(p.consent).toEqual({ push: true });
    expect(p.categories).toEqual({ social: { push: true } });
  });

  it.each([
    ['a non-object body', [], ['body']],
    ['null', null, ['body']],
    ['an unknown top-level field', { theme: 'dark' }, ['theme']],
    ['an unknown timezone', { timezone: 'Mars/Olympus_Mons' }, ['timezone']],
    ['an offset as timezone', { timezone: '+01:00' }, ['timezone']],
    ['a non-string timezone', { timezone: 1 }, ['timezone']],
    ['a locale that is no language tag', { locale: 'en US' }, ['locale']],
    ['an over-long locale', { locale: `en-${'a1234567-'.repeat(4)}x` }, ['locale']],
    ['an address without a domain', { email: 'alice@' }, ['email']],
    ['an address with a line break', { email: 'alice@example.com\r\nBcc: x@y.z' }, ['email']],
    [
      'an over-long address',
      { email: `${'a'.repeat(64)}@${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(63)}.com` },
      ['email'],
    ],
    ['an over-long local part', { email: `${'a'.repeat(65)}@example.com` }, ['email']],
    ['an empty address', { email: '' }, ['email']],
    ['consent that is not an object', { consent: true }, ['consent']],
    ['consent for an unknown channel', { consent: { sms: true } }, ['consent.sms']],
    ['consent that is not a boolean', { consent: { push: 'yes' } }, ['consent.push']],
    ['a channel switch that is not a boolean', { channels: { email: 1 } }, ['channels.email']],
    ['an unknown category', { categories: { promo: { push: false } } }, ['categories.promo']],
    ['a category that is not an object', { categories: { social: false } }, ['categories.social']],
    [
      'an unknown channel in a category',
      { categories: { social: { fax: false } } },
      ['categories.social.fax'],
    ],
    ['quiet hours that are not an object', { quietHours: '22:00-07:00' }, ['quietHours']],
    ['quiet hours without an end', { quietHours: { start: '22:00' } }, ['quietHours.end']],
    ['a start of 24:00', { quietHours: { start: '24:00', end: '07:00' } }, ['quietHours.start']],
    [
      'an unknown quiet-hours field',
      { quietHours: { start: '22:00', end: '07:00', tz: 'UTC' } },
      ['quietHours.tz'],
    ],
    [
      'actions that are not an object',
      { quietHours: { start: '22:00', end: '07:00', actions: [] } },
      ['quietHours.actions'],
    ],
    ['frequency caps that are not an object', { frequencyCaps: 5 }, ['frequencyCaps']],
    [
      'a cap of zero and a window over a week',
      { frequencyCaps: { push: { limit: 0, windowSeconds: 604_801 } } },
      ['frequencyCaps.push.limit', 'frequencyCaps.push.windowSeconds'],
    ],
    [
      'a cap on critical pushes',
      { frequencyCaps: { categories: { critical: { limit: 1, windowSeconds: 60 } } } },
      ['frequencyCaps.categories.critical'],
    ],
    [
      'an unknown cap field',
      { frequencyCaps: { email: { limit: 1, windowSeconds: 60 } } },
      ['frequencyCaps.email'],
    ],
    [
      'an unknown action',
      { quietHours: { start: '22:00', end: '07:00', actions: { social: 'drop' } } },
      ['quietHours.actions.social'],
    ],
    [
      'an action for an unknown category',
      { quietHours: { start: '22:00', end: '07:00', actions: { promo: 'defer' } } },
      ['quietHours.actions.promo'],
    ],
  ])('rejects %s', (_name, body, paths) => {
    expect(issuePaths(() => parsePreferences(body, 'acme', 'alice', NOW))).toEqual(paths);
  });

  it('accepts an address exactly at the length limits', () => {
    // Prepare: a 64-char local part, 254 chars in all
    const email = `${'a'.repeat(64)}@${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(57)}.com`;
    // Act
    const p = parsePreferences({ email }, 'acme', 'alice', NOW);
    // Assess
    expect(email).toHaveLength(254);
    expect(p.email).toBe(email);
  });

  it('lists every problem of a body in one error', () => {
    // Prepare
    const body = { timezone: 'Nowhere', email: 'nope', consent: { push: 1 }, extra: true };
    // Act
    const paths = issuePaths(() => parsePreferences(body, 'acme', 'alice', NOW));
    // Assess
    expect(paths.sort()).toEqual(['consent.push', 'email', 'extra', 'timezone']);
  });

  it('rejects a tenant or user id that breaks the id rules', () => {
    expect(issuePaths(() => parsePreferences({}, 'ac me', '', NOW))).toEqual(['tenantId', 'userId']);
  });

  it('never echoes a rejected address in the error', () => {
    // Act
    let message = '';
    try {
      parsePreferences({ email: 'alice.secret@@example.com' }, 'acme', 'alice', NOW);
    } catch (err) {
      message = (err as Error).message;
    }
    // Assess
    expect(message).toContain('email');
    expect(message).not.toContain('alice.secret');
  });

  it('throws nothing but ValidationError on random junk, and returns only what decideDelivery takes', () => {
    const switches = fc.dictionary(
      fc.constantFrom('push', 'email', 'sms'),
      fc.oneof(fc.boolean(), fc.anything()),
    );
    const bodyLike = fc.record(
      {
        timezone: fc.oneof(fc.constantFrom('UTC', 'Europe/Paris', 'nowhere'), fc.anything()),
        locale: fc.oneof(fc.constantFrom('en', 'fr-CA'), fc.string()),
        email: fc.oneof(fc.emailAddress(), fc.string()),
        consent: switches,
        channels: switches,
        categories: fc.dictionary(fc.constantFrom('social', 'content', 'critical', 'other'), switches),
        quietHours: fc.record(
          {
            start: fc.oneof(fc.constantFrom('22:00', '07:00'), fc.string()),
            end: fc.oneof(fc.constantFrom('06:30', '22:00'), fc.string()),
            actions: fc.dictionary(
              fc.constantFrom('social', 'mention', 'x'),
              fc.constantFrom('suppress', 'defer', 'y'),
            ),
          },
          { requiredKeys: [] },
        ),
        junk: fc.anything(),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(fc.oneof(fc.anything(), bodyLike), (input) => {
        // Act
        let parsed: Preferences | undefined;
        try {
          parsed = parsePreferences(input, 'acme', 'alice', NOW);
        } catch (err) {
          // Assess
          expect(err).toBeInstanceOf(ValidationError);
          return;
        }
        for (const channel of ['push', 'email'] as const) {
          expect(() => decideDelivery(parsed, channel, 'social', PARIS_NIGHT)).not.toThrow();
        }
      }),
      { numRuns: 1000 },
    );
  });
});
