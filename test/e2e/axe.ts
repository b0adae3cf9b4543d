/**
 * axe-core in the e2e suite: runs the WCAG 2.x A/AA rules (and axe's best practices) on a page
 * in the light and the dark colour scheme, and keeps every result so the suite can write one
 * report (test-results/accessibility.json) and assert on serious and critical findings.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { AxeBuilder } from '@axe-core/playwright';
import type { Page } from 'playwright-core';

export type Impact = 'minor' | 'moderate' | 'serious' | 'critical';
export const IMPACTS: Impact[] = ['critical', 'serious', 'moderate', 'minor'];
export type Scheme = 'light' | 'dark';

export interface ScreenResult {
  screen: string;
  scheme: Scheme;
  /** Failing nodes per impact (one rule failing on 140 bubbles counts 140). */
  nodes: Record<Impact, number>;
  /** Rule ids with their impact and how many nodes fail them. */
  rules: Array<{ id: string; impact: Impact; nodes: number; example: string }>;
  /** Nodes axe could not decide (for colour contrast: text over an image or a gradient); not failures. */
  incomplete: Array<{ id: string; nodes: number; example: string }>;
  /** The page's computed background colour, to show the scheme really changed what is drawn. */
  background: string;
}

const TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'];

/** Runs axe on what the page shows now, under `scheme` (emulated prefers-color-scheme). */
export async function checkScreen(page: Page, screen: string, scheme: Scheme): Promise<ScreenResult> {
  await page.emulateMedia({ colorScheme: scheme });
  // Two frames: the new scheme's styles are applied and painted before axe reads colours.
  await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
  const results = await new AxeBuilder({ page }).withTags(TAGS).analyze();
  const nodes: Record<Impact, number> = { critical: 0, serious: 0, moderate: 0, minor: 0 };
  const rules: ScreenResult['rules'] = [];
  for (const violation of results.violations) {
    const impact = (violation.impact ?? 'minor') as Impact;
    nodes[impact] += violation.nodes.length;
    const first = violation.nodes[0];
    rules.push({ id: violation.id, impact, nodes: violation.nodes.length, example: `${first?.target.join(' ') ?? ''}: ${first?.failureSummary ?? ''}`.slice(0, 300) });
  }
  const incomplete = results.incomplete.map((rule) => ({ id: rule.id, nodes: rule.nodes.length, example: `${rule.nodes[0]?.target.join(' ') ?? ''}: ${rule.nodes[0]?.failureSummary ?? ''}`.slice(0, 300) }));
  const background = await page.evaluate(() => getComputedStyle(document.body).backgroundColor === 'rgba(0, 0, 0, 0)'
    ? getComputedStyle(document.documentElement).backgroundColor
    : getComputedStyle(document.body).backgroundColor);
  return { screen, scheme, nodes, rules, incomplete, background };
}

/** Both schemes, one after the other; the page is left in the light scheme. */
export async function checkBothSchemes(page: Page, screen: string, into: ScreenResult[]): Promise<void> {
  into.push(await checkScreen(page, screen, 'dark'));
  into.push(await checkScreen(page, screen, 'light'));
}

/** The serious and critical findings, in words a failing assertion can show. */
export function blocking(results: ScreenResult[]): string[] {
  return results.flatMap((r) => r.rules.filter((rule) => rule.impact === 'serious' || rule.impact === 'critical')
    .map((rule) => `${r.screen} (${r.scheme}): ${rule.id} [${rule.impact}] ×${rule.nodes} — ${rule.example}`));
}

export function writeReport(path: string, results: ScreenResult[]): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, `${JSON.stringify(results, null, 2)}\n`);
}
