/** Where long steps report how far they got. */
export interface Reporter {
  /** Whether anything is shown at all: progress that nobody sees is not worth reading. */
  readonly live: boolean;
  /** A step begins (one plain line in trace mode). */
  phase(name: string): void;
  /** A progress bar for one step; `total` 0 when unknown. */
  bar(label: string, total: number): ProgressBar;
}

export interface ProgressBar {
  update(done: number, total?: number): void;
  end(): void;
}

export interface ReporterOptions {
  readonly write: (text: string) => void;
  /** Draw bars (stderr is a terminal). */
  readonly tty: boolean;
  /** Plain lines per phase and per progress step, for logs and tests (FANOUT_DEMO_TRACE=1). */
  readonly trace: boolean;
  /** @default 'demo' */
  readonly prefix?: string;
  /** Milliseconds between redraws. @default 100 (bars), 250 (trace lines) */
  readonly intervalMs?: number;
  /** @default performance.now */
  readonly now?: () => number;
}

const WIDTH = 28;

/**
 * Progress on stderr: a bar redrawn in place on a terminal, plain lines in trace mode, nothing
 * otherwise (stdout carries only command output).
 */
export function createReporter(opts: ReporterOptions): Reporter {
  const prefix = opts.prefix ?? 'demo';
  const now = opts.now ?? (() => performance.now());
  const interval = opts.intervalMs ?? (opts.tty ? 100 : 250);
  return {
    live: opts.tty || opts.trace,
    phase(name) {
      if (opts.trace) opts.write(`${prefix}: phase ${name}\n`);
    },
    bar(label, total) {
      if (!opts.tty && !opts.trace) return { update() {}, end() {} };
      let shownAt = Number.NEGATIVE_INFINITY;
      let last = { done: 0, total };
      const draw = (final: boolean) => {
        if (opts.tty) opts.write(`\r${renderBar(label, last.done, last.total)}${final ? '\n' : ''}`);
        else opts.write(`${prefix}: ${label} ${last.done}${last.total > 0 ? `/${last.total}` : ''}\n`);
      };
      return {
        update(done, newTotal) {
          last = { done, total: newTotal ?? last.total };
          const t = now();
          if (t - shownAt < interval) return;
          shownAt = t;
          draw(false);
        },
        end() {
          draw(true);
        },
      };
    },
  };
}

/** `label [#######.......]  45% 4500/10000`, or a count alone when the total is unknown. */
export function renderBar(label: string, done: number, total: number): string {
  if (total <= 0) return `${label} ${done}`;
  const ratio = Math.max(0, Math.min(1, done / total));
  const filled = Math.round(ratio * WIDTH);
  const percent = String(Math.floor(ratio * 100)).padStart(3);
  return `${label} [${'#'.repeat(filled)}${'.'.repeat(WIDTH - filled)}] ${percent}% ${done}/${total}`;
}
