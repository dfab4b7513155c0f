/**
 * Distributed Map states for the local runner. The interpreter (`aws-local-stepfunctions`) validates a Map's
 * `ItemReader`, `ItemBatcher` and `ResultWriter` but runs every Map inline over its input. So before a definition is
 * run (it is validated as written first), each Map in `DISTRIBUTED` mode or with an `ItemReader`, at any depth, becomes
 * a Task state of a synthetic resource the runner answers with `runDistributedMap`, keeping the Map's `InputPath`,
 * `ResultSelector`, `ResultPath`, `OutputPath`, `Output`, `Retry`, `Catch` and `Next`/`End`. The Map run then:
 *
 * - reads the items (`ItemReader` from the S3 stand-in, see `map-s3.ts`; else `ItemsPath`/`Items`), `MaxItems`;
 * - applies `ItemSelector` per item (`$$.Map.Item.Index` and `.Value`) and groups them with `ItemBatcher`
 *   (`{ Items, BatchInput }` per child);
 * - runs the `ItemProcessor` once per item or batch as a child execution of the same runner (`MaxConcurrency`; 40 at a
 *   time when unset or 0, where Step Functions runs up to 10,000);
 * - fails with `States.ExceedToleratedFailureThreshold` past `ToleratedFailureCount`/`ToleratedFailurePercentage`
 *   (none tolerated by default), otherwise outputs the children's outputs in item order (a failed child's
 *   `{ Error, Cause }`), or with a `ResultWriter` writes the manifest and result files and outputs where.
 */
import { randomUUID } from 'node:crypto';
import type { S3Client } from '@aws-sdk/client-s3';
import { asl } from './asl';
import type { Json, JsonObject } from './definition';
import { evaluateTemplate } from './jsonata';
import { ChildRecord, ItemReaderDefinition, localS3Client, MOCK_IT, readItems, writeResults } from './map-s3';
import { ExecutionOutcome, TaskError } from './types';

/** The resource of the Task state a Distributed Map becomes. */
export const DISTRIBUTED_MAP_RESOURCE = 'arn:aws:states:::local:distributedMap';
/** Child executions of a Map run at a time when `MaxConcurrency` is unset or 0 (Step Functions: 10,000). */
export const LOCAL_MAX_CONCURRENCY = 40;
/** A Map has no timeout of its own; the interpreter gives a Task 60 s unless told (and its timer needs < 2^31 ms). */
const NO_TIMEOUT_SECONDS = 2_000_000;
/** A batch's input limit in Step Functions (256 KiB). */
const MAX_BATCH_BYTES = 256 * 1024;

type Template = Json | undefined;

/** The fields of a Map state a Distributed Map run reads. */
export interface DistributedMapState {
  readonly Type: 'Map';
  readonly QueryLanguage?: string;
  readonly Label?: string;
  readonly ItemReader?: ItemReaderDefinition;
  readonly ItemProcessor?: {
    readonly ProcessorConfig?: { readonly Mode?: string };
    readonly StartAt: string;
    readonly States: Record<string, unknown>;
    readonly QueryLanguage?: string;
  };
  readonly Iterator?: { readonly StartAt: string; readonly States: Record<string, unknown> };
  readonly ItemsPath?: string;
  readonly Items?: Template;
  readonly ItemSelector?: Template;
  readonly Parameters?: Template;
  readonly ItemBatcher?: {
    readonly MaxItemsPerBatch?: Template;
    readonly MaxItemsPerBatchPath?: string;
    readonly MaxInputBytesPerBatch?: Template;
    readonly MaxInputBytesPerBatchPath?: string;
    readonly BatchInput?: Template;
  };
  readonly MaxConcurrency?: Template;
  readonly MaxConcurrencyPath?: string;
  readonly ToleratedFailureCount?: Template;
  readonly ToleratedFailureCountPath?: string;
  readonly ToleratedFailurePercentage?: Template;
  readonly ToleratedFailurePercentagePath?: string;
  readonly ResultWriter?: {
    readonly Resource?: string;
    readonly Parameters?: Template;
    readonly Arguments?: Template;
    readonly WriterConfig?: { readonly Transformation?: string; readonly OutputType?: string };
  };
}

/** A Map state the runner runs itself: its ItemProcessor is registered as a machine of its own (`childName`). */
export interface RewrittenMap {
  readonly stateName: string;
  readonly state: DistributedMapState;
  /** The processor's definition (`StartAt`, `States`, its query language). */
  readonly processor: { StartAt: string; States: Record<string, unknown>; QueryLanguage?: string };
  /** The name of the processor's machine: `<machine>/<Label or state name>`, as Step Functions names it. */
  readonly childName: string;
}

type States = { States: Record<string, unknown>; QueryLanguage?: string };

/**
 * Replaces each Distributed Map of a definition (in `Parallel` branches and inline Map processors too; those nested
 * in a Distributed Map's processor when that processor is registered in turn) with a Task state of
 * `DISTRIBUTED_MAP_RESOURCE`, and returns them.
 */
export function rewriteDistributedMaps(definition: States, machineName: string, queryLanguage = definition.QueryLanguage): RewrittenMap[] {
  const found: RewrittenMap[] = [];
  for (const [stateName, raw] of Object.entries(definition.States)) {
    const state = raw as DistributedMapState & { Type: string; Branches?: States[] };
    for (const branch of state.Branches ?? []) found.push(...rewriteDistributedMaps(branch, machineName, queryLanguage));
    if (state.Type !== 'Map') continue;
    const processor = state.ItemProcessor ?? state.Iterator;
    if (!processor) continue;
    if (state.ItemReader === undefined && state.ItemProcessor?.ProcessorConfig?.Mode !== 'DISTRIBUTED') {
      found.push(...rewriteDistributedMaps(processor, machineName, queryLanguage));
      continue;
    }
    const jsonata = (state.QueryLanguage ?? queryLanguage) === 'JSONata';
    const { ProcessorConfig: _config, ...steps } = processor as typeof processor & { ProcessorConfig?: unknown };
    const processorLanguage = (steps as { QueryLanguage?: string }).QueryLanguage ?? state.QueryLanguage ?? queryLanguage;
    found.push({
      stateName,
      state,
      childName: `${machineName}/${state.Label ?? stateName}`,
      processor: { ...steps, ...processorLanguage ? { QueryLanguage: processorLanguage } : {} },
    });
    const keep = (jsonata ? ['QueryLanguage', 'Output', 'Retry', 'Catch', 'Next', 'End', 'Comment']
      : ['InputPath', 'ResultSelector', 'ResultPath', 'OutputPath', 'Retry', 'Catch', 'Next', 'End', 'Comment']) as string[];
    definition.States[stateName] = {
      Type: 'Task',
      Resource: DISTRIBUTED_MAP_RESOURCE,
      ...jsonata ? {} : { Parameters: { 'input.$': '$', 'context.$': '$$' } },
      TimeoutSeconds: NO_TIMEOUT_SECONDS,
      ...Object.fromEntries(keep.filter((key) => key in state).map((key) => [key, (state as unknown as Record<string, unknown>)[key]])),
    };
  }
  return found;
}

/** What a Map run needs from the runner. */
export interface MapRunHost {
  readonly region: string;
  readonly accountId: string;
  /** The S3 stand-in's endpoint (`ItemReader`, `ResultWriter`). */
  readonly s3Endpoint?: string;
  /** Starts a child execution of the processor. */
  startChild(input: Json): { executionArn: string; result: Promise<ExecutionOutcome> };
  /** Stops a running child execution (the run failed). */
  stopChild(executionArn: string): void;
  /** Whether the execution of the Map has ended (stopped, timed out): no more children start then. */
  ended(): boolean;
  trace(kind: 'MapRunStarted' | 'MapRunSucceeded' | 'MapRunFailed', detail: string): void;
}

/** One Map run: the state, its effective input and the context object of the execution. */
export interface MapRunCall {
  readonly map: RewrittenMap;
  readonly machineName: string;
  readonly input: Json;
  readonly context: JsonObject;
  readonly jsonata: boolean;
}

/** Evaluates JSONPath payload templates (`.$` fields, intrinsics, `$$`) with the interpreter: a one-state Pass. */
async function evaluatePayload(template: JsonObject, input: Json, context: JsonObject): Promise<JsonObject> {
  const definition = { StartAt: 'Evaluate', States: { Evaluate: { Type: 'Pass', Parameters: template, End: true } } };
  return await runQuiet(definition, input, context) as JsonObject;
}

async function runQuiet(definition: object, input: Json, context: JsonObject): Promise<Json> {
  const machine = new asl.StateMachine(JSON.parse(JSON.stringify(definition)), { validationOptions: { noValidate: true } });
  try {
    return await machine.run(input as never, { context: context as never }).result as Json;
  } catch (error) {
    const cause = (error as { cause?: Error }).cause ?? error as Error;
    throw new TaskError(cause.name, cause.message);
  }
}

/** `ItemSelector` over every item, with `$$.Map.Item.Index` and `$$.Map.Item.Value`. */
async function selectItems(call: MapRunCall, selector: Json, items: Json[]): Promise<Json[]> {
  if (call.jsonata) {
    return Promise.all(items.map(async (item, index) => await evaluateTemplate(selector, {
      input: call.input, context: { ...call.context, Map: { Item: { Index: index, Value: item } } },
    }) ?? null));
  }
  // The interpreter's own inline Map applies the selector: its items come from the context object.
  const definition = {
    StartAt: 'Select',
    States: {
      Select: {
        Type: 'Map',
        ItemsPath: '$$.LocalMapItems',
        ItemSelector: selector,
        End: true,
        ItemProcessor: { StartAt: 'Item', States: { Item: { Type: 'Pass', End: true } } },
      },
    },
  };
  return await runQuiet(definition, call.input, { ...call.context, LocalMapItems: items }) as Json[];
}

/** The Map's settings, evaluated: `...Path` fields (JSONPath) or JSONata expressions. */
async function settingsOf(call: MapRunCall): Promise<JsonObject> {
  const { state } = call.map;
  const b = state.ItemBatcher ?? {};
  const fields: Record<string, [Template, string | undefined]> = {
    readerParams: [call.jsonata ? state.ItemReader?.Arguments : state.ItemReader?.Parameters, undefined],
    maxItems: [state.ItemReader?.ReaderConfig?.MaxItems, state.ItemReader?.ReaderConfig?.MaxItemsPath],
    items: [call.jsonata ? state.Items : undefined, call.jsonata ? undefined : state.ItemsPath],
    maxConcurrency: [state.MaxConcurrency, state.MaxConcurrencyPath],
    toleratedCount: [state.ToleratedFailureCount, state.ToleratedFailureCountPath],
    toleratedPercentage: [state.ToleratedFailurePercentage, state.ToleratedFailurePercentagePath],
    batchMaxItems: [b.MaxItemsPerBatch, b.MaxItemsPerBatchPath],
    batchMaxBytes: [b.MaxInputBytesPerBatch, b.MaxInputBytesPerBatchPath],
    batchInput: [b.BatchInput, undefined],
    writer: [call.jsonata ? state.ResultWriter?.Arguments : state.ResultWriter?.Parameters, undefined],
  };
  if (call.jsonata) {
    const entries = Object.entries(fields).filter(([, [value]]) => value !== undefined);
    const template = Object.fromEntries(entries.map(([key, [value]]) => [key, value!]));
    return await evaluateTemplate(template, { input: call.input, context: call.context }) as JsonObject;
  }
  const template: JsonObject = {};
  for (const [key, [value, path]] of Object.entries(fields)) {
    if (path !== undefined) template[`${key}.$`] = path;
    else if (value !== undefined) template[key] = value;
  }
  return evaluatePayload(template, call.input, call.context);
}

const numberOf = (value: Json | undefined): number | undefined => (typeof value === 'number' ? value : undefined);

/** Groups items into batches: `{ Items, BatchInput }` within the item and byte limits. */
export function batchItems(items: Json[], maxItems: number | undefined, maxBytes: number | undefined, batchInput: Json | undefined): Json[][] {
  const limit = maxBytes ?? MAX_BATCH_BYTES;
  const baseBytes = Buffer.byteLength(JSON.stringify({ Items: [], ...batchInput !== undefined ? { BatchInput: batchInput } : {} }));
  const batches: Json[][] = [];
  let current: Json[] = [];
  let bytes = baseBytes;
  for (const item of items) {
    // The item, and a comma before it unless it comes first.
    const itemBytes = Buffer.byteLength(JSON.stringify(item));
    if (current.length > 0 && ((maxItems !== undefined && current.length >= maxItems) || bytes + itemBytes + 1 > limit)) {
      batches.push(current);
      current = [];
      bytes = baseBytes;
    }
    bytes += itemBytes + (current.length > 0 ? 1 : 0);
    current.push(item);
  }
  if (current.length > 0) batches.push(current);
  return batches;
}

/** Runs a Distributed Map; resolves with its result (before `ResultSelector`/`ResultPath`), or rejects with its error. */
export async function runDistributedMap(call: MapRunCall, host: MapRunHost): Promise<Json> {
  const { state, stateName } = call.map;
  const mapRunArn = `arn:aws:states:${host.region}:${host.accountId}:mapRun:${call.machineName}/${state.Label ?? stateName}:${randomUUID()}`;
  const writer = state.ResultWriter;
  let s3: S3Client | undefined;
  const client = () => {
    if (!host.s3Endpoint) {
      throw new TaskError('States.Runtime', `The Distributed Map ${stateName} reads or writes S3, and this runner has no S3 endpoint: give LocalStepFunctions the `
        + '`s3Endpoint` of an S3 stand-in (LocalCloud and LocalApp do).');
    }
    s3 ??= localS3Client(host.s3Endpoint, host.region);
    return s3;
  };
  try {
    if (writer?.WriterConfig?.OutputType === 'JSONL') {
      throw new TaskError('States.Runtime', `The local runner does not support the ResultWriter OutputType JSONL (state ${stateName}): ${MOCK_IT}.`);
    }
    if (writer?.Resource !== undefined && !/^arn:aws[a-z-]*:states:::s3:putObject$/.test(writer.Resource)) {
      throw new TaskError('States.Runtime', `The local runner does not support the ResultWriter resource ${writer.Resource} (state ${stateName}; it writes with s3:putObject): ${MOCK_IT}.`);
    }
    const settings = await settingsOf(call);
    const maxItems = numberOf(settings.maxItems) || undefined;
    let items: Json;
    if (state.ItemReader) {
      items = await readItems(client(), state.ItemReader, (settings.readerParams ?? {}) as JsonObject, maxItems);
    } else {
      items = settings.items !== undefined ? settings.items : call.input;
    }
    if (!Array.isArray(items)) {
      throw new TaskError('States.Runtime', `The items of the Map ${stateName} are not an array: got ${JSON.stringify(items)?.slice(0, 100)}. `
        + 'Point ItemsPath (or Items, or the ItemReader) at a JSON array.');
    }
    const selector = state.ItemSelector ?? state.Parameters;
    const selected = selector !== undefined ? await selectItems(call, selector, items) : items;
    const batched = state.ItemBatcher !== undefined;
    const groups = batched
      ? batchItems(selected, numberOf(settings.batchMaxItems), numberOf(settings.batchMaxBytes), settings.batchInput)
      : selected.map((item) => [item]);
    const inputs = groups.map((group) => (batched
      ? { Items: group, ...settings.batchInput !== undefined ? { BatchInput: settings.batchInput } : {} } : group[0]));
    const limit = numberOf(settings.maxConcurrency) || LOCAL_MAX_CONCURRENCY;
    host.trace('MapRunStarted', `${selected.length} items in ${inputs.length} child executions${batched ? ' (batches)' : ''}, up to ${limit} at a time`);

    const tolerance = { count: numberOf(settings.toleratedCount), percentage: numberOf(settings.toleratedPercentage) };
    const { outcomes, failedItems, exceeded } = await runChildren(inputs, groups.map((g) => g.length), selected.length, limit, tolerance, host);
    // Every child has ended unless the run failed: then those it stopped are left out.
    const ended = outcomes.flatMap((outcome, index) => (outcome ? [{ outcome, index }] : []));
    const failed = ended.filter(({ outcome }) => outcome.status !== 'SUCCEEDED').length;
    const summary = `${ended.length - failed} child executions succeeded, ${failed} failed (${failedItems} of ${selected.length} items failed)`;
    const records = ended.map(({ outcome, index }) => recordOf(outcome, inputs[index], mapRunArn));
    const outputs = ended.map(({ outcome: o }) => (o.status === 'SUCCEEDED' ? o.output ?? null : { Error: o.error ?? null, Cause: o.cause ?? null }));
    let result: Json = transform(outputs, records, writer?.WriterConfig?.Transformation ?? 'COMPACT');
    if (writer?.Resource !== undefined) {
      const target = (settings.writer ?? {}) as JsonObject;
      const bucket = String(target.Bucket ?? '');
      const succeeded = ended.map(({ outcome }, i) => (outcome.status === 'SUCCEEDED' ? i : -1)).filter((i) => i >= 0);
      const key = await writeResults(client(), { bucket, prefix: String(target.Prefix ?? ''), mapRunArn }, {
        SUCCEEDED: transform(succeeded.map((i) => outputs[i]), succeeded.map((i) => records[i]), writer.WriterConfig?.Transformation ?? 'NONE'),
        FAILED: records.filter((r) => r.Status !== 'SUCCEEDED'),
      });
      result = { MapRunArn: mapRunArn, ResultWriterDetails: { Bucket: bucket, Key: key } };
    }
    if (exceeded) {
      const first = ended.map(({ outcome }) => outcome).find((o) => o.status !== 'SUCCEEDED' && o.status !== 'ABORTED');
      throw new TaskError('States.ExceedToleratedFailureThreshold', `The specified tolerated failure threshold was exceeded: ${summary}`
        + (first ? `; the first failure: ${first.error}: ${first.cause ?? ''}` : ''));
    }
    host.trace('MapRunSucceeded', summary);
    return result;
  } catch (error) {
    host.trace('MapRunFailed', `${(error as Error).name}: ${(error as Error).message}`);
    throw error;
  } finally {
    (s3 as S3Client | undefined)?.destroy();
  }
}

/** The Map's output as `WriterConfig.Transformation` shapes it. */
function transform(outputs: Json[], records: ChildRecord[], transformation: string): Json[] {
  if (transformation === 'NONE') return records;
  if (transformation === 'FLATTEN') return outputs.flatMap((output) => (Array.isArray(output) ? output : [output]));
  return outputs;
}

function recordOf(outcome: ExecutionOutcome, input: Json, mapRunArn: string): ChildRecord {
  const name = outcome.executionArn.split(':').pop()!;
  const machineArn = outcome.executionArn.replace(/:execution:([^:]+):[^:]+$/, ':stateMachine:$1');
  return {
    ExecutionArn: outcome.executionArn,
    Name: name,
    StateMachineArn: machineArn,
    MapRunArn: mapRunArn,
    Status: outcome.status,
    Input: JSON.stringify(input),
    InputDetails: { Included: true },
    ...outcome.status === 'SUCCEEDED'
      ? { Output: JSON.stringify(outcome.output ?? null), OutputDetails: { Included: true } }
      : { Error: outcome.error ?? null, Cause: outcome.cause ?? null },
    StartDate: outcome.startDate.toISOString(),
    StopDate: outcome.stopDate.toISOString(),
  };
}

/** Runs the child executions, `limit` at a time, until all ended or the failures exceed the tolerance. */
function runChildren(
  inputs: Json[], sizes: number[], totalItems: number, limit: number, tolerance: { count?: number; percentage?: number }, host: MapRunHost,
): Promise<{ outcomes: Array<ExecutionOutcome | undefined>; failedItems: number; exceeded: boolean }> {
  const outcomes: Array<ExecutionOutcome | undefined> = new Array(inputs.length);
  const running = new Set<string>();
  let next = 0;
  let failedItems = 0;
  let exceeded = false;
  const exceeds = () => (tolerance.count === undefined && tolerance.percentage === undefined
    ? failedItems > 0
    : (tolerance.count !== undefined && failedItems > tolerance.count)
      || (tolerance.percentage !== undefined && (failedItems * 100) / totalItems > tolerance.percentage));
  return new Promise((resolve) => {
    const launch = () => {
      while (!exceeded && !host.ended() && running.size < limit && next < inputs.length) {
        const index = next++;
        const child = host.startChild(inputs[index]);
        running.add(child.executionArn);
        void child.result.then((outcome) => {
          running.delete(child.executionArn);
          outcomes[index] = outcome;
          if (outcome.status !== 'SUCCEEDED' && !exceeded) {
            failedItems += sizes[index];
            if (exceeds()) {
              exceeded = true;
              for (const arn of running) host.stopChild(arn);
            }
          }
          launch();
        });
      }
      if (running.size === 0) {
        resolve({ outcomes, failedItems, exceeded });
      }
    };
    launch();
  });
}
