import type { Conversation } from '../../sdk/index.js';
import { conversationFromKey, conversationKey } from './model/conversation-key.js';

/** What the main pane shows. `home` on a phone means the conversation list. */
export type Route =
  | { screen: 'home' }
  | { screen: 'chat'; conversation: Conversation }
  | { screen: 'safety'; handle: string }
  | { screen: 'group-settings'; groupId: string }
  | { screen: 'new-group' }
  | { screen: 'devices' };

export type Navigate = (route: Route) => void;

/** The route lives in the URL fragment, so the browser's Back button and reloads keep their place. */
export function routeToHash(route: Route): string {
  switch (route.screen) {
    case 'home':
      return '#/';
    case 'chat':
      return `#/chat/${encodeURIComponent(conversationKey(route.conversation))}`;
    case 'safety':
      return `#/safety/${encodeURIComponent(route.handle)}`;
    case 'group-settings':
      return `#/group/${encodeURIComponent(route.groupId)}`;
    case 'new-group':
      return '#/new-group';
    case 'devices':
      return '#/devices';
  }
}

export function routeFromHash(hash: string): Route {
  const [, screen, rawArg] = /^#\/([a-z-]*)(?:\/(.*))?$/.exec(hash) ?? [];
  let arg: string | undefined;
  try {
    arg = rawArg === undefined ? undefined : decodeURIComponent(rawArg);
  } catch {
    arg = undefined;
  }
  const conversation = screen === 'chat' && arg ? conversationFromKey(arg) : undefined;
  if (conversation) return { screen: 'chat', conversation };
  if (screen === 'safety' && arg) return { screen: 'safety', handle: arg };
  if (screen === 'group' && arg) return { screen: 'group-settings', groupId: arg };
  if (screen === 'new-group') return { screen: 'new-group' };
  if (screen === 'devices') return { screen: 'devices' };
  return { screen: 'home' };
}
