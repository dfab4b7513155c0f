/**
 * JSONata Task states for the local runner. The interpreter (`aws-local-stepfunctions`) runs JSONPath only: for a
 * Task state whose query language is JSONata, it hands the state's input to the runner unchanged, and the runner
 * evaluates the state's `Arguments` (before the call) and `Output` (after it) here, with `$states.input`,
 * `$states.context` (execution, state machine, state, task token) and `$states.result`. Not supported: `Assign`,
 * JSONata in Choice, Pass, Map or Parallel states, and `Output` on a `Catch`.
 */
import jsonata from 'jsonata';

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

const EXPRESSION = /^\{%([\s\S]*)%\}$/;

/** The `$states` variable of a JSONata state. */
export interface StatesVariable {
  readonly input: Json;
  readonly context: Json;
  readonly result?: Json;
}

/** Whether a state is evaluated in JSONata (its own `QueryLanguage`, else the machine's). */
export function isJsonataState(state: { QueryLanguage?: string }, machineQueryLanguage: string | undefined): boolean {
  return (state.QueryLanguage ?? machineQueryLanguage) === 'JSONata';
}

/**
 * Evaluates a JSONata template: every string that is a whole `{% expression %}` is replaced by the expression's
 * value (fields whose value is undefined are left out, as Step Functions does); other values stay as they are.
 */
export async function evaluateTemplate(template: Json | undefined, states: StatesVariable): Promise<Json | undefined> {
  if (typeof template === 'string') {
    const match = EXPRESSION.exec(template.trim());
    if (!match) return template;
    try {
      return await jsonata(match[1]).evaluate({}, { states }) as Json | undefined;
    } catch (error) {
      const message = (error as { message?: string }).message ?? String(error);
      throw Object.assign(new Error(`The JSONata expression ${template} failed: ${message}`), { name: 'States.QueryEvaluationError' });
    }
  }
  if (Array.isArray(template)) {
    const items = await Promise.all(template.map((item) => evaluateTemplate(item, states)));
    return items.filter((item): item is Json => item !== undefined);
  }
  if (template && typeof template === 'object') {
    const entries = await Promise.all(Object.entries(template).map(async ([key, value]) => [key, await evaluateTemplate(value, states)] as const));
    return Object.fromEntries(entries.filter(([, value]) => value !== undefined)) as Json;
  }
  return template;
}
