import type { ComponentType } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import type { AppModel } from '../model/app-model.js';
import { UpdatePrompt } from './UpdatePrompt.js';
import { Welcome } from './Welcome.js';

type ShellComponent = ComponentType<{ model: AppModel }>;

/**
 * The signed-in screens, loaded apart from the first-run screen: a first visit on a slow link
 * downloads only what it shows (bench (i)), then fetches these in the background. A returning
 * user gets them from the service worker's pinned shell, without the network.
 */
function useShell(): ShellComponent | 'failed' | undefined {
  const [shell, setShell] = useState<ShellComponent | 'failed' | undefined>(undefined);
  useEffect(() => {
    let live = true;
    // Fails only when the network went away before the service worker kept the app.
    import('./Shell.js').then(
      (module) => live && setShell(() => module.Shell),
      () => live && setShell('failed'),
    );
    return () => {
      live = false;
    };
  }, []);
  return shell;
}

function SignedIn({ model, Shell }: { model: AppModel; Shell: ShellComponent | 'failed' | undefined }) {
  if (Shell === 'failed') {
    return (
      <main class="welcome">
        <p role="alert">Sealpost could not load its screens: the connection to the relay was lost.</p>
        <button type="button" onClick={() => location.reload()}>Try again</button>
      </main>
    );
  }
  return Shell ? <Shell model={model} /> : <p class="hint" role="status">Opening Sealpost…</p>;
}

/** Redraws on every model change; first run until this device has an account. */
export function App({ model }: { model: AppModel }) {
  const [, setVersion] = useState(0);
  const Shell = useShell();
  useEffect(() => {
    const unsubscribe = model.subscribe(() => setVersion((v) => v + 1));
    // The model starts (and may connect) before this first effect runs: redraw once for
    // whatever changed in between, or a fast first connection would stay shown as "Connecting…".
    setVersion((v) => v + 1);
    return unsubscribe;
  }, [model]);
  return (
    <>
      {model.handle ? <SignedIn model={model} Shell={Shell} /> : <Welcome model={model} />}
      <UpdatePrompt />
    </>
  );
}
