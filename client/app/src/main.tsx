import { render } from 'preact';
import { ready } from '../../../crypto/sodium.js';

function App({ status }: { status: string }) {
  return <main><h1>Sealpost</h1><p>{status}</p></main>;
}

const root = document.getElementById('app');
if (root) {
  render(<App status="Loading…" />, root);
  ready().then(
    () => render(<App status="Ready" />, root),
    (err: unknown) => render(<App status={`Failed to load cryptography: ${String(err)}`} />, root),
  );
}
