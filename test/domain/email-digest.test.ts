import { describe, expect, it } from 'vitest';
import { parsePreferences } from '../../src/domain/delivery.ts';
import { renderDigest } from '../../src/domain/digest-render.ts';
import { digestKey, digestPeriod, emailCadenceOf } from '../../src/domain/email-digest.ts';
import { ValidationError } from '../../src/domain/errors.ts';
import { nextLocalHour } from '../../src/domain/quiet-hours.ts';
import { SUPPORTED_LOCALES } from '../../src/domain/templates/locales.ts';

const HOUR = 3_600_000;

describe('digestPeriod', () => {
  it('puts an hourly notification in its UTC hour, due at the hour’s end', () => {
    // Act
    const period = digestPeriod('hourly', Date.UTC(2026, 4, 1, 10, 59, 59, 999), 'Asia/Kolkata');
    // Assess
    expect(period).toEqual({
      cadence: 'hourly',
      start: Date.UTC(2026, 4, 1, 10),
      end: Date.UTC(2026, 4, 1, 11),
    });
  });

  it('starts the next hourly period exactly at the boundary', () => {
    expect(digestPeriod('hourly', Date.UTC(2026, 4, 1, 11), 'UTC').start).toBe(Date.UTC(2026, 4, 1, 11));
  });

  it('runs a daily period from the previous local digest hour to the next', () => {
    // Act: 10:00 UTC is 12:00 in Paris (CEST), after 09:00 local.
    const period = digestPeriod('daily', Date.UTC(2026, 4, 1, 10), 'Europe/Paris', 9);
    // Assess
    expect(period).toEqual({
      cadence: 'daily',
      start: Date.UTC(2026, 4, 1, 7),
      end: Date.UTC(2026, 4, 2, 7),
    });
  });

  it('is due the same local day when the digest hour is still ahead, in a zone west of UTC', () => {
    // 2026-05-01 02:00 UTC is 22:00 on 30 April in New York (EDT); the 23:00 digest is an hour off.
    const period = digestPeriod('daily', Date.UTC(2026, 4, 1, 2), 'America/New_York', 23);
    expect(period.end).toBe(Date.UTC(2026, 4, 1, 3));
    expect(period.start).toBe(Date.UTC(2026, 3, 30, 3));
  });

  it('counts 23 hours across a spring-forward and 25 across a fall-back', () => {
    // Paris: clocks go forward on 29 March 2026 and back on 25 October 2026.
    const spring = digestPeriod('daily', Date.UTC(2026, 2, 28, 12), 'Europe/Paris', 9);
    const fall = digestPeriod('daily', Date.UTC(2026, 9, 24, 12), 'Europe/Paris', 9);
    expect(spring).toMatchObject({ start: Date.UTC(2026, 2, 28, 8), end: Date.UTC(2026, 2, 29, 7) });
    expect(spring.end - spring.start).toBe(23 * HOUR);
    expect(fall).toMatchObject({ start: Date.UTC(2026, 9, 24, 7), end: Date.UTC(2026, 9, 25, 8) });
    expect(fall.end - fall.start).toBe(25 * HOUR);
  });

  it('moves a digest hour a spring-forward skips to the end of the gap', () => {
    // New York skips 02:00–03:00 local on 8 March 2026: the 02:00 digest goes at 03:00 EDT (07:00 UTC).
    expect(nextLocalHour('America/New_York', 2, Date.UTC(2026, 2, 8, 5))).toBe(Date.UTC(2026, 2, 8, 7));
  });

  it('sends once, at the first of two, on the hour a fall-back repeats', () => {
    // New York repeats 01:00–02:00 local on 1 November 2026: 01:00 EDT is 05:00 UTC.
    const first = nextLocalHour('America/New_York', 1, Date.UTC(2026, 10, 1, 4));
    const next = nextLocalHour('America/New_York', 1, first);
    expect(first).toBe(Date.UTC(2026, 10, 1, 5));
    expect(next).toBe(Date.UTC(2026, 10, 2, 6));
  });

  it('refuses an unknown timezone', () => {
    expect(() => digestPeriod('daily', 0, 'Mars/Olympus')).toThrow(ValidationError);
  });
});

describe('email cadence preferences', () => {
  it('defaults to immediate, digestHour absent; critical is always immediate', () => {
    const prefs = parsePreferences({ emailCadence: { social: 'daily' } }, 't', 'u', 0);
    expect(emailCadenceOf(prefs, 'social')).toBe('daily');
    expect(emailCadenceOf(prefs, 'content')).toBe('immediate');
    expect(emailCadenceOf({ ...prefs, emailCadence: { critical: 'daily' } as never }, 'critical')).toBe(
      'immediate',
    );
    expect(prefs.digestHour).toBeUndefined();
  });

  it('names every bad field', () => {
    let issues: unknown;
    try {
      parsePreferences(
        { emailCadence: { critical: 'daily', social: 'weekly' }, digestHour: -1 },
        't',
        'u',
        0,
      );
    } catch (err) {
      issues = (err as ValidationError).issues;
    }
    expect(issues).toEqual([
      { path: 'emailCadence.critical', message: expect.stringContaining('always immediate') },
      { path: 'emailCadence.social', message: expect.any(String) },
      { path: 'digestHour', message: expect.any(String) },
    ]);
  });
});

describe('digestKey', () => {
  it('names tenant, user, cadence and period', () => {
    const key = digestKey({
      tenantId: 't',
      userId: 'u',
      cadence: 'daily',
      periodStart: 0,
      dueAt: Date.UTC(2026, 0, 1, 8),
    });
    expect(key).toBe('t#digest#u#daily@2026-01-01T08:00:00.000Z');
  });
});

describe('renderDigest', () => {
  const line = { type: 'comment', actorId: 'bob', category: 'social' as const };
  const subject = (locale: string, total: number) =>
    renderDigest([line], { cadence: 'hourly', locale, total, categories: [{ category: 'social' }] }).subject;

  it('counts in every catalog with the locale’s plural rules', () => {
    expect(SUPPORTED_LOCALES.map((l) => [l, subject(l, 1), subject(l, 2)])).toEqual([
      ['en', '1 new notification', '2 new notifications'],
      ['fr', '1\u00a0nouvelle notification', '2\u00a0nouvelles notifications'],
      ['de', '1 neue Benachrichtigung', '2 neue Benachrichtigungen'],
      ['es', '1 notificación nueva', '2 notificaciones nuevas'],
      ['pt-BR', '1 nova notificação', '2 novas notificações'],
      ['ja', '1件の新しいお知らせ', '2件の新しいお知らせ'],
    ]);
    expect(subject('en', 14_998)).toBe('14,998 new notifications');
    expect(subject('de', 14_998)).toBe('14.998 neue Benachrichtigungen');
    expect(subject('es', 1_000_000)).toBe('1.000.000 notificaciones nuevas');
  });

  it('says how many more wait in the app when the list is cut, and escapes the HTML', () => {
    const email = renderDigest([{ ...line, actorId: '<b>' }], {
      cadence: 'daily',
      total: 13,
      categories: [{ category: 'social', unsubscribeUrl: 'https://x.example/u?token=a&b' }],
    });
    expect(email.text).toContain('and 12 more in the app');
    expect(email.html).toContain('&lt;b&gt;');
    expect(email.html).toContain('href="https://x.example/u?token=a&amp;b"');
    expect(email.html).not.toContain('<b>');
  });
});
