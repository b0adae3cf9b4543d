/**
 * Preloaded (`node --expose-gc --import …/gc-hook.js`) into every target, sealpost included,
 * so the runner can ask for a full collection (SIGUSR2) before it samples RSS in scenario (d):
 * otherwise garbage left by setup (10,000 registrations on sealpost) or its absence decides the
 * per-connection figure more than the connections do.
 */
const collect = (globalThis as { gc?: () => void }).gc;
if (collect) process.on('SIGUSR2', () => collect());
