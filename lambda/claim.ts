/**
 * Completion claims: how exactly one attempt calls a statement's caller back, whatever else runs at the same time (the
 * fast path, copies of the event, sweeps) and whatever dies half-way.
 *
 * A claim is one conditional write on the statement's item, and it belongs to one attempt (`claimedBy`, unique per
 * attempt: never shared by two sources or two deliveries) for a lease (`leaseUntil`, the attempt's remaining
 * invocation time). It succeeds only
 * - for the statement the tasker started under that name: the item's recorded `statementId` must be the claim's (an
 *   event's id is never trusted; only the starter's own start, its sweep or its Data API listing records an id);
 * - when nobody holds the completion: no claim, or a claim whose lease passed without being settled (its attempt died
 *   between claim and callback), or — for an event — the claim of an earlier delivery of the same SQS message.
 * After the callback, the attempt settles (`completedBy`); a failed callback gives the claim back. An event's claim
 * is final at once (no settle: the SQS message is its backup — it is redelivered until it succeeds or reaches the
 * dead-letter queue), which keeps the event path at 5 AWS calls.
 *
 * A claim that does not apply is explained from the item (one consistent read): mismatch (another statement id is
 * recorded), done (settled; or another message's event claim whose lease still runs — that message is redelivered if
 * its attempt fails), expired (another message's event claim whose lease passed: its attempt may have died, and its
 * message be dead-lettered; the completer checks whether the caller still waits and may take it over), busy (the live
 * lease of a fast path or a sweep, or of another delivery of the same message: wait, and retry) or unrecorded (no id
 * recorded yet). Items claimed by an earlier version (`completedBy` without `claimedBy`) that are
 * still in the `inFlight` index were claimed by a sweep or a fast path that never finished: they can be taken over.
 */
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { StatementName } from './statement-name';
import { NAMES, TTL, TableBase, applied, isConditionFailure, registeredAtOf, text } from './table-base';
import { Table } from '../src/contract';

const IN_FLIGHT = Table.IN_FLIGHT_ATTRIBUTE;

export interface Claim {
  /** The attempt: unique per attempt, never reused (`<source>:<uuid>`). */
  readonly attempt: string;
  /** The Data API id of the ended statement; `''` when the Data API does not know it (a sweep's `StatementNotFound`). */
  readonly statementId: string;
  /**
   * Whether `statementId` comes from the tasker itself (its start's answer, its sweep): it is recorded when none is.
   * An event's id is not trusted: it must equal the recorded one.
   */
  readonly trusted: boolean;
  readonly event: unknown;
  /** The item's TTL once completed (epoch seconds): set by a final claim, else by the settle. */
  readonly ttl: number;
  /** Now (epoch ms). */
  readonly now: number;
  /** Until when this attempt holds the claim (epoch ms). */
  readonly leaseUntil: number;
  /** An event's SQS message id: the claim is final at once, and a redelivery of that message may take it over. */
  readonly deliveryId?: string;
  /** Final at once without a callback (an orphan marked handled). */
  readonly final?: boolean;
}

/** What the claimant learns about the statement it claimed. */
export interface ClaimedStatement {
  readonly callbackDetails?: string;
  readonly singletonLock?: string;
  readonly startedBy?: string;
  /** The Data API session the statement runs in, when its start recorded one. */
  readonly sessionId?: string;
  /** How a list of statements ran (`AUTO_COMMIT`: each committed on its own), when the request said. */
  readonly executionMode?: string;
  /** When the statement was registered (epoch ms). */
  readonly registeredAt: number;
  /** The `inFlight` index entry a final claim took the item out of (given back with the claim). */
  readonly inFlightOf?: string;
  /** Whether another attempt had claimed it and died (its callback may have gone out). */
  readonly takenOver: boolean;
}

export type ClaimResult =
  | { readonly kind: 'claimed'; readonly statement: ClaimedStatement }
  /** Not a statement this table tracks (or nobody waits for it). */
  | { readonly kind: 'untracked' }
  /** Its completion was handled. */
  | { readonly kind: 'done' }
  /** Another attempt holds the claim until `leaseUntil`. */
  | { readonly kind: 'busy'; readonly leaseUntil: number }
  /** Another message's event claim whose lease passed: taken over (`takeOver`) only if its caller still waits. */
  | { readonly kind: 'expired'; readonly attempt: string; readonly callbackDetails?: string; readonly registeredAt: number }
  /** Another statement id is recorded for this name: the claim's statement is not the one started. */
  | { readonly kind: 'mismatch'; readonly recordedId: string }
  /** No statement id is recorded yet (the start died before recording it): the starter must confirm the id. */
  | { readonly kind: 'unrecorded'; readonly startedBy?: string };

/** How often a claim is tried again when the item changed between the write and the read that explains it. */
const CLAIM_ATTEMPTS = 3;

export class ClaimTable extends TableBase {
  /** Claims a statement's completion for one attempt (see the module's comment). */
  async claimCompletion(name: StatementName, claim: Claim): Promise<ClaimResult> {
    for (let attempt = 0; attempt < CLAIM_ATTEMPTS; attempt++) {
      const claimed = await this.tryClaim(name, claim);
      if (claimed !== undefined) return { kind: 'claimed', statement: claimed };
      const why = await this.whyRefused(name, claim);
      if (why !== undefined) return why;
    }
    return { kind: 'busy', leaseUntil: claim.now };
  }

  /** One conditional claim; `previous`: only over that attempt's expired claim. */
  private async tryClaim(name: StatementName, claim: Claim, previous?: string): Promise<ClaimedStatement | undefined> {
    const final = claim.deliveryId !== undefined || claim.final === true;
    const recordId = claim.trusted && claim.statementId !== '';
    const set = ['claimedBy = :attempt', 'leaseUntil = :lease', 'completedAt = :at', 'finished_event_details = :event'];
    if (recordId) set.push('statementId = :sid');
    if (final) set.push('completedBy = :attempt', `${TTL} = :ttl`);
    if (claim.deliveryId !== undefined) set.push('claimDelivery = :deliveryId');
    const idCondition = !claim.trusted ? 'statementId = :sid'
      : recordId ? '(attribute_not_exists(statementId) OR statementId = :sid)' : undefined;
    const free = previous !== undefined ? ['claimedBy = :previous AND leaseUntil < :now'] : [
      // The same attempt again: the SDK retries a write whose answer was lost.
      'claimedBy = :attempt',
      '(attribute_not_exists(claimedBy) AND attribute_not_exists(completedBy))',
      '(attribute_not_exists(completedBy) AND leaseUntil < :now)',
      // An earlier version's sweep or fast-path claim that never finished (still in the index, no attempt recorded).
      '(attribute_not_exists(claimedBy) AND attribute_exists(completedBy) AND attribute_exists(#inFlight))',
      ...claim.deliveryId !== undefined ? ['(claimDelivery = :deliveryId AND leaseUntil < :now)'] : [],
    ];
    try {
      const result = await this.ddb.send(new UpdateCommand({
        TableName: this.tableName,
        Key: this.key(name),
        UpdateExpression: `SET ${set.join(', ')}${final ? ' REMOVE #inFlight' : ''}`,
        ConditionExpression: ['attribute_exists(callback_details)', ...idCondition ? [idCondition] : [], `(${free.join(' OR ')})`].join(' AND '),
        ExpressionAttributeNames: { ...final ? NAMES : {}, '#inFlight': IN_FLIGHT },
        ExpressionAttributeValues: {
          ':attempt': claim.attempt,
          ':lease': claim.leaseUntil,
          ':at': new Date(claim.now).toISOString(),
          ':event': claim.event,
          ':now': claim.now,
          ...final ? { ':ttl': claim.ttl } : {},
          ...idCondition !== undefined ? { ':sid': claim.statementId } : {},
          ...claim.deliveryId !== undefined ? { ':deliveryId': claim.deliveryId } : {},
          ...previous !== undefined ? { ':previous': previous } : {},
        },
        ReturnValues: 'ALL_OLD',
      }));
      const old = result.Attributes ?? {};
      return {
        callbackDetails: text(old.callback_details),
        singletonLock: text(old.singletonLock),
        startedBy: text(old.startedBy),
        sessionId: text(old.sessionId),
        executionMode: text(old.executionMode),
        registeredAt: registeredAtOf(old),
        inFlightOf: text(old[IN_FLIGHT]),
        takenOver: old.claimedBy !== undefined && old.claimedBy !== claim.attempt,
      };
    } catch (error) {
      if (isConditionFailure(error)) return undefined;
      throw error;
    }
  }

  /** Why a claim did not apply, from the item as it is now; `undefined` when it would apply now (try again). */
  private async whyRefused(name: StatementName, claim: Claim): Promise<ClaimResult | undefined> {
    const { Item: item } = await this.ddb.send(new GetCommand({ TableName: this.tableName, Key: this.key(name), ConsistentRead: true }));
    if (item === undefined || text(item.callback_details) === undefined) return { kind: 'untracked' };
    const recordedId = text(item.statementId);
    if (recordedId !== undefined && claim.statementId !== '' && recordedId !== claim.statementId) return { kind: 'mismatch', recordedId };
    const leaseUntil = typeof item.leaseUntil === 'number' ? item.leaseUntil : undefined;
    const live = item.claimedBy !== undefined && leaseUntil !== undefined && leaseUntil >= claim.now;
    const ownEvent = claim.deliveryId !== undefined && item.claimDelivery === claim.deliveryId;
    const legacyAbandoned = item.claimedBy === undefined && item[IN_FLIGHT] !== undefined;
    if (item.completedBy !== undefined && !legacyAbandoned) {
      // An event's claim has its message as its backup (redelivered until it succeeds): done for others while its
      // lease runs; after it, the claim may be abandoned (the message dead-lettered, then redriven under a new id).
      if (ownEvent && !live) return undefined;
      if (item.claimDelivery !== undefined && !ownEvent && !live && claim.deliveryId !== undefined) {
        return { kind: 'expired', attempt: String(item.claimedBy), callbackDetails: text(item.callback_details), registeredAt: registeredAtOf(item) };
      }
      if (!live || (item.claimDelivery !== undefined && !ownEvent)) return { kind: 'done' };
    }
    if (recordedId === undefined && !claim.trusted) return { kind: 'unrecorded', startedBy: text(item.startedBy) };
    if (live) return { kind: 'busy', leaseUntil: leaseUntil! };
    return undefined;
  }

  /** Takes over an expired event claim of `previous` (see `expired`) for `claim`'s attempt. */
  async takeOver(name: StatementName, previous: string, claim: Claim): Promise<Extract<ClaimResult, { kind: 'claimed' | 'done' }>> {
    const claimed = await this.tryClaim(name, claim, previous);
    return claimed !== undefined ? { kind: 'claimed', statement: claimed } : { kind: 'done' };
  }

  /**
   * Gives a claim back after a failed callback, so another attempt (the event's redelivery, a sweep) can complete
   * it; `inFlightOf` puts a final claim's item back into the `inFlight` index, `inFlightTtl` gives it back the TTL
   * of a statement in flight (a final claim had set the TTL of a completed one).
   */
  async releaseClaim(name: StatementName, attempt: string, inFlightOf?: string, inFlightTtl?: number): Promise<void> {
    const set = [
      ...inFlightOf !== undefined ? ['#inFlight = :inFlight'] : [],
      ...inFlightTtl !== undefined ? [`${TTL} = :ttl`] : [],
    ];
    await applied(() => this.ddb.send(new UpdateCommand({
      TableName: this.tableName,
      Key: this.key(name),
      UpdateExpression: `REMOVE claimedBy, leaseUntil, claimDelivery, completedBy, completedAt${set.length ? ` SET ${set.join(', ')}` : ''}`,
      ConditionExpression: 'claimedBy = :attempt',
      ...set.length ? {
        ExpressionAttributeNames: { ...inFlightOf !== undefined ? { '#inFlight': IN_FLIGHT } : {}, ...inFlightTtl !== undefined ? NAMES : {} },
      } : {},
      ExpressionAttributeValues: {
        ':attempt': attempt,
        ...inFlightOf !== undefined ? { ':inFlight': inFlightOf } : {},
        ...inFlightTtl !== undefined ? { ':ttl': inFlightTtl } : {},
      },
    })));
  }

  /**
   * Marks a claimed statement called back (`completedBy`), gives it the TTL of a completed statement and takes it out
   * of the `inFlight` index.
   */
  async settle(name: StatementName, attempt: string, ttl: number): Promise<boolean> {
    return applied(() => this.ddb.send(new UpdateCommand({
      TableName: this.tableName,
      Key: this.key(name),
      UpdateExpression: `SET completedBy = :attempt, ${TTL} = :ttl REMOVE #inFlight, leaseUntil`,
      ConditionExpression: 'claimedBy = :attempt',
      ExpressionAttributeNames: { ...NAMES, '#inFlight': IN_FLIGHT },
      ExpressionAttributeValues: { ':attempt': attempt, ':ttl': ttl },
    })));
  }
}
