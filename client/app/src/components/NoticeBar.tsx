/** A dismissable line for problems that do not belong to one form. */
export function NoticeBar({ notice, onDismiss }: { notice: string | undefined; onDismiss: () => void }) {
  if (!notice) return null;
  return (
    <div class="notice" role="alert">
      <span>{notice}</span>
      <button type="button" class="link" onClick={onDismiss}>Dismiss</button>
    </div>
  );
}
