import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A goal a figure is compared with. Benchmarks report it; they never fail on it. */
export interface Goal {
  readonly figure: string;
  readonly op: '>=' | '<' | '<=' | '==';
  readonly value: number;
}

/** What one benchmark run found. */
export interface BenchReport {
  readonly name: string;
  /** The measured figures: positive finite numbers. */
  readonly figures: Readonly<Record<string, number>>;
  /** How it was measured: sizes, batch sizes, thresholds. */
  readonly settings: Readonly<Record<string, string | number | boolean>>;
  readonly goals: readonly Goal[];
  /** Lines printed under the table (e.g. a per-stage breakdown). */
  readonly notes?: readonly string[];
}

/** A goal with whether the figure met it. */
export interface GoalCheck extends Goal {
  readonly actual: number;
  readonly met: boolean;
}

/** Runs `fn` with a fresh temporary directory, removed afterwards whatever happens. */
export async function withTempDir<T>(prefix: string, fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), `fanout-bench-${prefix}-`));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Median of a non-empty list. */
export function median(values: readonly number[]): number {
  if (values.length === 0) throw new RangeError('median of nothing');
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Nearest-rank percentile (0 < p ≤ 100) of an ascending list. */
export function percentile(sorted: readonly number[], p: number): number {
  if (sorted.length === 0) throw new RangeError('percentile of nothing');
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

/** Milliseconds `fn` took, and what it returned. */
export async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const start = performance.now();
  const value = await fn();
  return { ms: performance.now() - start, value };
}

export function checkGoals(report: BenchReport): GoalCheck[] {
  return report.goals.map((goal) => {
    const actual = report.figures[goal.figure] ?? Number.NaN;
    const met =
      goal.op === '>='
        ? actual >= goal.value
        : goal.op === '<='
          ? actual <= goal.value
          : goal.op === '=='
            ? actual === goal.value
            : actual < goal.value;
    return { ...goal, actual, met };
  });
}

/** The one JSON object `--json` prints: `{name, ...figures, settings, goals}`. */
export function reportJson(report: BenchReport): string {
  return JSON.stringify({
    name: report.name,
    ...report.figures,
    settings: report.settings,
    goals: checkGoals(report),
  });
}

/** A readable table of the figures, each beside its goal, then the settings and notes. */
export function reportTable(report: BenchReport): string {
  const goals = new Map(checkGoals(report).map((g) => [g.figure, g]));
  const rows: string[][] = [['figure', 'value', 'goal', '']];
  for (const [figure, value] of Object.entries(report.figures)) {
    const goal = goals.get(figure);
    rows.push([
      figure,
      formatNumber(value),
      goal ? `${goal.op} ${formatNumber(goal.value)}` : '',
      goal ? (goal.met ? 'met' : 'NOT met') : '',
    ]);
  }
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  const line = (r: readonly string[]) =>
    r
      .map((cell, c) => (c === 1 ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!)))
      .join('  ')
      .trimEnd();
  const out = [`benchmark: ${report.name}`, '', line(rows[0]!), line(widths.map((w) => '-'.repeat(w)))];
  for (const r of rows.slice(1)) out.push(line(r));
  out.push('', 'settings:');
  for (const [key, value] of Object.entries(report.settings)) out.push(`  ${key}: ${value}`);
  if (report.notes && report.notes.length > 0) out.push('', ...report.notes);
  return out.join('\n');
}

function formatNumber(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (Math.abs(value) >= 1000) return Math.round(value).toLocaleString('en-US');
  if (Math.abs(value) >= 10) return value.toFixed(1);
  return value.toFixed(3);
}

/** Lets timers and I/O run between measured runs. */
export function yieldToLoop(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}
