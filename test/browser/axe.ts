import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Page } from 'playwright-core';

/** The WCAG 2.1 A and AA rules: what the pages and the inbox element must pass. */
export const WCAG21AA = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** One violation, as much as a failing assertion needs to say where to look. */
export interface Violation {
  readonly id: string;
  readonly impact: string | null;
  readonly help: string;
  readonly targets: readonly string[];
}

/**
 * axe-core's WCAG 2.1 AA violations on the page as it is now (open shadow roots included). It
 * runs through the debugging protocol, so a page's CSP does not keep it out.
 */
export async function axeViolations(page: Page): Promise<Violation[]> {
  await page.evaluate(AXE_SOURCE);
  // Page-side code as text: the tests compile without the DOM's types.
  const result = (await page.evaluate(
    `axe.run(document, { runOnly: { type: 'tag', values: ${JSON.stringify(WCAG21AA)} } })
       .then((r) => r.violations.map((v) => ({
         id: v.id, impact: v.impact, help: v.help,
         targets: v.nodes.map((n) => JSON.stringify(n.target) + ' ' + n.failureSummary),
       })))`,
  )) as Violation[];
  return result;
}
