/** What a custom-resource function does for one CloudFormation request: run SQL through the tasker, or nothing. */

/** Run `statements` (one: ExecuteStatement; several: BatchExecuteStatement, one transaction) through the tasker. */
export interface SqlPlan {
  readonly kind: 'sql';
  readonly statements: string[];
}

/** Answer CloudFormation `SUCCESS` at once, without SQL; `reason` says why. */
export interface NoSqlPlan {
  readonly kind: 'none';
  readonly reason: string;
}

export type Plan = SqlPlan | NoSqlPlan;

export function sql(...statements: string[]): SqlPlan {
  return { kind: 'sql', statements };
}

export function noSql(reason: string): NoSqlPlan {
  return { kind: 'none', reason };
}
