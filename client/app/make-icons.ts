/**
 * Draws the app's PNG icons (public/icons/) from the favicon's design with Debian's Chromium.
 * Run by hand when the design changes (`npx tsx` is not a dependency: compile with tsc or run
 * through vitest's node); the PNGs are committed, so the build never needs a browser and stays
 * reproducible. The maskable icon fills its square and keeps the envelope inside the central
 * 80 % circle that launchers may crop to.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const TEAL = '#0f6e6e';
const ENVELOPE = '<path d="M7 11h18v11H7z" fill="none" stroke="#fff" stroke-width="2"/><path d="M7 11l9 7 9-7" fill="none" stroke="#fff" stroke-width="2"/>';
const ROUNDED = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" rx="7" fill="${TEAL}"/>${ENVELOPE}</svg>`;
// Envelope scaled to 60 % around the centre: inside the maskable safe zone.
const MASKABLE = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><rect width="32" height="32" fill="${TEAL}"/><g transform="translate(16 16.5) scale(0.6) translate(-16 -16.5)">${ENVELOPE}</g></svg>`;

const ICONS: [string, string, number][] = [
  ['icon-192.png', ROUNDED, 192],
  ['icon-512.png', ROUNDED, 512],
  ['icon-maskable-512.png', MASKABLE, 512],
];

const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu'] });
try {
  for (const [name, svg, size] of ICONS) {
    const page = await browser.newPage({ viewport: { width: size, height: size } });
    await page.setContent(`<style>html,body{margin:0;background:transparent}svg{display:block;width:${size}px;height:${size}px}</style>${svg}`);
    writeFileSync(fileURLToPath(new URL(`public/icons/${name}`, import.meta.url)), await page.screenshot({ omitBackground: true }));
    await page.close();
  }
} finally {
  await browser.close();
}
