/**
 * A self-signed certificate for 127.0.0.1 and localhost, valid for a century, committed so TLS
 * tests need no openssl on the machine. Test-only: its private key is public by construction.
 */
import { fileURLToPath } from 'node:url';

export const TEST_TLS_CERT = fileURLToPath(new URL('./tls/cert.pem', import.meta.url));
export const TEST_TLS_KEY = fileURLToPath(new URL('./tls/key.pem', import.meta.url));
