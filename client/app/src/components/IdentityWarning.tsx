/**
 * Blocks sending to `handle` until the user accepts their new identity key. Accepting happens on
 * the safety number screen only, next to the new number and behind a confirmation.
 */
export function IdentityWarning({ handle, inGroup, onCompare }: { handle: string; inGroup: boolean; onCompare: () => void }) {
  return (
    <div class="identity-warning" role="alert">
      <p>
        <strong>{handle}’s safety number changed.</strong> They may have reinstalled, or someone may be
        intercepting your messages. {inGroup ? `Group messages skip ${handle} until then.` : 'Sending is paused.'} Compare the new safety number with {handle} in person or by
        another channel; you can accept the new key there once the numbers match.
      </p>
      <div class="row">
        <button type="button" onClick={onCompare}>Compare and accept the new key</button>
      </div>
    </div>
  );
}
