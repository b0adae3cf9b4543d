import type { TransferProgress } from '../../../sdk/index.js';

export function percentOf(progress: TransferProgress | undefined): number {
  return progress && progress.total > 0 ? Math.min(100, Math.floor((progress.done / progress.total) * 100)) : 0;
}

/**
 * An upload's or download's progress. The <progress> element draws the bar (no inline styles
 * under the relay's CSP); the wrapper is the progressbar assistive technology reads.
 */
export function TransferBar({ label, progress }: { label: string; progress: TransferProgress | undefined }) {
  const percent = percentOf(progress);
  return (
    <span class="transfer-bar" role="progressbar" aria-label={label} aria-valuemin={0} aria-valuemax={100} aria-valuenow={percent}>
      <progress max={100} value={percent} />
      <span class="percent">{percent} %</span>
    </span>
  );
}
