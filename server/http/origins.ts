/**
 * The origin allow-list, shared by HTTP routes and the Socket.IO handshake. Browsers do not
 * apply CORS to WebSockets and still send simple cross-origin POSTs, so the relay refuses a
 * foreign Origin itself instead of relying on the browser to hide the response.
 */

/** No Origin header (non-browser clients), the relay's own origin, or one on the list. */
export function isAllowedOrigin(origin: string | undefined, host: string | undefined, allowList: readonly string[]): boolean {
  if (origin === undefined) return true;
  if (allowList.includes(origin)) return true;
  try {
    // Same-origin: the page was served by this relay under the Host the client addressed.
    return host !== undefined && new URL(origin).host === host;
  } catch {
    return false;
  }
}
