import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { listedCommands, ROOT, readmeCommands } from './support.ts';

describe('README.commands.txt', () => {
  it('lists every command the README shows, and no other', () => {
    // Prepare
    const shown = readmeCommands();
    const listed = listedCommands().map((c) => c.command);
    // Act
    const untested = shown.filter((c) => !listed.includes(c));
    const stale = listed.filter((c) => !shown.includes(c));
    // Assess
    expect(untested, 'README commands missing from README.commands.txt').toEqual([]);
    expect(stale, 'README.commands.txt entries the README no longer shows').toEqual([]);
  });

  it('names a test file that exists, or says why a command is not run', () => {
    for (const { command, how } of listedCommands()) {
      const file = how.match(/^(test\/\S+\.test\.ts)/)?.[1];
      if (file !== undefined) expect(existsSync(join(ROOT, file)), `${command} => ${file}`).toBe(true);
      else expect(how, command).toMatch(/^(CI: |not run: )/);
    }
  });
});
