import { useEffect, useState } from 'preact/hooks';
import type { AppModel } from '../model/app-model.js';
import { Shell } from './Shell.js';
import { UpdatePrompt } from './UpdatePrompt.js';
import { Welcome } from './Welcome.js';

/** Redraws on every model change; first run until this device has an account. */
export function App({ model }: { model: AppModel }) {
  const [, setVersion] = useState(0);
  useEffect(() => {
    const unsubscribe = model.subscribe(() => setVersion((v) => v + 1));
    // The model starts (and may connect) before this first effect runs: redraw once for
    // whatever changed in between, or a fast reconnect would stay shown as "Reconnecting…".
    setVersion((v) => v + 1);
    return unsubscribe;
  }, [model]);
  return (
    <>
      {model.handle ? <Shell model={model} /> : <Welcome model={model} />}
      <UpdatePrompt />
    </>
  );
}
