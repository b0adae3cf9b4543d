/**
 * Problems the SDK reports while sending (`send_problem`), kept as notices for the user: one
 * per recipient and code at a time, so a device that keeps refusing does not flood the screen
 * with the same line for every message, receipt and retry. Dismissing one lets it come back.
 */
import { describeSendProblem, type SendProblemLike } from './describe-error.js';

export interface ProblemNotice {
  key: string;
  text: string;
}

export class SendProblems {
  private readonly shown = new Map<string, ProblemNotice>();

  /** Adds a notice for `problem` unless one for the same handle and code is shown; true when added. */
  add(problem: SendProblemLike, me: string | undefined): boolean {
    const key = `${problem.handle}|${problem.code}`;
    if (this.shown.has(key)) return false;
    this.shown.set(key, { key, text: describeSendProblem(problem, me) });
    return true;
  }

  list(): ProblemNotice[] {
    return [...this.shown.values()];
  }

  dismiss(key: string): void {
    this.shown.delete(key);
  }
}
