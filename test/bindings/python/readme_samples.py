"""The README's Python samples, one function each, in the README's order: the README's code with `scope` for `self`.

test_readme.py runs each README sample and the function of its section in two stacks and compares the templates, so
a sample that drifts from what this app runs fails there. A function whose sample declares a `tasker` it does not
create takes it as an argument.
"""
from aws_cdk import Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cloudwatch_actions
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_sns as sns
from aws_cdk import aws_stepfunctions as sfn
from cdk_stepfunctions_redshift import (
    LogLevel,
    RedshiftSql,
    RedshiftSqlTask,
    RedshiftStatementTask,
    RedshiftTargetProps,
    RowFormat,
    SfnRedshiftTasker,
    SfnRedshiftTaskerErrors,
    StatementAction,
    TablePermission,
)

SECRET_ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:redshift/analytics-AbCdEf"


def declared_tasker(scope):
    """The `tasker` of the samples that declare one: on a cluster, with a log level and an extra table permission
    given through the enum-like classes (a constant, and `of` for a value held in a string)."""
    return SfnRedshiftTasker(scope, "ReportTask",
        redshift_target_props=RedshiftTargetProps(cluster_identifier="report-cluster", db_name="dev", db_user="report_user"),
        log_level=LogLevel.DEBUG,
        table_permissions=TablePermission.of("ReadWrite"),
    )


def provisioned_cluster(scope):
    """### A provisioned cluster: a tasker and a state machine whose task runs SQL and waits (JSONPath)."""
    tasker = SfnRedshiftTasker(scope, "RSTask",
        redshift_target_props=RedshiftTargetProps(cluster_identifier="my-cluster", db_name="dev", db_user="etl_user"),
    )

    # A state that runs the SQL and waits until Redshift reports that it ended.
    refresh = RedshiftSqlTask.json_path(scope, "RefreshSales",
        tasker=tasker,
        sql="call refresh_sales_summary()",
        task_timeout=sfn.Timeout.duration(Duration.hours(2)),
    )
    refresh.add_catch(sfn.Fail(scope, "SqlFailed"), errors=[SfnRedshiftTaskerErrors.STATEMENT_FAILED])
    machine = sfn.StateMachine(scope, "Machine", definition_body=sfn.DefinitionBody.from_chainable(refresh))
    return tasker, machine


def step_functions_options(scope, tasker):
    """### Step Functions: the options: parameters, cancel and describe, JSONata, a transaction, a singleton, results."""
    # Named parameters (bound by the Data API, never spliced into the SQL), from the state input; a time budget.
    sales = RedshiftSqlTask.json_path(scope, "RegionSales",
        tasker=tasker,
        sql="insert into report select * from sales where region = :region",
        parameters={"region": sfn.JsonPath.string_at("$.region")},
        task_timeout=sfn.Timeout.duration(Duration.minutes(30)),
        result_path="$.insert",
    )
    # The budget is spent: cancel the statement this execution started last (it keeps running otherwise), then
    # describe it (its status: ABORTED once the cancel took effect).
    cancel = RedshiftStatementTask.json_path(scope, "CancelIt", tasker=tasker, action=StatementAction.CANCEL).next(
        RedshiftStatementTask.json_path(scope, "DescribeIt", tasker=tasker, action=StatementAction.DESCRIBE))
    sales.add_catch(cancel, errors=[sfn.Errors.TIMEOUT])

    # JSONata; several statements in one transaction; refused (ConcurrentExecution) while the same SQL runs.
    swap = RedshiftSqlTask.jsonata(scope, "SwapTables",
        tasker=tasker,
        sql_statements=["delete from report_live", "insert into report_live select * from report"],
        singleton=True,
        task_timeout=sfn.Timeout.duration(Duration.minutes(30)),
    )

    # The first page of the result of the statement this execution started last, as plain objects.
    rows = RedshiftStatementTask.jsonata(scope, "ReadRows",
        tasker=tasker,
        action=StatementAction.FETCH_RESULT,
        row_format=RowFormat.OBJECTS,
        outputs={"rows": "{% $states.result.rows %}"},
    )
    # Run and return in one state: the rows come with the callback, a Choice branches on them.
    top = RedshiftSqlTask.jsonata(scope, "TopRegion",
        tasker=tasker,
        sql="select region, sum(amount) as total from report group by region order by total desc limit 1",
        result_rows=RowFormat.OBJECTS,
        task_timeout=sfn.Timeout.duration(Duration.minutes(5)),
        outputs={"top": "{% $states.result.result.rows[0] %}"},
    )
    branch = sfn.Choice.jsonata(scope, "Emea?").when(
        sfn.Condition.jsonata('{% $states.input.top.region = "EMEA" %}'), sfn.Succeed(scope, "Emea")
    ).otherwise(sfn.Succeed(scope, "Elsewhere"))
    return sfn.StateMachine(scope, "Report",
        definition_body=sfn.DefinitionBody.from_chainable(sales.next(swap).next(rows).next(top).next(branch)))


def sql_in_a_stack(scope, tasker):
    """### CloudFormation: SQL in a stack: a table, and a view that depends on it and follows its definition."""
    table = RedshiftSql(scope, "SalesTable",
        tasker=tasker,
        on_create=["create table if not exists sales (id int, region varchar(20))"],
        on_delete=["drop table if exists sales"],
        service_timeout=Duration.minutes(10),
    )
    # on_update runs when a property changes: here the view follows a changed definition.
    view = "create or replace view emea_sales as select * from sales where region = 'EMEA'"
    emea_sales = RedshiftSql(scope, "EmeaSales",
        tasker=tasker,
        on_create=[view],
        on_update=[view],
        on_delete=["drop view if exists emea_sales"],
        service_timeout=Duration.minutes(10),
    )
    emea_sales.node.add_dependency(table)
    return table, emea_sales


def serverless_workgroup(scope):
    """### A Redshift Serverless workgroup with a Secrets Manager secret."""
    credentials = secretsmanager.Secret.from_secret_complete_arn(scope, "Credentials", SECRET_ARN)
    serverless_tasker = SfnRedshiftTasker(scope, "AnalyticsTask",
        redshift_target_props=RedshiftTargetProps(workgroup_name="analytics", db_name="dev", secret=credentials),
    )
    return serverless_tasker


def shared_callback_infrastructure(scope):
    """### Several taskers, one callback infrastructure."""
    etl = SfnRedshiftTasker(scope, "EtlTask",
        redshift_target_props=RedshiftTargetProps(cluster_identifier="my-cluster", db_name="dev", db_user="etl_user"),
    )
    reporting = SfnRedshiftTasker(scope, "ReportingTask",
        redshift_target_props=RedshiftTargetProps(workgroup_name="reporting", db_name="dev"),
        create_callback_infra=False,
        existing_table_obj=etl.tracking_table,
    )
    return etl, reporting


def fast_path(scope):
    """### Fast path."""
    quick_tasker = SfnRedshiftTasker(scope, "QuickTask",
        redshift_target_props=RedshiftTargetProps(workgroup_name="dashboards", db_name="dev"),
        fast_path_wait_time=Duration.seconds(5),
    )
    return quick_tasker


def metrics_and_alarms(scope):
    """### Metrics and alarms."""
    tasker = SfnRedshiftTasker(scope, "RSTask",
        redshift_target_props=RedshiftTargetProps(cluster_identifier="my-cluster", db_name="dev", db_user="etl_user"),
        create_dashboard=True,
    )
    on_call = sns.Topic(scope, "OnCall")
    tasker.dead_letter_queue_alarm.add_alarm_action(cloudwatch_actions.SnsAction(on_call))
    tasker.callback_failures_alarm.add_alarm_action(cloudwatch_actions.SnsAction(on_call))
    failed = cloudwatch.Alarm(scope, "FailedStatements",
        metric=tasker.metric_statements_failed(),
        threshold=1,
        evaluation_periods=1,
        treat_missing_data=cloudwatch.TreatMissingData.NOT_BREACHING,
    )
    slow = cloudwatch.Alarm(scope, "SlowStatements",
        metric=tasker.metric_statement_duration(statistic="p99", period=Duration.minutes(15)),
        threshold=Duration.minutes(10).to_milliseconds(),
        evaluation_periods=1,
    )
    return tasker, failed, slow


# The README's section heading (### ...) of each sample → the function that runs it here.
BY_SECTION = {
    "A provisioned cluster": provisioned_cluster,
    "Step Functions: the options": step_functions_options,
    "CloudFormation: SQL in a stack": sql_in_a_stack,
    "A Redshift Serverless workgroup with a Secrets Manager secret": serverless_workgroup,
    "Several taskers, one callback infrastructure": shared_callback_infrastructure,
    "Fast path": fast_path,
    "Metrics and alarms": metrics_and_alarms,
}
