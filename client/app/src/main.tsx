import { render } from 'preact';
import { AppModel } from './model/app-model.js';
import { App } from './components/App.js';
import './styles.css';

/** The relay serves this app, so it is also the relay this client talks to. */
const RELAY_URL = location.origin;

function LoadFailure({ message }: { message: string }) {
  return (
    <main class="welcome">
      <div class="card">
        <h1 class="brand">Sealpost</h1>
        <p class="error-text" role="alert">Could not start: {message}</p>
        <p class="hint">This browser needs IndexedDB and WebAssembly. Private windows of some browsers block them.</p>
      </div>
    </main>
  );
}

const root = document.getElementById('app');
if (root) {
  AppModel.open(RELAY_URL).then(
    (model) => render(<App model={model} />, root),
    (error: unknown) => render(<LoadFailure message={error instanceof Error ? error.message : String(error)} />, root),
  );
}
