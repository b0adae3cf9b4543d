import { useEffect, useRef, useState } from 'preact/hooks';
import type { Conversation, MessageEvent } from '../../../sdk/index.js';
import { describeArrivals } from '../model/announcements.js';
import type { AppModel } from '../model/app-model.js';

/** Arrivals this close together are one announcement (model/announcements.ts). */
const BURST_MS = 400;
/** Kept in the region: a screen reader reads each added line; older ones are dropped. */
const KEEP = 3;

/**
 * A polite live region that announces incoming messages. Always rendered (a region added
 * together with its text is not announced by every screen reader), visually hidden.
 */
export function Announcer({ model, open }: { model: AppModel; open: Conversation | undefined }) {
  const [lines, setLines] = useState<Array<{ id: number; text: string }>>([]);
  const openRef = useRef(open);
  openRef.current = open;
  useEffect(() => {
    let burst: MessageEvent[] = [];
    let timer: ReturnType<typeof setTimeout> | undefined;
    let next = 0;
    const flush = () => {
      timer = undefined;
      const text = describeArrivals(burst, openRef.current, (c) => model.title(c));
      burst = [];
      if (text) setLines((shown) => [...shown.slice(1 - KEEP), { id: next++, text }]);
    };
    const off = model.client.on('message', (event) => {
      if (event.outgoing) return;
      burst.push(event);
      timer ??= setTimeout(flush, BURST_MS);
    });
    return () => {
      off();
      if (timer) clearTimeout(timer);
    };
  }, [model]);
  return (
    <div class="visually-hidden" role="log" aria-live="polite" aria-label="New messages" data-testid="announcer">
      {lines.map((line) => <p key={line.id}>{line.text}</p>)}
    </div>
  );
}
