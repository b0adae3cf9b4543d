import { useEffect, useRef } from 'preact/hooks';
import type { AppModel } from '../model/app-model.js';
import { dayLabel, dayOf, type TimelineItem } from '../model/timeline.js';
import { MessageBubble } from './MessageBubble.js';

function itemKey(item: TimelineItem): string {
  if (item.kind === 'message') return `m:${item.message.id}`;
  if (item.kind === 'note') return `n:${item.note.id}`;
  return `u:${item.unsent.localId}`;
}

function itemDay(item: TimelineItem): number {
  return item.kind === 'message' ? item.message.ts : item.at;
}

/** The timeline with a separator at each new day; follows the newest item. */
export function MessageList({ model, items, group }: { model: AppModel; items: TimelineItem[]; group: boolean }) {
  const list = useRef<HTMLOListElement>(null);
  const last = items.length > 0 ? itemKey(items[items.length - 1]!) : '';
  useEffect(() => {
    const element = list.current;
    if (element) element.scrollTop = element.scrollHeight;
  }, [last]);

  if (items.length === 0) {
    return <div class="timeline empty-timeline"><p class="empty">No messages yet. Say hello — only the people in this conversation can read it.</p></div>;
  }
  let previousDay = '';
  return (
    <ol class="timeline" ref={list} aria-label="Messages">
      {items.flatMap((item) => {
        const day = dayOf(itemDay(item));
        const rows = [];
        if (day !== previousDay) {
          previousDay = day;
          rows.push(<li key={`day:${day}`} class="day-separator"><span>{dayLabel(itemDay(item))}</span></li>);
        }
        if (item.kind === 'note') {
          rows.push(<li key={itemKey(item)} class="note">{item.note.text}</li>);
        } else {
          rows.push(<MessageBubble key={itemKey(item)} model={model} item={item} showSender={group} />);
        }
        return rows;
      })}
    </ol>
  );
}
