import { useEffect, useRef } from 'preact/hooks';

/**
 * Moves keyboard (and screen reader) focus to the returned element when it mounts, or when `key`
 * changes: after a screen or step change the user lands on its main control, not on <body>.
 */
export function useFocus<T extends HTMLElement>(key: unknown = undefined) {
  const ref = useRef<T>(null);
  useEffect(() => {
    ref.current?.focus();
  }, [key]);
  return ref;
}

/**
 * The element that stands for `old` now. Screens re-mount when the route changes, so the button
 * that opened a sub-screen is usually a new element by the time the sub-screen closes; the one
 * with the same tag, id, conversation, label and text is "the same control" to the user.
 */
export function findEquivalent(old: Element): HTMLElement | undefined {
  if (old instanceof HTMLElement && old.isConnected) return old;
  const same = (element: HTMLElement) =>
    element.id === old.id
    && element.getAttribute('data-conversation') === old.getAttribute('data-conversation')
    && element.getAttribute('aria-label') === old.getAttribute('aria-label')
    && element.textContent === old.textContent;
  return [...document.querySelectorAll<HTMLElement>(old.tagName)].find((element) => same(element) && element.offsetParent !== null);
}

/** Focuses `target`; a heading or section gets tabIndex -1 first, so it can take focus without joining the Tab order. */
export function focusElement(target: HTMLElement): void {
  if (target.tabIndex < 0 && !target.hasAttribute('tabindex')) target.tabIndex = -1;
  target.focus();
}

interface TrailStep {
  hash: string;
  /** The control that was focused when the user left this screen (for coming back to it). */
  opener?: Element | undefined;
}

export interface RouteFocus {
  /** The screen before this one, when this one was opened from it (what closing should return to). */
  previous(): string | undefined;
}

/**
 * Focus across screen changes, for the signed-in shell (the route is its URL fragment, `hash`):
 * - going back to the screen just before (closing a sub-screen, Back) focuses the control that
 *   opened the sub-screen, or its re-rendered equivalent;
 * - any other change focuses the new screen's main control: `mainControl()` if it names one,
 *   else what the screen focused itself (useFocus), else the first enabled [autofocus] in
 *   `pane`, else the pane's heading.
 */
export function useRouteFocus(hash: string, pane: { current: HTMLElement | null }, mainControl: () => HTMLElement | null | undefined): RouteFocus {
  const state = useRef({ trail: [] as TrailStep[], shown: undefined as string | undefined, leaving: null as Element | null, leavingFor: '' });
  const s = state.current;
  // Rendering runs before the DOM changes, so this is still the control that changed the screen
  // (a click, Enter, Escape); by the time the effect runs it may be gone. Once per change: later
  // renders before the effect would see the new screen's focus instead.
  if (s.shown !== hash && s.leavingFor !== hash) {
    s.leaving = document.activeElement;
    s.leavingFor = hash;
  }

  useEffect(() => {
    const { trail } = s;
    const first = s.shown === undefined;
    s.shown = hash;
    if (!first && trail.length >= 2 && trail[trail.length - 2]!.hash === hash) {
      trail.pop();
      const opener = trail[trail.length - 1]!.opener;
      const target = opener && findEquivalent(opener);
      if (target) return focusElement(target);
    } else {
      if (!first) trail[trail.length - 1]!.opener = s.leaving ?? undefined;
      trail.push({ hash });
      if (trail.length > 50) trail.shift();
    }
    const named = mainControl();
    if (named) return focusElement(named);
    const container = pane.current;
    if (!container) return;
    const active = document.activeElement;
    if (active && active !== document.body && container.contains(active)) return; // the screen chose already
    const target = container.querySelector<HTMLElement>('[autofocus]:not(:disabled)') ?? container.querySelector<HTMLElement>('h2');
    if (target) focusElement(target);
  }, [hash]);

  return { previous: () => s.trail[s.trail.length - 2]?.hash };
}

/**
 * Escape runs `close` (a sub-screen's close) unless something nearer handled it (preventDefault
 * or stopPropagation: a panel, a form step, a scanner), or a modal dialog is open. On window, so
 * it runs after the document-level listeners of panels opened inside the screen.
 */
export function useEscape(close: (() => void) | undefined): void {
  const latest = useRef(close);
  latest.current = close;
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      const run = latest.current;
      if (event.key !== 'Escape' || !run || event.defaultPrevented || document.querySelector('dialog[open]')) return;
      event.preventDefault();
      run();
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);
}
