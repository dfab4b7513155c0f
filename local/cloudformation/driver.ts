/**
 * A local CloudFormation for custom resources: sends Create, Update and Delete requests to the service-token
 * functions the way CloudFormation does (asynchronous invoke, a pre-signed-style `ResponseURL`, every scalar
 * property as a string, `OldResourceProperties` and `PhysicalResourceId` on Update/Delete), waits for the answer
 * (up to the resource's `ServiceTimeout`), and follows CloudFormation's rules: a failed Create is rolled back with a
 * Delete of the physical id it reported, a failed Update with an Update back to the old properties, an Update that
 * returns a new physical id is a replacement (the old one is deleted afterwards).
 */
import { randomUUID } from 'node:crypto';
import { asCloudFormationProperties, Json, LocalTemplate } from './template';
import { LocalLambdaRuntime } from '../lambda/runtime';
import { CfnResponseServer, RecordedResponse } from '../servers/cfn-response';

export type RequestType = 'Create' | 'Update' | 'Delete';

export interface CustomResourceOutcome {
  readonly logicalId: string;
  readonly requestType: RequestType;
  /** `NO_RESPONSE` when nothing answered within the timeout. */
  readonly status: 'SUCCESS' | 'FAILED' | 'NO_RESPONSE';
  readonly reason: string;
  readonly physicalResourceId?: string;
  readonly data?: Record<string, unknown>;
  /** Time from the request to the response. */
  readonly latencyMs: number;
  /** Contract violations in the response (see `checkResponse`). */
  readonly problems: readonly string[];
  /** The service-token function's own error, if its invocation failed. */
  readonly functionError?: string;
}

export interface CloudFormationDriverProps {
  readonly template: LocalTemplate;
  readonly lambda: LocalLambdaRuntime;
  readonly responses: CfnResponseServer;
  /** Caps the wait for a response (the resource's `ServiceTimeout`, or one hour, otherwise). */
  readonly maxWaitMs?: number;
  /** Called when a request is sent and when its response arrives. */
  readonly onEvent?: (event: { phase: 'request' | 'response'; logicalId: string; requestType: RequestType; outcome?: CustomResourceOutcome }) => void;
}

/** What a custom-resource request is made of. */
export interface CustomResourceRequestFields {
  readonly requestType: RequestType;
  readonly responseUrl: string;
  readonly serviceToken: string;
  readonly stackId: string;
  readonly requestId: string;
  readonly logicalId: string;
  readonly resourceType: string;
  readonly properties: Record<string, Json>;
  /** Update and Delete only. */
  readonly physicalId?: string;
  /** Update only. */
  readonly oldProperties?: Record<string, Json>;
}

/** The event CloudFormation sends a custom resource's service token (every scalar property as a string). */
export function customResourceRequest(fields: CustomResourceRequestFields): Record<string, unknown> {
  return {
    RequestType: fields.requestType,
    ServiceToken: fields.serviceToken,
    ResponseURL: fields.responseUrl,
    StackId: fields.stackId,
    RequestId: fields.requestId,
    LogicalResourceId: fields.logicalId,
    ResourceType: fields.resourceType,
    ResourceProperties: asCloudFormationProperties(fields.properties),
    ...fields.requestType !== 'Create' ? { PhysicalResourceId: fields.physicalId } : {},
    ...fields.requestType === 'Update' ? { OldResourceProperties: asCloudFormationProperties(fields.oldProperties ?? {}) } : {},
  };
}

export class CloudFormationDriver {
  /** Physical ids of the resources that exist. */
  public readonly physicalIds = new Map<string, string>();
  /** Every outcome, in order. */
  public readonly outcomes: CustomResourceOutcome[] = [];
  private readonly properties = new Map<string, Record<string, Json>>();

  constructor(private readonly props: CloudFormationDriverProps) {}

  /** Records a resource an earlier run created (a kept local stack): later requests Update or Delete it. */
  adopt(logicalId: string, physicalId: string, properties: Record<string, Json>): void {
    this.physicalIds.set(logicalId, physicalId);
    this.properties.set(logicalId, properties);
  }

  /** The properties a resource that exists was created or last updated with. */
  deployedProperties(logicalId: string): Record<string, Json> | undefined {
    return this.properties.get(logicalId);
  }

  /** The template's custom resources in creation waves (dependency order). */
  customResourceWaves(): string[][] {
    return this.props.template.customResourceWaves();
  }

  /** Creates every custom resource of the template, wave by wave (independent resources in parallel). */
  async createStack(): Promise<CustomResourceOutcome[]> {
    const outcomes: CustomResourceOutcome[] = [];
    for (const wave of this.props.template.customResourceWaves()) {
      outcomes.push(...await Promise.all(wave.map((id) => this.create(id))));
    }
    return outcomes;
  }

  /** Deletes every existing custom resource, in reverse dependency order. */
  async deleteStack(): Promise<CustomResourceOutcome[]> {
    const outcomes: CustomResourceOutcome[] = [];
    for (const wave of this.props.template.customResourceWaves().reverse()) {
      outcomes.push(...await Promise.all(wave.filter((id) => this.physicalIds.has(id)).map((id) => this.delete(id))));
    }
    return outcomes;
  }

  /**
   * Creates one resource (with the template's properties, or `properties` for a resource of the same type under
   * another logical id). A FAILED Create is rolled back: Delete with the physical id the Create reported.
   */
  async create(logicalId: string, options: { properties?: Record<string, Json>; like?: string } = {}): Promise<CustomResourceOutcome> {
    const properties = options.properties ?? this.templateProperties(options.like ?? logicalId);
    const outcome = await this.send(logicalId, 'Create', properties, { like: options.like });
    if (outcome.status === 'SUCCESS' && outcome.physicalResourceId) {
      this.physicalIds.set(logicalId, outcome.physicalResourceId);
      this.properties.set(logicalId, properties);
    } else if (outcome.status === 'FAILED') {
      this.properties.set(logicalId, properties);
      this.physicalIds.set(logicalId, outcome.physicalResourceId ?? logicalId);
      const rollback = await this.delete(logicalId, { like: options.like });
      return { ...outcome, reason: `${outcome.reason} (rollback Delete: ${rollback.status})` };
    }
    return outcome;
  }

  /**
   * Updates a resource to new properties; a new physical id in the answer replaces it (the old one is deleted). A
   * FAILED Update is rolled back as CloudFormation does: a second Update from the new properties back to the old ones.
   */
  async update(logicalId: string, properties: Record<string, Json>, options: { like?: string } = {}): Promise<CustomResourceOutcome> {
    const old = this.properties.get(logicalId);
    const physicalId = this.physicalIds.get(logicalId);
    if (!old || !physicalId) throw new Error(`${logicalId} does not exist; create it first`);
    const outcome = await this.send(logicalId, 'Update', properties, { old, physicalId, like: options.like });
    if (outcome.status === 'FAILED') {
      const rollback = await this.send(logicalId, 'Update', old, { old: properties, physicalId, like: options.like });
      return { ...outcome, reason: `${outcome.reason} (rollback Update: ${rollback.status})` };
    }
    if (outcome.status === 'SUCCESS') {
      this.properties.set(logicalId, properties);
      if (outcome.physicalResourceId && outcome.physicalResourceId !== physicalId) {
        this.physicalIds.set(logicalId, outcome.physicalResourceId);
        await this.send(logicalId, 'Delete', old, { physicalId, like: options.like });
      }
    }
    return outcome;
  }

  /** Deletes a resource. */
  async delete(logicalId: string, options: { like?: string } = {}): Promise<CustomResourceOutcome> {
    const properties = this.properties.get(logicalId);
    const physicalId = this.physicalIds.get(logicalId);
    if (!properties || !physicalId) throw new Error(`${logicalId} does not exist`);
    const outcome = await this.send(logicalId, 'Delete', properties, { physicalId, like: options.like });
    if (outcome.status === 'SUCCESS') {
      this.physicalIds.delete(logicalId);
      this.properties.delete(logicalId);
    }
    return outcome;
  }

  /** The resolved template properties of a custom resource. */
  templateProperties(logicalId: string): Record<string, Json> {
    return this.props.template.resolve(this.props.template.resource(logicalId).Properties as Json) as Record<string, Json>;
  }

  private async send(logicalId: string, requestType: RequestType, properties: Record<string, Json>, options: {
    old?: Record<string, Json>; physicalId?: string; like?: string;
  }): Promise<CustomResourceOutcome> {
    const { template, lambda, responses } = this.props;
    const resourceType = template.resource(options.like ?? logicalId).Type;
    const requestId = randomUUID();
    const responseUrl = responses.newResponseUrl({ expect: { StackId: template.stackId, RequestId: requestId, LogicalResourceId: logicalId } });
    const serviceToken = String(properties.ServiceToken);
    const event = customResourceRequest({
      requestType,
      responseUrl,
      serviceToken,
      requestId,
      logicalId,
      resourceType,
      properties,
      stackId: template.stackId,
      physicalId: options.physicalId,
      oldProperties: options.old,
    });
    this.props.onEvent?.({ phase: 'request', logicalId, requestType });
    const started = performance.now();
    // CloudFormation invokes the function asynchronously and only listens on the ResponseURL.
    let functionError: string | undefined;
    const invocation = lambda.invoke(serviceToken, event).then((result) => {
      if (result.functionError) functionError = JSON.stringify(result.payload);
    }, (error: Error) => {
      functionError = `${error.name}: ${error.message}`;
    });
    const timeoutMs = Math.min(Number(properties.ServiceTimeout ?? 3600) * 1000, this.props.maxWaitMs ?? Number.MAX_SAFE_INTEGER);
    let response: RecordedResponse | undefined;
    try {
      response = await responses.waitForResponse(responseUrl, timeoutMs);
    } catch {
      response = undefined;
    }
    if (!response) await invocation;
    const body = response?.body;
    const outcome: CustomResourceOutcome = {
      logicalId,
      requestType,
      status: body?.Status === 'SUCCESS' || body?.Status === 'FAILED' ? body.Status : 'NO_RESPONSE',
      reason: body?.Reason ?? (response ? '' : `No response within ${Math.round(timeoutMs / 1000)} s`),
      physicalResourceId: body?.PhysicalResourceId,
      data: body?.Data,
      latencyMs: performance.now() - started,
      problems: response?.problems ?? [],
      functionError,
    };
    this.outcomes.push(outcome);
    this.props.onEvent?.({ phase: 'response', logicalId, requestType, outcome });
    return outcome;
  }
}
