import { useEffect, useRef } from 'preact/hooks';

/**
 * A picture at full size over the page: a modal <dialog>, so Escape closes it and focus stays
 * inside while it is open; `onClose` puts focus back where it was opened from.
 */
export function ImageViewer({ src, name, onClose }: { src: string; name: string; onClose: () => void }) {
  const dialog = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const element = dialog.current;
    element?.showModal();
    return () => element?.close();
  }, []);
  return (
    <dialog
      ref={dialog}
      class="image-viewer"
      aria-label={name}
      onClose={onClose}
      // A click on the backdrop (the dialog itself, outside the picture and the button) closes it too.
      onClick={(event) => event.target === event.currentTarget && event.currentTarget.close()}
    >
      <img src={src} alt={name} />
      <button type="button" class="close" onClick={() => dialog.current?.close()}>Close</button>
    </dialog>
  );
}
