/**
 * Benchmark 6: cost per statement, from the measured calls and item sizes and public list prices (us-east-1), next to
 * a Step Functions polling loop (Wait → DescribeStatement → Choice every 10 s) and a Lambda poller, for a 1-minute and
 * a 20-minute statement. The waiting task's own state transition exists in every design and is left out.
 */
import { LifecycleCalls } from './calls';
import { round } from './stats';

/** us-east-1 list prices (USD). */
export const PRICES = {
  sfnStateTransition: 0.025 / 1_000,
  lambdaRequest: 0.20 / 1_000_000,
  lambdaGbSecond: 0.0000166667,
  sqsRequest: 0.40 / 1_000_000,
  dynamoWriteRequestUnit: 0.625 / 1_000_000,
  dynamoReadRequestUnit: 0.125 / 1_000_000,
  kmsKeyMonth: 1,
  /** EventBridge: state-change events published by AWS services are free. */
  eventBridgeAwsEvent: 0,
  /** The Data API has no per-call price (Redshift compute is paid the same in every design). */
  dataApiCall: 0,
} as const;

/** Assumptions of the model, stated in the report. */
export const ASSUMPTIONS = {
  /** The tasker's function: 256 MB (the construct's default). */
  taskerMemoryGb: 0.25,
  /** Billed duration per tasker invocation (start; completion), a conservative round figure, ms. */
  taskerBilledMs: 100,
  /** Completion invocations per statement: 1 (a batch of one event; under load up to 10 events share one). */
  completionInvocationsPerStatement: 1,
  /** SQS requests per event: SendMessage (EventBridge), ReceiveMessage, DeleteMessage (no batching assumed). */
  sqsRequestsPerEvent: 3,
  /** Polling interval of the polling designs, s. */
  pollIntervalSeconds: 10,
  /** Transitions per polling cycle in Step Functions: Wait, DescribeStatement task, Choice. */
  transitionsPerPollCycle: 3,
  /** Lambda poller (one invocation per cycle): 128 MB, 100 ms billed. */
  pollerMemoryGb: 0.125,
  pollerBilledMs: 100,
  statementsPerDay: 1_000,
} as const;

export interface CostLine {
  readonly design: string;
  readonly statementMinutes: number | 'any';
  readonly perStatementUsd: number;
  readonly perMonthUsd: number;
  readonly breakdown: Record<string, number>;
}

export interface CostResult {
  readonly prices: typeof PRICES;
  readonly assumptions: typeof ASSUMPTIONS;
  readonly lines: CostLine[];
  /** Fixed monthly cost of the callback infrastructure (the queues' KMS key). */
  readonly fixedMonthlyUsd: number;
}

const writeUnits = (bytes: number) => Math.max(1, Math.ceil(bytes / 1024));

function month(perStatement: number): number {
  return perStatement * ASSUMPTIONS.statementsPerDay * 30;
}

/** The callback design's cost per statement, from one measured lifecycle. */
function callbackLine(design: string, calls: LifecycleCalls): CostLine {
  const all = { ...calls.start };
  for (const [call, count] of Object.entries(calls.completion)) all[call] = (all[call] ?? 0) + count;
  const registered = calls.itemBytes?.registered ?? 1024;
  const completed = calls.itemBytes?.completed ?? 2048;
  // Writes: the registration PutItem (the new item's size), the completion UpdateItem (the larger of the item before
  // and after), lock writes (small items: 1 unit each). Reads: none on the plain path.
  let wru = 0;
  wru += writeUnits(registered);
  const updates = all['dynamodb:UpdateItem'] ?? 0;
  const puts = all['dynamodb:PutItem'] ?? 0;
  const deletes = all['dynamodb:DeleteItem'] ?? 0;
  wru += writeUnits(Math.max(registered, completed)); // completion claim
  wru += Math.max(0, updates - 1) + Math.max(0, puts - 1) + deletes; // singleton lock: put, confirm, delete
  const rru = (all['dynamodb:GetItem'] ?? 0) + (all['dynamodb:Query'] ?? 0);
  const invocations = 1 + ASSUMPTIONS.completionInvocationsPerStatement;
  const breakdown = {
    lambdaRequests: invocations * PRICES.lambdaRequest,
    lambdaDuration: invocations * (ASSUMPTIONS.taskerBilledMs / 1000) * ASSUMPTIONS.taskerMemoryGb * PRICES.lambdaGbSecond,
    dynamoWrites: wru * PRICES.dynamoWriteRequestUnit,
    dynamoReads: rru * PRICES.dynamoReadRequestUnit,
    sqs: ASSUMPTIONS.sqsRequestsPerEvent * PRICES.sqsRequest,
    eventBridge: 0,
    stepFunctionsExtraTransitions: 0,
  };
  const total = Object.values(breakdown).reduce((a, b) => a + b, 0);
  return { design, statementMinutes: 'any', perStatementUsd: total, perMonthUsd: month(total), breakdown };
}

function pollingLines(minutes: number): CostLine[] {
  const cycles = Math.ceil((minutes * 60) / ASSUMPTIONS.pollIntervalSeconds);
  const sfn = cycles * ASSUMPTIONS.transitionsPerPollCycle * PRICES.sfnStateTransition;
  const poller = cycles * (PRICES.lambdaRequest + (ASSUMPTIONS.pollerBilledMs / 1000) * ASSUMPTIONS.pollerMemoryGb * PRICES.lambdaGbSecond);
  return [
    {
      design: `Step Functions polling loop (SDK integration, every ${ASSUMPTIONS.pollIntervalSeconds} s)`,
      statementMinutes: minutes,
      perStatementUsd: sfn,
      perMonthUsd: month(sfn),
      breakdown: { stepFunctionsExtraTransitions: sfn, pollCycles: cycles },
    },
    {
      design: `Step Functions + Lambda poller (every ${ASSUMPTIONS.pollIntervalSeconds} s)`,
      statementMinutes: minutes,
      perStatementUsd: sfn + poller,
      perMonthUsd: month(sfn + poller),
      breakdown: { stepFunctionsExtraTransitions: sfn, lambdaPoller: poller, pollCycles: cycles },
    },
  ];
}

export function computeCost(calls: readonly LifecycleCalls[]): CostResult {
  const plain = calls.find((c) => c.lifecycle.startsWith('plain'))!;
  const failed = calls.find((c) => c.lifecycle.startsWith('failed'))!;
  const singleton = calls.find((c) => c.lifecycle.startsWith('singleton'))!;
  const lines = [
    callbackLine('Callback (this construct), plain statement', plain),
    callbackLine('Callback (this construct), failed statement', failed),
    callbackLine('Callback (this construct), singleton statement', singleton),
    ...pollingLines(1),
    ...pollingLines(20),
  ].map((line) => ({ ...line, perStatementUsd: round(line.perStatementUsd, 8), perMonthUsd: round(line.perMonthUsd, 2) }));
  return { prices: PRICES, assumptions: ASSUMPTIONS, lines, fixedMonthlyUsd: PRICES.kmsKeyMonth };
}
