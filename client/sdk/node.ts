/** Node-only entry: the SDK plus the file-backed profile store. */
export * from './index.js';
export { FilePersistence } from './store/file-persistence.node.js';
export { fileFromPath } from './file-source.node.js';
