/** Reading and preparing state machine definitions for the local runner. */
import type { StateMachineDefinition } from 'aws-local-stepfunctions' with { 'resolution-mode': 'import' };

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

/** What `$$.Task.Token` is replaced with: the interpreter makes a fresh UUID per attempt. */
export const TOKEN_PLACEHOLDER = 'States.UUID()';

/** The interpreter's event log entries this runner reads. */
export interface EventLog {
  readonly type: string;
  readonly timestamp: number;
  readonly state?: { readonly name: string };
  readonly Error?: string;
  readonly retry?: { readonly attempt: number };
  readonly catch?: { readonly catcher: { readonly Next: string } };
}

export interface TaskState {
  readonly Type: 'Task';
  readonly Resource: string;
  readonly TimeoutSeconds?: number;
  readonly Parameters?: Json;
  /** JSONata states (see `jsonata.ts`). */
  readonly QueryLanguage?: string;
  readonly Arguments?: Json;
  readonly Output?: Json;
}

/** Visits every Task state, branches and map iterators included. */
export function forEachTask(definition: { States: Record<string, unknown> }, visit: (name: string, state: TaskState) => void): void {
  for (const [name, raw] of Object.entries(definition.States)) {
    type Nested = { States: Record<string, unknown> };
    const state = raw as { Type: string; Branches?: Nested[]; Iterator?: Nested; ItemProcessor?: Nested };
    if (state.Type === 'Task') visit(name, raw as TaskState);
    for (const branch of state.Branches ?? []) forEachTask(branch, visit);
    if (state.Iterator) forEachTask(state.Iterator, visit);
    if (state.ItemProcessor) forEachTask(state.ItemProcessor, visit);
  }
}

/** Replaces `"<key>.$": "$$.Task.Token"` with a fresh UUID per attempt, and records where the token goes. */
export function rewriteTaskTokens(definition: StateMachineDefinition, tokenPaths: Map<string, string[][]>): void {
  forEachTask(definition as unknown as { States: Record<string, unknown> }, (name, state) => {
    const paths: string[][] = [];
    const walk = (node: Json | undefined, path: string[]) => {
      if (!node || typeof node !== 'object' || Array.isArray(node)) return;
      for (const [key, value] of Object.entries(node)) {
        if (key.endsWith('.$') && value === '$$.Task.Token') {
          node[key] = TOKEN_PLACEHOLDER;
          paths.push([...path, key.slice(0, -2)]);
        } else {
          walk(value, [...path, key]);
        }
      }
    };
    walk(state.Parameters, []);
    if (paths.length) tokenPaths.set(name, paths);
  });
}

export function valueAt(root: Json, path: string[]): Json | undefined {
  let node: Json | undefined = root;
  for (const key of path) {
    if (!node || typeof node !== 'object' || Array.isArray(node)) return undefined;
    node = node[key];
  }
  return node;
}

/**
 * The statement a callback reports (`detail.statementId` of the event it carries), and whether that event was rebuilt
 * from the Data API's answer (its id starts with `reconciled-`: the fast path or a sweep) rather than delivered.
 */
export function reportedStatement(text: string): { statementId?: string; described: boolean } {
  try {
    const event = JSON.parse(text) as { id?: unknown; detail?: { statementId?: unknown } };
    const id = event.detail?.statementId;
    return {
      ...typeof id === 'string' ? { statementId: id } : {},
      described: typeof event.id === 'string' && event.id.startsWith('reconciled-'),
    };
  } catch {
    return { described: false };
  }
}

export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max)}…`;
}
