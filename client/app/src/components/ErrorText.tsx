/** An inline error under a form; announced to screen readers. */
export function ErrorText({ error }: { error: string | undefined }) {
  if (!error) return null;
  return <p class="error-text" role="alert">{error}</p>;
}
