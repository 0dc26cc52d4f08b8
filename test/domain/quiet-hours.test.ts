import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ValidationError } from '../../src/domain/errors.ts';
import {
  isValidTimezone,
  parseClockTime,
  type QuietDecision,
  quietHoursDecision,
} from '../../src/domain/quiet-hours.ts';
import type { Category, QuietHours } from '../../src/domain/types.ts';

const NIGHT: QuietHours = { start: '22:00', end: '07:00' };

/** Epoch ms of an ISO date-time with an explicit offset. */
function at(iso: string): number {
  const t = Date.parse(iso);
  if (Number.isNaN(t)) throw new Error(`bad fixture time ${iso}`);
  return t;
}

/** The decision with `until` as an ISO string, so failures read as times. */
function decide(qh: QuietHours | undefined, timezone: string, now: string, category: Category = 'social') {
  const d: QuietDecision = quietHoursDecision(qh, timezone, category, at(now));
  return d.kind === 'defer' ? { kind: d.kind, until: new Date(d.until).toISOString() } : d;
}

afterEach(() => {
  vi.restoreAllMocks();
});

describe('quietHoursDecision', () => {
  it.each([
    ['23:30, after the start', '2026-01-15T23:30+01:00', '2026-01-16T06:00:00.000Z'],
    ['22:00, the start itself', '2026-01-15T22:00+01:00', '2026-01-16T06:00:00.000Z'],
    ['06:59, after midnight', '2026-01-16T06:59+01:00', '2026-01-16T06:00:00.000Z'],
    ['00:00, midnight', '2026-01-16T00:00+01:00', '2026-01-16T06:00:00.000Z'],
  ])('defers until 07:00 local inside a 22:00–07:00 window at %s', (_name, now, until) => {
    // Act
    const decision = decide(NIGHT, 'Europe/Paris', now);
    // Assess
    expect(decision).toEqual({ kind: 'defer', until });
  });

  it.each([
    ['07:00, the end itself', '2026-01-16T07:00+01:00'],
    ['21:59, just before the start', '2026-01-15T21:59+01:00'],
    ['12:00, midday', '2026-01-15T12:00+01:00'],
  ])('sends outside a 22:00–07:00 window at %s', (_name, now) => {
    // Act
    const decision = decide(NIGHT, 'Europe/Paris', now);
    // Assess
    expect(decision).toEqual({ kind: 'send' });
  });

  it('applies a window that does not cross midnight only between its ends', () => {
    // Prepare
    const lunch: QuietHours = { start: '12:00', end: '14:00' };
    // Act
    const before = decide(lunch, 'UTC', '2026-01-15T11:59Z');
    const inside = decide(lunch, 'UTC', '2026-01-15T13:15Z');
    const after = decide(lunch, 'UTC', '2026-01-15T14:00Z');
    // Assess
    expect(before).toEqual({ kind: 'send' });
    expect(inside).toEqual({ kind: 'defer', until: '2026-01-15T14:00:00.000Z' });
    expect(after).toEqual({ kind: 'send' });
  });

  it('has no window when start equals end', () => {
    // Act
    const decision = decide({ start: '08:00', end: '08:00' }, 'UTC', '2026-01-15T08:00Z');
    // Assess
    expect(decision).toEqual({ kind: 'send' });
  });

  it('sends when the user has no quiet hours', () => {
    expect(decide(undefined, 'UTC', '2026-01-15T23:00Z')).toEqual({ kind: 'send' });
  });

  it('suppresses instead of deferring for a category whose action is suppress', () => {
    // Prepare
    const qh: QuietHours = { ...NIGHT, actions: { social: 'suppress' } };
    // Act
    const social = decide(qh, 'UTC', '2026-01-15T23:00Z', 'social');
    const content = decide(qh, 'UTC', '2026-01-15T23:00Z', 'content');
    // Assess
    expect(social).toEqual({ kind: 'suppress' });
    expect(content).toEqual({ kind: 'defer', until: '2026-01-16T07:00:00.000Z' });
  });

  it('always sends critical, whatever the window and its actions say', () => {
    // Prepare
    const qh: QuietHours = { start: '00:00', end: '23:59', actions: { critical: 'suppress' } };
    // Act
    const decision = decide(qh, 'Europe/Paris', '2026-01-15T12:00+01:00', 'critical');
    // Assess
    expect(decision).toEqual({ kind: 'send' });
  });

  describe('Europe/Paris on its DST change days', () => {
    it('ends a window whose end is skipped by the spring forward at 03:00 CEST', () => {
      // Prepare: on 2026-03-29 the clocks jump from 02:00 CET to 03:00 CEST; 02:30 never happens.
      const qh: QuietHours = { start: '22:00', end: '02:30' };
      // Act
      const evening = decide(qh, 'Europe/Paris', '2026-03-28T23:00+01:00');
      const lastMinute = decide(qh, 'Europe/Paris', '2026-03-29T01:59+01:00');
      const afterJump = decide(qh, 'Europe/Paris', '2026-03-29T03:00+02:00');
      // Assess
      expect(evening).toEqual({ kind: 'defer', until: '2026-03-29T01:00:00.000Z' });
      expect(lastMinute).toEqual({ kind: 'defer', until: '2026-03-29T01:00:00.000Z' });
      expect(afterJump).toEqual({ kind: 'send' });
    });

    it('ends a window after the spring forward at the new offset', () => {
      // Act
      const decision = decide({ start: '22:00', end: '03:30' }, 'Europe/Paris', '2026-03-28T23:00+01:00');
      // Assess: 03:30 CEST
      expect(decision).toEqual({ kind: 'defer', until: '2026-03-29T01:30:00.000Z' });
    });

    it('ends a window at the first 02:30 of the fall back, and does not reopen it at the second', () => {
      // Prepare: on 2026-10-25 the clocks go back from 03:00 CEST to 02:00 CET; 02:00–03:00 happens twice.
      const qh: QuietHours = { start: '22:00', end: '02:30' };
      // Act
      const evening = decide(qh, 'Europe/Paris', '2026-10-24T23:00+02:00');
      const firstPass = decide(qh, 'Europe/Paris', '2026-10-25T02:40+02:00');
      const secondPass = decide(qh, 'Europe/Paris', '2026-10-25T02:10+01:00');
      // Assess
      expect(evening).toEqual({ kind: 'defer', until: '2026-10-25T00:30:00.000Z' });
      expect(firstPass).toEqual({ kind: 'send' });
      expect(secondPass).toEqual({ kind: 'send' });
    });

    it('keeps a window ending at 03:00 closed through both passes of the repeated hour', () => {
      // Prepare
      const qh: QuietHours = { start: '22:00', end: '03:00' };
      // Act
      const firstPass = decide(qh, 'Europe/Paris', '2026-10-25T02:40+02:00');
      const secondPass = decide(qh, 'Europe/Paris', '2026-10-25T02:10+01:00');
      // Assess: 03:00 CET, the only 03:00 of the day
      expect(firstPass).toEqual({ kind: 'defer', until: '2026-10-25T02:00:00.000Z' });
      expect(secondPass).toEqual({ kind: 'defer', until: '2026-10-25T02:00:00.000Z' });
    });
  });

  describe('America/New_York on its DST change days', () => {
    it('ends a window whose end is skipped by the spring forward at 03:00 EDT', () => {
      // Prepare: on 2026-03-08 the clocks jump from 02:00 EST to 03:00 EDT.
      const qh: QuietHours = { start: '23:00', end: '02:30' };
      // Act
      const decision = decide(qh, 'America/New_York', '2026-03-08T01:00-05:00');
      // Assess
      expect(decision).toEqual({ kind: 'defer', until: '2026-03-08T07:00:00.000Z' });
    });

    it('ends a window at the first 01:30 of the fall back', () => {
      // Prepare: on 2026-11-01 the clocks go back from 02:00 EDT to 01:00 EST.
      const qh: QuietHours = { start: '22:00', end: '01:30' };
      // Act
      const evening = decide(qh, 'America/New_York', '2026-10-31T23:00-04:00');
      const repeatedHour = decide(qh, 'America/New_York', '2026-11-01T01:10-05:00');
      // Assess
      expect(evening).toEqual({ kind: 'defer', until: '2026-11-01T05:30:00.000Z' });
      expect(repeatedHour).toEqual({ kind: 'send' });
    });
  });

  describe('odd offsets', () => {
    it('ends a window in Asia/Kathmandu (+05:45) at local 07:00', () => {
      // Act
      const decision = decide(NIGHT, 'Asia/Kathmandu', '2026-01-15T23:00+05:45');
      // Assess
      expect(decision).toEqual({ kind: 'defer', until: '2026-01-16T01:15:00.000Z' });
    });

    it('follows Australia/Lord_Howe’s 30-minute spring forward, half-way through a UTC hour', () => {
      // Prepare: on 2026-10-04 the clocks jump from 02:00 (+10:30) to 02:30 (+11:00), at 15:30 UTC.
      const qh: QuietHours = { start: '22:00', end: '02:15' };
      // Act
      const decision = decide(qh, 'Australia/Lord_Howe', '2026-10-03T23:00+10:30');
      const justBefore = decide({ start: '01:00', end: '03:00' }, 'Australia/Lord_Howe', '2026-10-03T15:29Z');
      // Assess
      expect(decision).toEqual({ kind: 'defer', until: '2026-10-03T15:30:00.000Z' });
      expect(justBefore).toEqual({ kind: 'defer', until: '2026-10-03T16:00:00.000Z' });
    });

    it('follows Australia/Lord_Howe’s 30-minute fall back', () => {
      // Prepare: on 2026-04-05 the clocks go back from 02:00 (+11:00) to 01:30 (+10:30).
      const qh: QuietHours = { start: '22:00', end: '01:45' };
      // Act
      const evening = decide(qh, 'Australia/Lord_Howe', '2026-04-04T23:00+11:00');
      const repeated = decide(qh, 'Australia/Lord_Howe', '2026-04-05T01:35+10:30');
      // Assess
      expect(evening).toEqual({ kind: 'defer', until: '2026-04-04T14:45:00.000Z' });
      expect(repeated).toEqual({ kind: 'send' });
    });
  });

  it('rejects an unknown timezone when a window applies', () => {
    // Act, Assess
    expect(() => quietHoursDecision(NIGHT, 'Mars/Olympus_Mons', 'social', at('2026-01-15T23:00Z'))).toThrow(
      ValidationError,
    );
  });

  it('rejects a malformed window', () => {
    // Act, Assess
    expect(() =>
      quietHoursDecision({ start: '22:00', end: '7:00' }, 'UTC', 'social', at('2026-01-15T23:00Z')),
    ).toThrow(ValidationError);
  });

  it('formats nothing for further decisions within an hour it has seen', () => {
    // Prepare
    const base = at('2026-02-10T22:00+01:00');
    quietHoursDecision(NIGHT, 'Europe/Paris', 'social', base);
    const formatting = vi.spyOn(Intl.DateTimeFormat.prototype, 'formatToParts');
    // Act
    for (let minute = 0; minute < 60; minute++) {
      quietHoursDecision(NIGHT, 'Europe/Paris', 'social', base + minute * 60_000);
    }
    // Assess
    expect(formatting).not.toHaveBeenCalled();
  });

  it('agrees with the wall clock, and defers only to the window’s end', () => {
    const zones = ['Europe/Paris', 'America/New_York', 'Australia/Lord_Howe', 'Asia/Kathmandu', 'UTC'];
    const clock = fc
      .tuple(fc.integer({ min: 0, max: 23 }), fc.integer({ min: 0, max: 59 }))
      .map(([h, m]) => `${String(h).padStart(2, '0')}:${String(m).padStart(2, '0')}`);
    fc.assert(
      fc.property(
        fc.constantFrom(...zones),
        clock,
        clock,
        fc.integer({ min: at('2024-01-01T00:00Z'), max: at('2030-01-01T00:00Z') }),
        (timezone, start, end, now) => {
          // Act
          const decision = quietHoursDecision({ start, end }, timezone, 'social', now);
          // Assess, against Intl directly
          const local = wallClock(timezone, now);
          const inside =
            start < end ? local >= start && local < end : start > end && (local >= start || local < end);
          if (decision.kind === 'defer') {
            expect(inside).toBe(true);
            expect(decision.until).toBeGreaterThan(now);
            expect(decision.until - now).toBeLessThanOrEqual(25 * 3_600_000);
            const endsAtEnd = wallClock(timezone, decision.until) === end;
            const endsAtGap =
              utcOffset(timezone, decision.until - 1000) !== utcOffset(timezone, decision.until);
            expect(endsAtEnd || endsAtGap).toBe(true);
          } else {
            expect(decision.kind).toBe('send');
            // Inside by the wall clock yet sent: only in a repeated hour, after the end's first pass.
            if (inside) expect(utcOffset(timezone, now - 3 * 3_600_000)).not.toBe(utcOffset(timezone, now));
          }
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe('isValidTimezone', () => {
  it.each(['UTC', 'Europe/Paris', 'Asia/Kathmandu', 'America/Argentina/Buenos_Aires', 'Etc/GMT+5'])(
    'accepts %s',
    (timezone) => {
      expect(isValidTimezone(timezone)).toBe(true);
    },
  );

  it.each([
    '',
    'Mars/Olympus_Mons',
    '+05:30',
    'Europe/',
    '/Paris',
    `Europe/${'x'.repeat(80)}`,
    'Europe/Paris\n',
  ])('rejects %j', (timezone) => {
    expect(isValidTimezone(timezone)).toBe(false);
  });

  it.each([undefined, null, 42, {}])('rejects the non-string %j', (timezone) => {
    expect(isValidTimezone(timezone as unknown as string)).toBe(false);
  });
});

describe('parseClockTime', () => {
  it.each([
    ['00:00', 0],
    ['07:05', 425],
    ['23:59', 1439],
  ])('reads %s as minute %i of the day', (value, minutes) => {
    expect(parseClockTime(value)).toBe(minutes);
  });

  it.each(['24:00', '7:00', '07:60', '', '07:5', '0700', ' 07:00', '07:00 ', '07-00', '٠٧:٠٠', 'ab:cd'])(
    'rejects %j',
    (value) => {
      expect(() => parseClockTime(value)).toThrow(ValidationError);
    },
  );

  it.each([undefined, null, 700, ['07:00']])('rejects the non-string %j', (value) => {
    expect(() => parseClockTime(value as unknown as string)).toThrow(ValidationError);
  });
});

const wallClocks = new Map<string, Intl.DateTimeFormat>();
const offsetNames = new Map<string, Intl.DateTimeFormat>();

/** "HH:MM" of instant `t` in `timezone`, straight from Intl. */
function wallClock(timezone: string, t: number): string {
  let format = wallClocks.get(timezone);
  if (format === undefined) {
    format = new Intl.DateTimeFormat('en-GB', {
      timeZone: timezone,
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    });
    wallClocks.set(timezone, format);
  }
  return format.format(t);
}

/** The offset name Intl gives at `t` ("GMT+01:00"), enough to see that it changed. */
function utcOffset(timezone: string, t: number): string {
  let format = offsetNames.get(timezone);
  if (format === undefined) {
    format = new Intl.DateTimeFormat('en-US', { timeZone: timezone, timeZoneName: 'longOffset' });
    offsetNames.set(timezone, format);
  }
  return format.formatToParts(t).find((p) => p.type === 'timeZoneName')!.value;
}
