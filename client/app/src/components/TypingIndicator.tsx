/** "bob is typing…" — the line keeps its height so the timeline does not jump. */
export function TypingIndicator({ people }: { people: string[] }) {
  const text = people.length === 0 ? '' : people.length === 1 ? `${people[0]} is typing…` : `${people.join(', ')} are typing…`;
  return <p class="typing" aria-live="polite">{text}</p>;
}
