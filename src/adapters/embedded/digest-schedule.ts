import type { StatementSync } from 'node:sqlite';
import type { DigestCadence } from '../../domain/email-digest.ts';
import type { DigestEntry, DigestSchedule } from '../../ports/digest-schedule.ts';
import { checkDigestEntries, checkDueQuery } from '../checks/digest-schedule.ts';
import type { EmbeddedDb } from './db.ts';
import { storeStep } from './store-step.ts';

export interface EmbeddedDigestScheduleOptions {
  readonly db: EmbeddedDb;
}

interface Row {
  tenant_id: string;
  user_id: string;
  cadence: DigestCadence;
  period_start: number;
  due_at: number;
}

/**
 * Pending email digests on SQLite: one row per (tenant, user, cadence, due time), and an index on
 * the due time, so `due` reads only what is due, earliest first.
 */
export class EmbeddedDigestSchedule implements DigestSchedule {
  readonly #db: EmbeddedDb;
  readonly #s: Record<'add' | 'due' | 'done', StatementSync>;

  constructor(opts: EmbeddedDigestScheduleOptions) {
    this.#db = opts.db;
    const sqlite = opts.db.sqlite;
    this.#s = storeStep('digest schedule setup', () => {
      sqlite.exec(`
        CREATE TABLE IF NOT EXISTS digest_schedule (
          tenant_id TEXT NOT NULL,
          user_id TEXT NOT NULL,
          cadence TEXT NOT NULL,
          due_at INTEGER NOT NULL,
          period_start INTEGER NOT NULL,
          PRIMARY KEY (tenant_id, user_id, cadence, due_at)
        ) WITHOUT ROWID;
        CREATE INDEX IF NOT EXISTS digest_schedule_due ON digest_schedule (due_at);
      `);
      return {
        add: sqlite.prepare(
          `INSERT INTO digest_schedule (tenant_id, user_id, cadence, due_at, period_start)
           VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`,
        ),
        due: sqlite.prepare(
          `SELECT tenant_id, user_id, cadence, period_start, due_at FROM digest_schedule
           WHERE due_at <= ? ORDER BY due_at, tenant_id, user_id, cadence LIMIT ?`,
        ),
        done: sqlite.prepare(
          'DELETE FROM digest_schedule WHERE tenant_id = ? AND user_id = ? AND cadence = ? AND due_at = ?',
        ),
      };
    });
  }

  async add(entries: readonly DigestEntry[]): Promise<void> {
    checkDigestEntries(entries);
    if (entries.length === 0) return;
    storeStep('digest schedule add', () =>
      this.#db.transaction(() => {
        for (const e of entries) this.#s.add.run(e.tenantId, e.userId, e.cadence, e.dueAt, e.periodStart);
      }),
    );
  }

  async due(now: number, limit: number): Promise<DigestEntry[]> {
    checkDueQuery(now, limit);
    const rows = storeStep('digest schedule due', () => this.#s.due.all(now, limit) as unknown as Row[]);
    return rows.map((r) => ({
      tenantId: r.tenant_id,
      userId: r.user_id,
      cadence: r.cadence,
      periodStart: Number(r.period_start),
      dueAt: Number(r.due_at),
    }));
  }

  async done(entries: readonly DigestEntry[]): Promise<void> {
    checkDigestEntries(entries);
    if (entries.length === 0) return;
    storeStep('digest schedule done', () =>
      this.#db.transaction(() => {
        for (const e of entries) this.#s.done.run(e.tenantId, e.userId, e.cadence, e.dueAt);
      }),
    );
  }
}
