import { render } from 'preact';
import { AppModel } from './model/app-model.js';
import { AppVersion, AppVersionContext } from './model/app-version.js';
import { ProfileLock } from './model/profile-lock.js';
import { App } from './components/App.js';
import { LoadFailure } from './components/LoadFailure.js';
import { ProfileElsewhere } from './components/ProfileElsewhere.js';
import './styles.css';

/** The relay serves this app, so it is also the relay this client talks to. */
const RELAY_URL = location.origin;

const root = document.getElementById('app');
const lock = new ProfileLock();
/** The pinned bundle and the relay's offers (model/app-version.ts); its worker is also the offline shell. */
const version = new AppVersion();
let model: AppModel | undefined;
let opening = false;

/**
 * Opens the profile only while this tab holds the profile lock: the SDK's IndexedDB store must
 * have one writer. `takeOver` is "Use here": it waits until the other tab closed its client.
 */
async function boot(target: HTMLElement, takeOver: boolean): Promise<void> {
  let handedOver: unknown;
  if (takeOver) {
    handedOver = await lock.takeOver();
  } else if (!(await lock.tryAcquire())) {
    render(<ProfileElsewhere reason="open" onUseHere={() => boot(target, true)} />, target);
    return;
  }
  opening = true;
  try {
    const opened = await AppModel.open(RELAY_URL, handedOver);
    // Taken by another tab while this one was still opening (lost() showed that): let go now.
    if (!lock.held) return void opened.shutDown((handover) => lock.announceReleased(handover));
    model = opened;
    render(<AppVersionContext.Provider value={version}><App model={opened} /></AppVersionContext.Provider>, target);
  } catch (error) {
    if (!lock.held) return lock.announceReleased();
    render(<LoadFailure error={error} />, target);
  } finally {
    opening = false;
  }
}

/** Another tab took the profile: stop writing and sending at once, then say so. */
function lost(target: HTMLElement): void {
  const closing = model;
  model = undefined;
  // First the fence and the stop (synchronous inside shutDown), then the screen; the new tab
  // opens the store once this one announced it let go (with the sends it never queued).
  if (closing) void closing.shutDown((handover) => lock.announceReleased(handover));
  else if (!opening) lock.announceReleased();
  render(<ProfileElsewhere reason="moved" onUseHere={() => boot(target, true)} />, target);
}

if (root) {
  lock.onLost = () => lost(root);
  // The worker registers once the page is up, so that its install (which downloads the bundle
  // to pin it) never competes with the first load for a slow link.
  void boot(root, false).finally(() => void version.start());
}
