/**
 * The parts of a V8 `.cpuprofile` this summary reads. `| undefined` as in node:inspector's own
 * type, which it must accept.
 */
interface CpuProfile {
  readonly nodes: readonly {
    readonly id: number;
    readonly callFrame: { readonly functionName: string; readonly url: string };
    readonly children?: readonly number[] | undefined;
  }[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/** Main-thread time spent in one project file, including the runtime and native code it called. */
export interface FileCost {
  readonly file: string;
  readonly ms: number;
  readonly share: number;
}

/** Outside any project file: idle time, the garbage collector, the runtime's own bookkeeping. */
const OUTSIDE = '(runtime, gc, idle)';

/** Shared helpers whose time belongs to the adapter that called them (a commit, a store step). */
const PASS_THROUGH: ReadonlySet<string> = new Set([
  'src/adapters/embedded/db.ts',
  'src/adapters/embedded/store-step.ts',
]);

/**
 * Attributes every sample of a CPU profile to the innermost project file on its stack (a file
 * under src/ or bench/), so time in node:sqlite, crypto or JSON counts for the code that asked for
 * it: per file, that is the cost of one pipeline stage. The shared SQLite helpers pass their time
 * on to the adapter that called them.
 */
export function costByFile(profile: CpuProfile): FileCost[] {
  const parent = new Map<number, number>();
  const url = new Map<number, string>();
  for (const node of profile.nodes) {
    url.set(node.id, node.callFrame.url);
    for (const child of node.children ?? []) parent.set(child, node.id);
  }
  const owner = new Map<number, string>();
  const ownerOf = (id: number): string => {
    const known = owner.get(id);
    if (known !== undefined) return known;
    const file = projectFile(url.get(id) ?? '');
    const parentId = parent.get(id);
    const found = file ?? (parentId === undefined ? OUTSIDE : ownerOf(parentId));
    owner.set(id, found);
    return found;
  };
  const micros = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    const file = ownerOf(id);
    micros.set(file, (micros.get(file) ?? 0) + dt);
    total += dt;
  });
  return [...micros]
    .map(([file, us]) => ({ file, ms: us / 1000, share: total > 0 ? us / total : 0 }))
    .sort((a, b) => b.ms - a.ms);
}

function projectFile(fileUrl: string): string | undefined {
  const file = /\/((?:src|bench)\/[^?#]+\.ts)$/.exec(fileUrl)?.[1];
  return file === undefined || PASS_THROUGH.has(file) ? undefined : file;
}

/** The per-file table, top `limit` rows. */
export function costTable(costs: readonly FileCost[], limit = 25): string {
  const rows = costs.slice(0, limit);
  const width = Math.max(4, ...rows.map((r) => r.file.length));
  const lines = [`${'file'.padEnd(width)}  ${'ms'.padStart(9)}  share`];
  for (const r of rows) {
    lines.push(
      `${r.file.padEnd(width)}  ${r.ms.toFixed(0).padStart(9)}  ${(r.share * 100).toFixed(1).padStart(5)}%`,
    );
  }
  return lines.join('\n');
}

/**
 * Runs `fn` under the V8 sampling profiler when `enabled`, and returns its result with the cost
 * per project file of that span only (set-up and seeding stay out of the profile).
 */
export async function profiled<T>(
  enabled: boolean,
  fn: () => Promise<T>,
): Promise<{ value: T; costs?: FileCost[] }> {
  if (!enabled) return { value: await fn() };
  const { Session } = await import('node:inspector/promises');
  const session = new Session();
  session.connect();
  try {
    await session.post('Profiler.enable');
    await session.post('Profiler.start');
    const value = await fn();
    const { profile } = await session.post('Profiler.stop');
    return {
      value,
      costs: costByFile({ ...profile, samples: profile.samples ?? [], timeDeltas: profile.timeDeltas ?? [] }),
    };
  } finally {
    session.disconnect();
  }
}
