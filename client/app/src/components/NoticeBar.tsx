import type { ProblemNotice } from '../model/send-problems.js';

/**
 * Dismissable lines for problems that do not belong to one form: the latest general notice and
 * the send problems (one per recipient and reason).
 */
export function NoticeBar({ notice, problems, onDismiss, onDismissProblem }: {
  notice: string | undefined;
  problems: ProblemNotice[];
  onDismiss: () => void;
  onDismissProblem: (key: string) => void;
}) {
  if (!notice && problems.length === 0) return null;
  return (
    <div class="notices">
      {notice && <NoticeLine text={notice} onDismiss={onDismiss} />}
      {problems.map((problem) => <NoticeLine key={problem.key} text={problem.text} onDismiss={() => onDismissProblem(problem.key)} kind="send-problem" />)}
    </div>
  );
}

function NoticeLine({ text, onDismiss, kind }: { text: string; onDismiss: () => void; kind?: string }) {
  return (
    <div class={kind ? `notice ${kind}` : 'notice'} role="alert">
      <span>{text}</span>
      <button type="button" class="link" onClick={onDismiss}>Dismiss</button>
    </div>
  );
}
