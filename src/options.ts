/**
 * Log level of the tasker's handler (its `LOG_LEVEL` environment variable).
 *
 * Use a constant (`LogLevel.DEBUG`), or `LogLevel.of('debug')` for a level held in a string (any case; a token, such
 * as a CloudFormation parameter, is passed through and checked by the handler at cold start).
 */
export class LogLevel {
  /** Everything, including the SDK's request traces. */
  public static readonly TRACE = new LogLevel('TRACE');
  /** Each step of each request. */
  public static readonly DEBUG = new LogLevel('DEBUG');
  /** One line per started, completed or failed statement (no SQL text, task tokens or parameter values). */
  public static readonly INFO = new LogLevel('INFO');
  /** Only what needs attention: ignored callbacks, retried writes, misconfiguration. */
  public static readonly WARN = new LogLevel('WARN');
  /** Only failures. */
  public static readonly ERROR = new LogLevel('ERROR');
  /** Only failures that stop the function from working. */
  public static readonly CRITICAL = new LogLevel('CRITICAL');
  /** Nothing. */
  public static readonly SILENT = new LogLevel('SILENT');

  /**
   * A level given as a string: one of TRACE, DEBUG, INFO, WARN, ERROR, CRITICAL, SILENT, in any case (the handler reads it in upper case). The construct
   * rejects any other value at synth time.
   */
  public static of(level: string): LogLevel {
    return new LogLevel(level);
  }

  /** @param value the level as the handler reads it */
  private constructor(public readonly value: string) {}

  /** The level's name. */
  public toString(): string {
    return this.value;
  }
}

/**
 * Extra tracking-table permissions for the starter function (`tablePermissions`), on top of the ones the handler
 * needs (always granted): for your own code in an existing function that reads or writes the table.
 */
export class TablePermission {
  /** `table.grantFullAccess`: every DynamoDB action on the table. */
  public static readonly ALL = new TablePermission('All');
  /** `table.grantReadData`. */
  public static readonly READ = new TablePermission('Read');
  /** `table.grantReadWriteData`. */
  public static readonly READ_WRITE = new TablePermission('ReadWrite');
  /** `table.grantWriteData`. */
  public static readonly WRITE = new TablePermission('Write');

  /**
   * A permission given as a string: `All`, `Read`, `ReadWrite` or `Write` (the original construct's values). The
   * construct rejects any other value at synth time.
   */
  public static of(permission: string): TablePermission {
    return new TablePermission(permission);
  }

  /** @param value the permission's name */
  private constructor(public readonly value: string) {}

  /** The permission's name. */
  public toString(): string {
    return this.value;
  }
}

/**
 * How a list of statements runs (the Data API's `ExecutionMode` of `BatchExecuteStatement`).
 */
export class BatchExecutionMode {
  /** One transaction: all statements commit together, and any failure rolls them all back (the Data API's default). */
  public static readonly TRANSACTION = new BatchExecutionMode('TRANSACTION');
  /**
   * Each statement commits on its own: statements Redshift refuses inside a transaction block (`VACUUM`,
   * `CREATE DATABASE`, ...) can run. A failure stops the list; the statements before it stay committed.
   */
  public static readonly AUTO_COMMIT = new BatchExecutionMode('AUTO_COMMIT');

  /**
   * A mode given as a string — `TRANSACTION` or `AUTO_COMMIT` — or taken from the state (a JSONPath or JSONata
   * expression, checked when the statement starts).
   */
  public static of(mode: string): BatchExecutionMode {
    return new BatchExecutionMode(mode);
  }

  /** @param value the mode's name */
  private constructor(public readonly value: string) {}

  /** The mode's name. */
  public toString(): string {
    return this.value;
  }
}

/**
 * How a statement's rows are returned: as plain objects keyed by column name, or as the Data API's typed fields.
 *
 * `OBJECTS` converts each value by its Redshift type: integers and floating-point numbers are JSON numbers (a
 * `BIGINT` beyond ±2^53 is a string), `DECIMAL`/`NUMERIC` are strings (exact digits), `BOOLEAN` is `true`/`false`,
 * `NULL` is `null`, `DATE` is `YYYY-MM-DD`, `TIMESTAMP` and `TIMESTAMPTZ` are ISO-8601 strings
 * (`2024-05-01T12:30:00`, `2024-05-01T12:30:00+00:00`), `TIME`/`TIMETZ`/`INTERVAL` are strings as Redshift writes
 * them, `SUPER` is the JSON text as Redshift gives it, `VARBYTE` is base64, every other type a string.
 */
export class RowFormat {
  /** `[{"id": 1, "name": "x"}]`, with the column names and types once (`columns: [{"name": "id", "type": "int4"}]`). */
  public static readonly OBJECTS = new RowFormat('OBJECTS');
  /** The Data API's records: one array of typed fields per row (`[{"longValue": 1}, {"stringValue": "x"}]`). */
  public static readonly TYPED_CELLS = new RowFormat('TYPED_CELLS');

  /** @param value the format's name */
  private constructor(public readonly value: string) {}

  /** The format's name. */
  public toString(): string {
    return this.value;
  }
}

/**
 * The format of a result written to S3.
 */
export class ExportFormat {
  /**
   * JSON Lines (`.jsonl`): one plain object per row and line, the conversions of `RowFormat.OBJECTS`. A Distributed
   * Map reads it with `ItemReader` `InputType: JSONL`.
   */
  public static readonly JSON_LINES = new ExportFormat('JSON_LINES');
  /**
   * CSV (`.csv`): a header line of column names, then one line per row (RFC 4180 quoting, CRLF line ends, NULL as an
   * empty field, the values of `RowFormat.OBJECTS`). A Distributed Map reads it with `InputType: CSV` and
   * `CSVHeaderLocation: FIRST_ROW`.
   */
  public static readonly CSV = new ExportFormat('CSV');

  /** @param value the format's name */
  private constructor(public readonly value: string) {}

  /** The format's name. */
  public toString(): string {
    return this.value;
  }
}
