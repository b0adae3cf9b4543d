import { useEffect, useLayoutEffect, useRef, useState } from 'preact/hooks';
import type { AppModel } from '../model/app-model.js';
import { dayLabel, dayOf, gapText, type TimelineItem } from '../model/timeline.js';
import { MessageBubble } from './MessageBubble.js';

function itemKey(item: TimelineItem): string {
  if (item.kind === 'message') return `m:${item.message.id}`;
  if (item.kind === 'note') return `n:${item.note.id}`;
  if (item.kind === 'gap') return `g:${item.gap.id}`;
  return `u:${item.unsent.localId}`;
}

/** Within this many pixels of the end counts as "at the newest message". */
const AT_BOTTOM_PX = 40;

function distanceToEnd(element: HTMLElement): number {
  return element.scrollHeight - element.scrollTop - element.clientHeight;
}

/** The first incoming message stored after `readUpTo` (where "New messages" goes when a conversation opens). */
function firstUnread(items: TimelineItem[], readUpTo: number): string | undefined {
  const item = items.find((i) => i.kind === 'message' && !i.message.outgoing && i.message.storedAt > readUpTo);
  return item ? itemKey(item) : undefined;
}

/**
 * The timeline with a separator at each new day. Follows the newest item only while the reader
 * is at it (or just sent something): reading history further up, an arriving message does not
 * move the view; a "New messages" line marks where unread ones start and a button jumps down.
 * When the list gets shorter (a phone's keyboard opening), a reader at the end stays at the end.
 * `readUpTo`: what was read when the conversation opened (for the unread line).
 */
export function MessageList({ model, items, group, readUpTo }: { model: AppModel; items: TimelineItem[]; group: boolean; readUpTo: number }) {
  const list = useRef<HTMLOListElement>(null);
  /** As of the last scroll event (or scroll made here), and the scrollTop it was at the end with. */
  const atBottom = useRef(true);
  const endTop = useRef(0);
  /** The reader has been at the end since the line was placed: the next arrival starts a new line. */
  const caughtUp = useRef(false);
  const shownKeys = useRef<Set<string> | undefined>(undefined);
  const [divider, setDivider] = useState<string | undefined>(() => firstUnread(items, readUpTo));
  const [unseen, setUnseen] = useState(0);
  const toBottom = () => {
    const element = list.current;
    if (element) {
      element.scrollTop = element.scrollHeight;
      endTop.current = element.scrollTop;
    }
    atBottom.current = true;
  };
  // Where the reader was, read during render (before this list changes). At the end if it looks
  // so, or if it was and has not scrolled up since: a scroll event may still be on its way (so
  // atBottom alone can lag behind a scroll up), and a bar above (a notice) may already have made
  // the list shorter in this same update (so the distance alone can say "away" wrongly).
  const element = list.current;
  const wasAtEnd = element ? distanceToEnd(element) < AT_BOTTOM_PX || (atBottom.current && element.scrollTop >= endTop.current - 1) : true;

  // Before paint, so an arriving message never flashes the view somewhere else.
  useLayoutEffect(() => {
    const shown = shownKeys.current;
    shownKeys.current = new Set(items.map(itemKey));
    if (!shown) return toBottom(); // first render: open at the newest
    const added = items.filter((item) => !shown.has(itemKey(item)));
    // Something this account just sent (here or on another of its devices) is worth following.
    const sentByMe = added.some((item) => item.kind === 'unsent' || (item.kind === 'message' && item.message.outgoing));
    // A line that grew (a "may not have been delivered" under a bubble) keeps a reader at the end there.
    if (wasAtEnd || sentByMe) return toBottom();
    const arrived = added.filter((item) => item.kind === 'message' && !item.message.outgoing);
    if (arrived.length === 0) return;
    setUnseen((count) => count + arrived.length);
    if (caughtUp.current || divider === undefined) setDivider(itemKey(arrived[0]!));
    caughtUp.current = false;
  });

  // The list's own height changes without a scroll event (keyboard, window, composer growing).
  useEffect(() => {
    const element = list.current;
    if (!element || typeof ResizeObserver === 'undefined') return;
    const observer = new ResizeObserver(() => {
      if (atBottom.current) toBottom();
    });
    observer.observe(element);
    return () => observer.disconnect();
  }, [items.length === 0]);

  const onScroll = () => {
    const element = list.current;
    if (!element) return;
    atBottom.current = distanceToEnd(element) < AT_BOTTOM_PX;
    if (!atBottom.current) return;
    endTop.current = element.scrollTop;
    caughtUp.current = true;
    if (unseen > 0) setUnseen(0);
  };

  if (items.length === 0) {
    return <div class="timeline empty-timeline"><p class="empty">No messages yet. Say hello — only the people in this conversation can read it.</p></div>;
  }
  let previousDay = '';
  return (
    <div class="timeline-frame">
      <ol class="timeline" ref={list} aria-label="Messages" onScroll={onScroll} tabIndex={0}>
        {items.flatMap((item) => {
          const day = dayOf(item.at);
          const key = itemKey(item);
          const rows = [];
          if (day !== previousDay) {
            previousDay = day;
            rows.push(<li key={`day:${day}`} class="day-separator"><span>{dayLabel(item.at)}</span></li>);
          }
          if (key === divider) rows.push(<li key="unread-divider" class="unread-divider"><span>New messages</span></li>);
          if (item.kind === 'note') {
            rows.push(<li key={key} class="note">{item.note.text}</li>);
          } else if (item.kind === 'gap') {
            rows.push(<li key={key} class="note gap" data-count={item.gap.count}>{gapText(item.gap, model.handle)}</li>);
          } else {
            rows.push(<MessageBubble key={key} model={model} item={item} showSender={group} />);
          }
          return rows;
        })}
      </ol>
      {unseen > 0 && (
        <button
          type="button"
          class="jump-new"
          onClick={() => {
            toBottom();
            setUnseen(0);
          }}
        >
          {unseen === 1 ? 'New message ↓' : `${unseen} new messages ↓`}
        </button>
      )}
    </div>
  );
}
