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
