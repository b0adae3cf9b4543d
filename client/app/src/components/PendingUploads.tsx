import { useRef } from 'preact/hooks';
import type { Conversation } from '../../../sdk/index.js';
import type { AppModel } from '../model/app-model.js';
import { humanSize, type UploadRow, type UploadStatus } from '../model/attachments.js';
import { RetryButton } from './RetryButton.js';
import { TransferBar } from './TransferBar.js';

const STATUS_TEXT: Partial<Record<UploadStatus, string>> = { waiting: 'Waiting…', preparing: 'Preparing…', sending: 'Sending…' };
const CAN_CANCEL = new Set<UploadStatus>(['waiting', 'preparing', 'uploading']);
const CAN_RETRY = new Set<UploadStatus>(['cancelled', 'failed']);
const CAN_REMOVE = new Set<UploadStatus>(['cancelled', 'failed', 'refused']);

/** Files of this conversation on their way out, below the timeline until each is a message in it. */
export function PendingUploads({ model, conversation }: { model: AppModel; conversation: Conversation }) {
  // Which row the user just cancelled: its Retry button takes the focus the Cancel button had.
  const cancelledHere = useRef<string | undefined>(undefined);
  const rows = model.attachments.uploadsIn(conversation);
  if (rows.length === 0) return null;
  return (
    <ul class="uploads" aria-label="Files being sent">
      {rows.map((row) => (
        <UploadLine
          key={row.localId}
          row={row}
          takeFocus={cancelledHere.current === row.localId}
          onCancel={() => {
            cancelledHere.current = row.localId;
            model.attachments.cancel(row.localId);
          }}
          onRetry={() => {
            cancelledHere.current = undefined;
            model.attachments.retry(row.localId);
          }}
          onRemove={() => model.attachments.remove(row.localId)}
        />
      ))}
    </ul>
  );
}

function UploadLine({ row, takeFocus, onCancel, onRetry, onRemove }: {
  row: UploadRow; takeFocus: boolean; onCancel: () => void; onRetry: () => void; onRemove: () => void;
}) {
  const name = row.fileName;
  return (
    <li class="upload" data-status={row.status} data-file={name}>
      <span class="file-label">
        <span class="file-name">{name}</span>
        <span class="file-size">{humanSize(row.size)}</span>
      </span>
      {row.status === 'uploading' && <TransferBar label={`Uploading ${name}`} progress={row.progress} />}
      {STATUS_TEXT[row.status] && <span class="upload-status">{STATUS_TEXT[row.status]}</span>}
      {row.error && <span class="error-text" role="alert">{row.error}</span>}
      <span class="upload-actions">
        {CAN_CANCEL.has(row.status) && <button type="button" aria-label={`Cancel sending ${name}`} onClick={onCancel}>Cancel</button>}
        {CAN_RETRY.has(row.status) && <RetryButton text="Retry" label={`Retry sending ${name}`} takeFocus={takeFocus} onClick={onRetry} />}
        {CAN_REMOVE.has(row.status) && <button type="button" class="link" aria-label={`Remove ${name}`} onClick={onRemove}>Remove</button>}
      </span>
    </li>
  );
}
