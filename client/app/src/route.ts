import type { Conversation } from '../../sdk/index.js';

/** What the main pane shows. `home` on a phone means the conversation list. */
export type Route =
  | { screen: 'home' }
  | { screen: 'chat'; conversation: Conversation }
  | { screen: 'safety'; handle: string }
  | { screen: 'group-settings'; groupId: string }
  | { screen: 'new-group' }
  | { screen: 'devices' };

export type Navigate = (route: Route) => void;
