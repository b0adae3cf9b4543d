import type { Ref } from 'preact';
import { useEffect, useState } from 'preact/hooks';

/** Copies `text` with the Clipboard API; says whether it worked (some browsers refuse without HTTPS). */
export function CopyButton({ text, label = 'Copy', buttonRef }: { text: string; label?: string; buttonRef?: Ref<HTMLButtonElement> | undefined }) {
  const [result, setResult] = useState<'copied' | 'failed' | undefined>(undefined);
  useEffect(() => {
    if (result !== 'copied') return undefined;
    const timer = setTimeout(() => setResult(undefined), 3000);
    return () => clearTimeout(timer);
  }, [result]);
  const copy = async () => {
    try {
      if (!navigator.clipboard) throw new Error('no clipboard');
      await navigator.clipboard.writeText(text);
      setResult('copied');
    } catch {
      setResult('failed');
    }
  };
  return (
    <span class="copy">
      <button type="button" ref={buttonRef} onClick={() => void copy()}>{label}</button>
      <span class="hint" role="status" aria-live="polite">
        {result === 'copied' ? 'Copied.' : result === 'failed' ? 'This browser did not allow copying: select the text and copy it by hand.' : ''}
      </span>
    </span>
  );
}
