import { render } from 'preact';
import { AppModel } from './model/app-model.js';
import { App } from './components/App.js';
import { LoadFailure } from './components/LoadFailure.js';
import './styles.css';

/** The relay serves this app, so it is also the relay this client talks to. */
const RELAY_URL = location.origin;

const root = document.getElementById('app');
if (root) {
  AppModel.open(RELAY_URL).then(
    (model) => render(<App model={model} />, root),
    (error: unknown) => render(<LoadFailure error={error} />, root),
  );
}
