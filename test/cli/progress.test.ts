import { describe, expect, it } from 'vitest';
import { colours } from '../../src/cli/colour.ts';
import { describeFailure } from '../../src/cli/failure.ts';
import { createReporter, duration, renderBar } from '../../src/cli/progress.ts';
import { SetupError } from '../../src/lib/setup-error.ts';

describe('progress', () => {
  it('shows counts with thousands separators, the rate and the time left', () => {
    // Prepare, Act: 4,500 of 10,000 after 3 s: 1,500/s, 5,500 left ⇒ 4 s
    const bar = renderBar('delivery', 4500, 10_000, 3000);
    // Assess
    expect(bar).toBe('delivery [#############...............]  45% 4,500/10,000  1,500/s, 0:04 left');
  });

  it('shows a count and a rate, no guessed end, while the total is unknown', () => {
    expect(renderBar('delivery', 12_345, 0, 2000)).toBe('delivery 12,345  6,173/s');
  });

  it('writes times left as m:ss or h:mm:ss', () => {
    expect([duration(4.2), duration(75), duration(3725)]).toEqual(['0:05', '1:15', '1:02:05']);
  });

  it('never moves a total back once shown', () => {
    // Prepare
    const lines: string[] = [];
    let t = 0;
    const reporter = createReporter({
      write: (s) => lines.push(s),
      tty: false,
      trace: true,
      intervalMs: 0,
      now: () => t,
    });
    const bar = reporter.bar('delivery', 0);
    // Act
    t = 1000;
    bar.update(10, 100);
    t = 2000;
    bar.update(20, 90);
    bar.end();
    // Assess
    expect(lines).toEqual([
      'demo: delivery 10/100  10/s, 0:09 left\n',
      'demo: delivery 20/100  10/s, 0:08 left\n',
      'demo: delivery 20/100  10/s, 0:08 left\n',
    ]);
  });
});

describe('colour', () => {
  it('colours a failure on a terminal, and not when NO_COLOR is set or stderr is no terminal', () => {
    // Prepare
    const err = new SetupError('Java is not installed', 'install Java 17');
    // Act
    const tty = describeFailure('demo', err, false, colours(true, {}));
    const noColor = describeFailure('demo', err, false, colours(true, { NO_COLOR: '1' }));
    const piped = describeFailure('demo', err, false, colours(false, {}));
    // Assess
    expect(tty).toBe(
      '\u001b[31mfanout: demo failed:\u001b[0m Java is not installed\n  \u001b[33mwhat to do:\u001b[0m install Java 17\n',
    );
    expect(noColor).toBe('fanout: demo failed: Java is not installed\n  what to do: install Java 17\n');
    expect(piped).toBe(noColor);
  });
});
