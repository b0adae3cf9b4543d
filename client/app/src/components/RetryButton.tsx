import { useEffect, useRef } from 'preact/hooks';

/**
 * The button that replaces Cancel once a transfer stopped. When the user cancelled (`takeFocus`),
 * keyboard focus moves here: the Cancel button they pressed is gone, and focus must not fall
 * back to the page.
 */
export function RetryButton({ text, label, takeFocus, onClick }: { text: string; label: string; takeFocus: boolean; onClick: () => void }) {
  const button = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (takeFocus) button.current?.focus();
  }, []);
  return <button type="button" ref={button} aria-label={label} onClick={onClick}>{text}</button>;
}
