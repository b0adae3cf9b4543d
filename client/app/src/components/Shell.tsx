import { useEffect, useMemo, useRef } from 'preact/hooks';
import type { AppModel } from '../model/app-model.js';
import { conversationKey } from '../model/conversation-key.js';
import { routeFromHash, routeToHash, type Route } from '../route.js';
import { AboutApp } from './AboutApp.js';
import { Announcer } from './Announcer.js';
import { ConversationList } from './ConversationList.js';
import { ConversationView } from './ConversationView.js';
import { DevicesScreen } from './DevicesScreen.js';
import { GroupSettings } from './GroupSettings.js';
import { NewConversationForm } from './NewConversationForm.js';
import { NewGroupForm } from './NewGroupForm.js';
import { NoticeBar } from './NoticeBar.js';
import { SafetyNumberScreen } from './SafetyNumberScreen.js';
import { ThemeSwitch } from './ThemeSwitch.js';
import { TopBar } from './TopBar.js';
import { useEscape, useRouteFocus } from './use-focus.js';
import { useHashRoute } from './use-hash-route.js';

/** The field a screen is for, by id, where it is not the screen's first [autofocus] (use-focus.ts). */
const MAIN_CONTROL: Partial<Record<Route['screen'], string>> = {
  home: 'new-conversation-handle', // not even in the pane: the list's field to start a conversation
  'new-group': 'group-name',
  'group-settings': 'add-member-handle', // absent once no longer a member: then the heading
};

function mainControl(screen: Route['screen']): HTMLElement | undefined {
  const id = MAIN_CONTROL[screen];
  const element = id ? document.getElementById(id) : null;
  return element && !(element as HTMLInputElement).disabled ? element : undefined;
}

/** Where closing a sub-screen goes when it was not opened from another screen (a reload, a link). */
function parentOf(route: Route): Route | undefined {
  switch (route.screen) {
    case 'safety':
      return { screen: 'chat', conversation: { kind: 'direct', handle: route.handle } };
    case 'group-settings':
      return { screen: 'chat', conversation: { kind: 'group', groupId: route.groupId } };
    case 'devices':
    case 'new-group':
      return { screen: 'home' };
    default:
      return undefined; // not a sub-screen: Escape does nothing
  }
}

/**
 * Signed in: the list on the side, one screen in the main pane (only one of them on a phone).
 * Both are inside <main>, so the phone's list screen has its main landmark too. Focus follows
 * screen changes (use-focus.ts); Escape closes a sub-screen, back to where it was opened from.
 */
export function Shell({ model }: { model: AppModel }) {
  const [route, setRoute] = useHashRoute();
  const hash = routeToHash(route);
  const chatKey = route.screen === 'chat' ? conversationKey(route.conversation) : undefined;
  const chat = useMemo(() => (route.screen === 'chat' ? route.conversation : undefined), [chatKey]);
  useEffect(() => model.setActive(chat), [model, chat]);
  const pane = useRef<HTMLDivElement>(null);
  const focus = useRouteFocus(hash, pane, () => mainControl(route.screen));
  const home = () => setRoute({ screen: 'home' });
  const parent = parentOf(route);
  const previous = focus.previous();
  // Back to the screen it was opened from (the conversation, for Devices opened there), else its parent.
  const close = parent ? () => setRoute(previous && previous !== hash ? routeFromHash(previous) : parent) : undefined;
  useEscape(close);

  return (
    <div class={`shell ${route.screen === 'home' ? 'pane-closed' : 'pane-open'}`}>
      <TopBar model={model} navigate={setRoute} />
      <NoticeBar notice={model.notice} problems={model.problems()} onDismiss={() => model.dismissNotice()} onDismissProblem={(key) => model.dismissProblem(key)} />
      <main class="workspace">
        <h1 class="visually-hidden">Sealpost{model.handle ? ` — @${model.handle}` : ''}</h1>
        <section class="sidebar" aria-label="Conversations">
          <NewConversationForm model={model} navigate={setRoute} />
          <button type="button" class="new-group" onClick={() => setRoute({ screen: 'new-group' })}>New group</button>
          <ConversationList summaries={model.conversations()} selected={chat} navigate={setRoute} />
          <ThemeSwitch />
          <AboutApp />
        </section>
        <div class="pane" ref={pane}>
          {route.screen === 'home' && (
            <div class="empty-pane">
              <p>Pick a conversation, or start one with a handle.</p>
            </div>
          )}
          {route.screen === 'chat' && <ConversationView key={conversationKey(route.conversation)} model={model} conversation={route.conversation} navigate={setRoute} onBack={home} />}
          {route.screen === 'safety' && <SafetyNumberScreen model={model} handle={route.handle} onClose={close ?? home} />}
          {route.screen === 'group-settings' && <GroupSettings model={model} groupId={route.groupId} navigate={setRoute} />}
          {route.screen === 'new-group' && <NewGroupForm model={model} navigate={setRoute} onBack={close ?? home} />}
          {route.screen === 'devices' && <DevicesScreen model={model} onBack={close ?? home} />}
        </div>
        <Announcer model={model} open={chat} />
      </main>
    </div>
  );
}
