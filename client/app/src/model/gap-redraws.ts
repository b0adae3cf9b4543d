/**
 * The SDK shows a skipped count as missing only once it stayed unfilled for GAP_GRACE_MS (the
 * text may just be on its way). Nothing happens at that moment, so the app plans a redraw for
 * then after every arrival — at most one per second, however many texts arrive.
 */
import { GAP_GRACE_MS } from '../../../sdk/history.js';

export class GapRedraws {
  private readonly planned = new Set<number>();
  private stopped = false;

  constructor(private readonly redraw: () => void) {}

  /** Something arrived (or the app started): redraw once its gaps may count as missing. */
  afterArrival(now = Date.now()): void {
    const due = Math.ceil((now + GAP_GRACE_MS) / 1000) * 1000 + 250;
    if (this.stopped || this.planned.has(due)) return;
    this.planned.add(due);
    setTimeout(() => {
      this.planned.delete(due);
      if (!this.stopped) this.redraw();
    }, due - now);
  }

  stop(): void {
    this.stopped = true;
  }
}
