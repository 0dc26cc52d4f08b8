import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * The arrows of docs/architecture.md, checked on every import of `src`: a folder imports only
 * the folders below it, so no dependency runs upward and no layer reaches around another.
 */

const ROOT = resolve(import.meta.dirname, '..');
const SRC = join(ROOT, 'src');

/** Each folder of `src` and the folders it may import (besides itself). */
const MAY_IMPORT: Readonly<Record<string, readonly string[]>> = {
  lib: [],
  domain: ['lib'],
  ports: ['domain', 'lib'],
  adapters: ['ports', 'domain', 'lib'],
  handlers: ['ports', 'domain', 'lib'],
  runtime: ['adapters', 'handlers', 'ports', 'domain', 'lib'],
  http: ['runtime', 'handlers', 'ports', 'domain', 'lib'],
  lambda: ['http', 'runtime', 'adapters', 'handlers', 'ports', 'domain', 'lib'],
  cli: ['http', 'runtime', 'adapters', 'handlers', 'ports', 'domain', 'lib'],
};

/** Node modules that do I/O: a lib file that imports one is not pure, and the domain may not use it. */
const IO_MODULES =
  /^node:(fs|fs\/promises|net|http|https|http2|tls|dgram|child_process|worker_threads|os|sqlite)$/;

interface Source {
  readonly file: string;
  readonly folder: string;
  readonly imports: readonly string[];
}

function sources(dir: string): Source[] {
  const out: Source[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...sources(path));
    else if (entry.name.endsWith('.ts')) {
      const text = readFileSync(path, 'utf8');
      const imports = [...text.matchAll(/^\s*(?:import|export)\b[^'";]*?from\s+'([^']+)'/gms)].map(
        (m) => m[1]!,
      );
      out.push({ file: relative(SRC, path), folder: relative(SRC, path).split('/')[0]!, imports });
    }
  }
  return out;
}

const all = sources(SRC);
const byFile = new Map(all.map((s) => [s.file, s]));
/** The `src`-relative file an import names, or undefined for a package or a node module. */
const target = (from: Source, spec: string) =>
  spec.startsWith('.') ? relative(SRC, resolve(SRC, dirname(from.file), spec)) : undefined;

describe('layers', () => {
  it('keeps src to itself: nothing outside it (tests, fakes, benchmarks) reaches a Lambda bundle', () => {
    const outside = all.flatMap((s) =>
      s.imports
        .map((spec) => target(s, spec))
        .filter((t) => t?.startsWith('..'))
        .map((t) => `${s.file} → ${t}`),
    );
    expect(outside).toEqual([]);
  });

  it('lets the fakes serve tests and benchmarks alike: they import neither', () => {
    const fakes = readdirSync(join(ROOT, 'fakes')).filter((name) => name.endsWith('.ts'));
    const imports = fakes.flatMap((name) =>
      [...readFileSync(join(ROOT, 'fakes', name), 'utf8').matchAll(/from\s+'(\.[^']+)'/g)]
        .map((m) => m[1]!)
        .filter((spec) => !spec.startsWith('./') && !spec.startsWith('../src/'))
        .map((spec) => `fakes/${name} → ${spec}`),
    );
    expect(fakes.length).toBeGreaterThan(0);
    expect(imports).toEqual([]);
  });

  it('has a rule for every folder of src', () => {
    expect([...new Set(all.map((s) => s.folder))].sort()).toEqual(Object.keys(MAY_IMPORT).sort());
  });

  it('imports only downward', () => {
    const upward = all.flatMap((s) =>
      s.imports
        .map((spec) => target(s, spec))
        .filter((t) => t !== undefined)
        .map((t) => ({ from: s.file, to: t, folder: t.split('/')[0]! }))
        .filter(({ folder }) => folder !== s.folder && !MAY_IMPORT[s.folder]?.includes(folder))
        .map(({ from, to }) => `${from} → ${to}`),
    );
    expect(upward).toEqual([]);
  });

  it('keeps the embedded and the aws adapters apart: what both use lives beside them', () => {
    const family = (file: string) =>
      file.startsWith('adapters/aws/')
        ? 'aws'
        : file.startsWith('adapters/embedded/')
          ? 'embedded'
          : undefined;
    const across = all
      .filter((s) => family(s.file) !== undefined)
      .flatMap((s) =>
        s.imports
          .map((spec) => target(s, spec) ?? '')
          .filter((t) => family(t) !== undefined && family(t) !== family(s.file))
          .map((t) => `${s.file} → ${t}`),
      );
    expect(across).toEqual([]);
  });

  it('keeps the ground floor free of our code and the domain free of I/O', () => {
    const lib = all.filter((s) => s.folder === 'lib');
    // lib imports no other folder of ours (checked above) and no package: node only.
    const packages = lib.flatMap((s) =>
      s.imports.filter((i) => !i.startsWith('.') && !i.startsWith('node:')),
    );
    const impure = all
      .filter((s) => s.folder === 'domain')
      .flatMap((s) => s.imports.map((spec) => target(s, spec)).filter((t) => t?.startsWith('lib/')))
      .filter((t) => byFile.get(t!)?.imports.some((i) => IO_MODULES.test(i)));
    expect(lib.length).toBeGreaterThan(0);
    expect(packages).toEqual([]);
    expect(impure).toEqual([]);
  });
});
