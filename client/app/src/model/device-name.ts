/**
 * The name this app suggests for the device it runs on ("Chromium on Linux", "Safari on iPhone"):
 * a starting point the user can keep or change, shared only among the account's own devices
 * (end-to-end encrypted `sync`, docs/PROTOCOL.md §14.6). Pure: takes what navigator reports.
 */

export interface PlatformHints {
  userAgent: string;
  /** navigator.userAgentData, where the browser has it (Chromium-based ones). */
  userAgentData?: { brands?: ReadonlyArray<{ brand: string }>; platform?: string } | undefined;
}

export const MAX_DEVICE_NAME = 64;

/** Brands of User-Agent Client Hints, most specific first; the rest are Chromium or filler. */
const BRANDS: ReadonlyArray<[RegExp, string]> = [
  [/^Microsoft Edge$/, 'Edge'],
  [/^Opera$/, 'Opera'],
  [/^Brave$/, 'Brave'],
  [/^Vivaldi$/, 'Vivaldi'],
  [/^Google Chrome$/, 'Chrome'],
  [/^(Chromium|HeadlessChrome)$/, 'Chromium'],
];

const USER_AGENT_BROWSERS: ReadonlyArray<[RegExp, string]> = [
  [/Edg(e|A|iOS)?\//, 'Edge'],
  [/OPR\//, 'Opera'],
  [/(Firefox|FxiOS)\//, 'Firefox'],
  [/(Chromium|HeadlessChrome)\//, 'Chromium'],
  [/(Chrome|CriOS)\//, 'Chrome'],
  [/Safari\//, 'Safari'],
];

const USER_AGENT_PLATFORMS: ReadonlyArray<[RegExp, string]> = [
  [/Android/, 'Android'],
  [/iPhone/, 'iPhone'],
  [/iPad/, 'iPad'],
  [/CrOS/, 'ChromeOS'],
  [/Windows/, 'Windows'],
  [/Mac OS X|Macintosh/, 'macOS'],
  [/Linux/, 'Linux'],
];

function browserOf(hints: PlatformHints): string | undefined {
  const brands = hints.userAgentData?.brands?.map((b) => b.brand) ?? [];
  for (const [pattern, name] of BRANDS) if (brands.some((b) => pattern.test(b))) return name;
  return USER_AGENT_BROWSERS.find(([pattern]) => pattern.test(hints.userAgent))?.[1];
}

function platformOf(hints: PlatformHints): string | undefined {
  const platform = hints.userAgentData?.platform?.trim();
  if (platform) return platform === 'Chrome OS' ? 'ChromeOS' : platform;
  return USER_AGENT_PLATFORMS.find(([pattern]) => pattern.test(hints.userAgent))?.[1];
}

/** "Chromium on Linux", "Firefox on Windows", or just the part that is known; "This browser" when none is. */
export function suggestDeviceName(hints: PlatformHints): string {
  const browser = browserOf(hints);
  const platform = platformOf(hints);
  const name = browser && platform ? `${browser} on ${platform}` : browser ?? (platform ? `Browser on ${platform}` : 'This browser');
  return name.slice(0, MAX_DEVICE_NAME);
}

/** What this browser reports. */
export function thisPlatform(): PlatformHints {
  const nav = navigator as Navigator & { userAgentData?: PlatformHints['userAgentData'] };
  return { userAgent: nav.userAgent, userAgentData: nav.userAgentData };
}

/** What is wrong with a name typed for a device, in words; undefined if it can be saved. */
export function deviceNameProblem(name: string): string | undefined {
  const normalized = name.replace(/\s+/g, ' ').trim();
  if (!normalized) return 'Enter a name for the device.';
  if (normalized.length > MAX_DEVICE_NAME) return `A device name has at most ${MAX_DEVICE_NAME} characters.`;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(normalized)) return 'A device name cannot contain control characters.';
  return undefined;
}
