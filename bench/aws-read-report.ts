import type { InboxReadCost, ReaderCost } from './aws-read-cost.ts';
import type { BenchReport } from './support.ts';

/** Inbox reads cost no more than this per call, whatever the number of celebrities followed. */
const READ_GOALS = { requests: 5, readUnits: 25 } as const;

/**
 * Adds what an inbox open (a 20-item page) and an unread count cost per call at each number of
 * celebrities followed, and what catching up cost, per unread mode.
 */
export function withReadCosts(
  base: BenchReport,
  costs: Readonly<Record<'gsi' | 'counter', readonly ReaderCost[]>>,
  opts: InboxReadCost['options'],
): BenchReport {
  const figures: Record<string, number> = { ...base.figures };
  const goals = [...base.goals];
  const notes: string[] = [];
  for (const [mode, readers] of Object.entries(costs)) {
    for (const r of readers) {
      const at = `at_${r.celebrities}`;
      for (const [call, cost] of [
        ['open', r.open],
        ['count', r.count],
      ] as const) {
        figures[`${mode}_${call}_requests_${at}`] = cost.requests;
        figures[`${mode}_${call}_read_units_${at}`] = cost.readUnits;
        goals.push(
          { figure: `${mode}_${call}_requests_${at}`, op: '<=', value: READ_GOALS.requests },
          { figure: `${mode}_${call}_read_units_${at}`, op: '<=', value: READ_GOALS.readUnits },
        );
        notes.push(
          `  ${mode}, ${r.celebrities} celebrities, ${call}: ${cost.requests.toFixed(2)} requests (${describe(cost.byCommand)}), ${cost.readUnits.toFixed(2)} read units, ${cost.writeUnits.toFixed(2)} write units`,
        );
      }
      const c = r.catchUp;
      notes.push(
        `  ${mode}, ${r.celebrities} celebrities, first catch-up: ${c.scanned} log entries read, ${c.materialised} pointers copied; ${c.requests} requests, ${c.readUnits.toFixed(1)} read units, ${c.writeUnits.toFixed(1)} write units`,
      );
    }
    // The largest reader copies every pointer; the smallest mostly reads past other readers' ones.
    const copier = readers.at(-1)!.catchUp;
    const scanner = readers[0]!.catchUp;
    figures[`${mode}_catch_up_read_units_per_pointer`] = copier.readUnits / copier.materialised;
    figures[`${mode}_catch_up_write_units_per_pointer`] = copier.writeUnits / copier.materialised;
    figures[`${mode}_catch_up_read_units_per_1000_arrivals`] = (scanner.readUnits * 1000) / scanner.scanned;
    figures[`${mode}_catch_up_requests_per_1000_arrivals`] = (scanner.requests * 1000) / scanner.scanned;
  }
  return {
    ...base,
    figures,
    goals,
    settings: {
      ...base.settings,
      read_cost_readers: opts.celebrities.join(', '),
      read_cost_rows_per_reader: opts.rows,
      read_cost_pointers_per_celebrity: opts.pointersPerCelebrity,
      read_cost_calls_measured: opts.reads,
    },
    notes: [
      ...(base.notes ?? []),
      '',
      "Inbox reads per call, steady state (after each reader's first catch-up, nothing new in the log):",
      `an open is one 20-item page (readInbox), a count one unreadCount; readers of one tenant follow ${opts.celebrities.join(' and ')}`,
      `celebrities, ${opts.pointersPerCelebrity} pointers each, ${opts.rows} rows of their own (a third read, a watermark 15 days back).`,
      ...notes,
      'Catch-up per pointer: the reader of the most celebrities, who copies every pointer in. Per 1,000',
      'arrivals: the reader of the fewest, who reads past most of the log (1 read unit per distinct author',
      'it asks the graph about, besides the log itself).',
    ],
  };
}

function describe(byCommand: Readonly<Record<string, number>>): string {
  return Object.entries(byCommand)
    .map(([k, v]) => `${k.replace('dynamodb:', '')} ${Number.isInteger(v) ? v : v.toFixed(2)}`)
    .join(', ');
}
