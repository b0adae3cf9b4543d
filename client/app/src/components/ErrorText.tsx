/** An inline error under a form; announced to screen readers. `id`: for the field's aria-describedby. */
export function ErrorText({ error, id }: { error: string | undefined; id?: string }) {
  if (!error) return null;
  return <p class="error-text" role="alert" id={id}>{error}</p>;
}
