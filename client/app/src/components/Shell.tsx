import { useEffect, useMemo } from 'preact/hooks';
import type { AppModel } from '../model/app-model.js';
import { conversationKey } from '../model/conversation-key.js';
import { AboutApp } from './AboutApp.js';
import { ConversationList } from './ConversationList.js';
import { ConversationView } from './ConversationView.js';
import { DevicesScreen } from './DevicesScreen.js';
import { GroupSettings } from './GroupSettings.js';
import { NewConversationForm } from './NewConversationForm.js';
import { NewGroupForm } from './NewGroupForm.js';
import { NoticeBar } from './NoticeBar.js';
import { SafetyNumberScreen } from './SafetyNumberScreen.js';
import { TopBar } from './TopBar.js';
import { useHashRoute } from './use-hash-route.js';

/** Signed in: the list on the side, one screen in the main pane (only one of them on a phone). */
export function Shell({ model }: { model: AppModel }) {
  const [route, setRoute] = useHashRoute();
  const chatKey = route.screen === 'chat' ? conversationKey(route.conversation) : undefined;
  const chat = useMemo(() => (route.screen === 'chat' ? route.conversation : undefined), [chatKey]);
  useEffect(() => model.setActive(chat), [model, chat]);
  const home = () => setRoute({ screen: 'home' });

  return (
    <div class={`shell ${route.screen === 'home' ? 'pane-closed' : 'pane-open'}`}>
      <TopBar model={model} navigate={setRoute} />
      <NoticeBar notice={model.notice} problems={model.problems()} onDismiss={() => model.dismissNotice()} onDismissProblem={(key) => model.dismissProblem(key)} />
      <aside class="sidebar" aria-label="Conversations">
        <NewConversationForm model={model} navigate={setRoute} />
        <button type="button" class="new-group" onClick={() => setRoute({ screen: 'new-group' })}>New group</button>
        <ConversationList summaries={model.conversations()} selected={chat} navigate={setRoute} />
        <AboutApp />
      </aside>
      <main class="pane">
        {route.screen === 'home' && (
          <div class="empty-pane">
            <p>Pick a conversation, or start one with a handle.</p>
          </div>
        )}
        {route.screen === 'chat' && <ConversationView key={conversationKey(route.conversation)} model={model} conversation={route.conversation} navigate={setRoute} onBack={home} />}
        {route.screen === 'safety' && <SafetyNumberScreen model={model} handle={route.handle} navigate={setRoute} />}
        {route.screen === 'group-settings' && <GroupSettings model={model} groupId={route.groupId} navigate={setRoute} />}
        {route.screen === 'new-group' && <NewGroupForm model={model} navigate={setRoute} onBack={home} />}
        {route.screen === 'devices' && <DevicesScreen model={model} onBack={home} />}
      </main>
    </div>
  );
}
