import type { AppModel } from '../model/app-model.js';

/**
 * Under one of our messages still only stored while a later one was delivered: the relay may
 * have lost it. "Send again" sends it unchanged (whoever has it already drops the copy).
 */
export function NotDelivered({ model, messageId }: { model: AppModel; messageId: string }) {
  const resent = model.wasResent(messageId);
  return (
    <span class="not-delivered">
      <span class="reason" role="status">{resent ? 'Sent again — waiting for it to be delivered' : 'May not have been delivered'}</span>
      <button type="button" class="link" onClick={() => void model.resend(messageId)}>Send again</button>
    </span>
  );
}
