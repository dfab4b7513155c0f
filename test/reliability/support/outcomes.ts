/**
 * What became of each statement a scenario started: called back (an accepted `SendTaskSuccess`/`SendTaskFailure`,
 * or a 2xx-answered CloudFormation response), closed (Step Functions answered the callback with a final error:
 * the task had timed out, did not exist or the token was invalid), dead-lettered (its event is in the DLQ), or
 * lost — none of these. "No event lost" means `lost === 0`.
 */
import { QueueRecord } from './sqs';
import { LocalAws } from '../../../local/aws';

export interface Tracked {
  readonly statementId: string;
  readonly taskToken?: string;
  readonly responseUrl?: string;
}

export interface Outcomes {
  readonly statements: number;
  readonly calledBack: number;
  /** Statements with more than one accepted callback (must be 0). */
  readonly calledBackTwice: number;
  readonly taskClosed: number;
  readonly deadLettered: number;
  readonly lost: number;
}

const FINAL_ANSWERS = new Set(['TaskTimedOut', 'TaskDoesNotExist', 'InvalidToken']);

export function outcomes(aws: LocalAws, queues: QueueRecord | readonly QueueRecord[], tracked: readonly Tracked[]): Outcomes {
  const dead = new Set<string>();
  for (const queue of Array.isArray(queues) ? queues : [queues as QueueRecord]) {
    for (const message of queue.deadLetters) {
      try {
        dead.add(JSON.parse(message.body).detail.statementId);
      } catch {
        // not a status-change event
      }
    }
  }
  let calledBack = 0;
  let calledBackTwice = 0;
  let taskClosed = 0;
  let deadLettered = 0;
  let lost = 0;
  for (const statement of tracked) {
    let accepted = 0;
    let closed = false;
    if (statement.taskToken !== undefined) {
      const calls = aws.sfn.callsFor(statement.taskToken).filter((call) => call.operation !== 'SendTaskHeartbeat');
      accepted = calls.filter((call) => call.answer === 'accepted').length;
      closed = calls.some((call) => FINAL_ANSWERS.has(call.answer));
    } else if (statement.responseUrl !== undefined) {
      accepted = aws.cfn.responsesFor(statement.responseUrl).filter((response) => response.status >= 200 && response.status < 300).length;
    }
    if (accepted > 0) calledBack += 1;
    if (accepted > 1) calledBackTwice += 1;
    if (accepted === 0 && closed) taskClosed += 1;
    if (dead.has(statement.statementId)) deadLettered += 1;
    if (accepted === 0 && !closed && !dead.has(statement.statementId)) lost += 1;
  }
  return { statements: tracked.length, calledBack, calledBackTwice, taskClosed, deadLettered, lost };
}

/** A deterministic shuffle, so a failing run can be repeated exactly. */
export function shuffle<T>(items: readonly T[], seed: number): T[] {
  const random = seededRandom(seed);
  const result = [...items];
  for (let i = result.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [result[i], result[j]] = [result[j], result[i]];
  }
  return result;
}

/** A seeded random number generator in [0, 1) (Park–Miller), for fault injectors and shuffles. */
export function seededRandom(seed: number): () => number {
  const modulus = 2_147_483_647;
  let state = (Math.abs(Math.floor(seed)) % (modulus - 1)) + 1;
  return () => {
    state = (state * 48_271) % modulus;
    return (state - 1) / (modulus - 1);
  };
}
