import { useEffect, useRef } from 'preact/hooks';
import type { AppModel } from '../model/app-model.js';
import { dayLabel, dayOf, gapText, type TimelineItem } from '../model/timeline.js';
import { MessageBubble } from './MessageBubble.js';

function itemKey(item: TimelineItem): string {
  if (item.kind === 'message') return `m:${item.message.id}`;
  if (item.kind === 'note') return `n:${item.note.id}`;
  if (item.kind === 'gap') return `g:${item.gap.id}`;
  return `u:${item.unsent.localId}`;
}

/** The timeline with a separator at each new day; follows the newest item. */
export function MessageList({ model, items, group }: { model: AppModel; items: TimelineItem[]; group: boolean }) {
  const list = useRef<HTMLOListElement>(null);
  // Whether the reader is at the newest item: then it stays in view when lines change above it
  // (a late message slotted into its place, a "did not arrive" line); a new last item always shows.
  const atBottom = useRef(true);
  const shownLast = useRef('');
  const last = items.length > 0 ? itemKey(items[items.length - 1]!) : '';
  useEffect(() => {
    const element = list.current;
    if (element && (atBottom.current || last !== shownLast.current)) element.scrollTop = element.scrollHeight;
    shownLast.current = last;
  });
  const onScroll = () => {
    const element = list.current;
    if (element) atBottom.current = element.scrollHeight - element.scrollTop - element.clientHeight < 40;
  };

  if (items.length === 0) {
    return <div class="timeline empty-timeline"><p class="empty">No messages yet. Say hello — only the people in this conversation can read it.</p></div>;
  }
  let previousDay = '';
  return (
    <ol class="timeline" ref={list} aria-label="Messages" onScroll={onScroll}>
      {items.flatMap((item) => {
        const day = dayOf(item.at);
        const rows = [];
        if (day !== previousDay) {
          previousDay = day;
          rows.push(<li key={`day:${day}`} class="day-separator"><span>{dayLabel(item.at)}</span></li>);
        }
        if (item.kind === 'note') {
          rows.push(<li key={itemKey(item)} class="note">{item.note.text}</li>);
        } else if (item.kind === 'gap') {
          rows.push(<li key={itemKey(item)} class="note gap" data-count={item.gap.count}>{gapText(item.gap, model.handle)}</li>);
        } else {
          rows.push(<MessageBubble key={itemKey(item)} model={model} item={item} showSender={group} />);
        }
        return rows;
      })}
    </ol>
  );
}
