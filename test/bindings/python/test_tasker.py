"""cdk-stepfunctions-redshift used from Python: the README's samples (readme_samples.py) in four stacks, synthesized
and checked.

The wheel under test is the one built from this repository (npm run test:bindings installs it). The cloud assembly
is written to $BINDINGS_CDK_OUT/python when that variable is set (the bindings run lints it with cfn-lint), else to
a temporary directory removed afterwards.
"""
import os
import shutil
import tempfile

import aws_cdk as cdk
import pytest
from aws_cdk import assertions
from aws_cdk import aws_iam as iam
from cdk_stepfunctions_redshift import (
    LogLevel,
    RedshiftSqlTask,
    RedshiftStatementTask,
    RedshiftTargetProps,
    SfnRedshiftTasker,
    SfnRedshiftTaskerErrors,
    StatementAction,
    TablePermission,
)

import readme_samples as readme
from templates import (
    DEFAULT_TASKER, ROLE_POLICY, STATE_MACHINE, TASKER_WITHOUT_CALLBACK_INFRA,
    arn, counts, environment, only_resource, policy_statements, resource_counts, scratch_app, states,
)

WAIT_FOR_TASK_TOKEN = "arn:${AWS::Partition}:states:::lambda:invoke.waitForTaskToken"
# The retries every task of the library adds: the Lambda service errors, then the Data API's retryable errors.
RETRIES = [
    {"ErrorEquals": ["Lambda.ClientExecutionTimeoutException", "Lambda.ServiceException", "Lambda.AWSLambdaException",
                     "Lambda.SdkClientException"], "IntervalSeconds": 2, "MaxAttempts": 6, "BackoffRate": 2},
    {"ErrorEquals": SfnRedshiftTaskerErrors.RETRYABLE_DATA_API_ERRORS, "IntervalSeconds": 10, "MaxAttempts": 5, "BackoffRate": 2},
]
# A RedshiftSqlTask that waits for its callback also retries a serializable isolation violation (a new statement).
CALLBACK_RETRIES = RETRIES + [
    {"ErrorEquals": [SfnRedshiftTaskerErrors.SERIALIZATION_CONFLICT], "IntervalSeconds": 2, "MaxAttempts": 3, "BackoffRate": 2,
     "JitterStrategy": "FULL"},
]


@pytest.fixture(scope="module")
def app():
    """Synthesizes the app once: the README's samples in a cluster, a Serverless, an options and a shared stack."""
    base = os.environ.get("BINDINGS_CDK_OUT")
    outdir = os.path.join(base, "python") if base else tempfile.mkdtemp(prefix="cdk-sfn-redshift-python-")
    app = cdk.App(outdir=outdir)

    cluster = cdk.Stack(app, "PythonClusterStack")
    cluster_tasker, _ = readme.provisioned_cluster(cluster)
    # A function of the app that invokes the tasker itself gets the permission from grant_invoke.
    reporting_role = iam.Role(cluster, "ReportingRole", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    grant = cluster_tasker.grant_invoke(reporting_role)

    serverless = cdk.Stack(app, "PythonServerlessStack")
    serverless_tasker = readme.serverless_workgroup(serverless)
    sales_table, _ = readme.sql_in_a_stack(serverless, serverless_tasker)

    options = cdk.Stack(app, "PythonOptionsStack")
    readme.step_functions_options(options, readme.declared_tasker(options))

    shared = cdk.Stack(app, "PythonSharedStack")
    etl, reporting = readme.shared_callback_infrastructure(shared)

    app.synth()
    yield {
        "cluster": assertions.Template.from_stack(cluster).to_json(),
        "serverless": assertions.Template.from_stack(serverless).to_json(),
        "options": assertions.Template.from_stack(options).to_json(),
        "shared": assertions.Template.from_stack(shared).to_json(),
        "cluster_tasker": cluster_tasker, "grant": grant, "sales_table": sales_table, "etl": etl, "reporting": reporting,
    }
    if not base:
        shutil.rmtree(outdir, ignore_errors=True)


def test_cluster_tasker_machine_and_grant(app):
    template, tasker = app["cluster"], app["cluster_tasker"]
    assert resource_counts(template) == counts(DEFAULT_TASKER, STATE_MACHINE, {"AWS::IAM::Role": 1}, ROLE_POLICY)
    function_id, function = only_resource(template, "AWS::Lambda::Function", "RSTaskStarterFunction")
    table_id, _ = only_resource(template, "AWS::DynamoDB::Table", "RSTaskTrackingTable")
    assert function["Properties"]["Environment"]["Variables"] == {
        "DDB_TABLE_NAME": {"Ref": table_id},
        "CLUSTER_IDENTIFIER": "my-cluster",
        "DATABASE": "dev",
        "DB_USER": "etl_user",
        "TTL": "1",
        "LOG_LEVEL": "INFO",
        "FAST_PATH_WAIT_SECONDS": "2",
    }
    assert function["Properties"]["Runtime"] == "nodejs24.x"
    # RedshiftSqlTask.json_path: the callback task, its payload, time budget, retries and catch.
    machine = states(template, "Machine")
    assert machine["StartAt"] == "RefreshSales"
    assert machine["States"]["RefreshSales"] == {
        "Type": "Task",
        "Resource": WAIT_FOR_TASK_TOKEN,
        "Parameters": {
            "FunctionName": arn(function_id),
            "Payload": {
                "sqlStatement": "call refresh_sales_summary()",
                "taskToken.$": "$$.Task.Token",
                "executionArn.$": "$$.Execution.Id",
            },
        },
        "TimeoutSeconds": 7200,
        "Retry": CALLBACK_RETRIES,
        "Catch": [{"ErrorEquals": ["FAILED"], "Next": "SqlFailed"}],
        "End": True,
    }
    assert machine["States"]["SqlFailed"] == {"Type": "Fail"}
    # The machine may invoke the tasker function, nothing else; so may the role given grant_invoke.
    invoke = [{"Action": "lambda:InvokeFunction", "Effect": "Allow", "Resource": {"Fn::GetAtt": [function_id, "Arn"]}}]
    assert policy_statements(template, "MachineRoleDefaultPolicy") == invoke
    assert policy_statements(template, "ReportingRoleDefaultPolicy") == invoke
    assert app["grant"].success
    # The attributes the construct exposes reach Python, typed.
    assert tasker.queue is not None and tasker.dead_letter_queue is not None
    assert tasker.rule is not None and tasker.encryption_key is not None
    assert tasker.completer_function.node.path == tasker.lambda_function.node.path


def test_serverless_tasker_and_sql_resources(app):
    template = app["serverless"]
    # + the secret's read grant on the starter role; the two custom resources.
    assert resource_counts(template) == counts(DEFAULT_TASKER, ROLE_POLICY, {"Custom::RedshiftSql": 2})
    function_id, _ = only_resource(template, "AWS::Lambda::Function", "AnalyticsTaskStarterFunction")
    table_id, _ = only_resource(template, "AWS::DynamoDB::Table", "AnalyticsTaskTrackingTable")
    assert environment(template, "AnalyticsTaskStarterFunction") == {
        "DDB_TABLE_NAME": {"Ref": table_id},
        "WORKGROUP_NAME": "analytics",
        "DATABASE": "dev",
        "SECRET_ARN": readme.SECRET_ARN,
        "TTL": "1",
        "LOG_LEVEL": "INFO",
        "FAST_PATH_WAIT_SECONDS": "2",
    }
    assert policy_statements(template, "AnalyticsTaskStarterRoleDefaultPolicy") == [{
        "Action": ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
        "Effect": "Allow",
        "Resource": readme.SECRET_ARN,
    }]
    # RedshiftSql: the tasker's function as service token, the SQL as properties, the callback infrastructure first.
    service_token = {"Fn::GetAtt": [function_id, "Arn"]}
    _, table = only_resource(template, "Custom::RedshiftSql", "SalesTable")
    assert table["Properties"] == {
        "ServiceToken": service_token,
        "ServiceTimeout": "600",
        "OnCreate": "create table if not exists sales (id int, region varchar(20))",
        "OnDelete": "drop table if exists sales",
    }
    event_source_id, _ = only_resource(template, "AWS::Lambda::EventSourceMapping", "AnalyticsTask")
    assert event_source_id in table["DependsOn"] and function_id not in table["DependsOn"]
    view = "create or replace view emea_sales as select * from sales where region = 'EMEA'"
    _, emea_sales = only_resource(template, "Custom::RedshiftSql", "EmeaSales")
    assert emea_sales["Properties"] == {
        "ServiceToken": service_token,
        "ServiceTimeout": "600",
        "OnCreate": view,
        "OnUpdate": view,
        "OnDelete": "drop view if exists emea_sales",
    }
    assert "SalesTable" in emea_sales["DependsOn"]
    assert app["sales_table"].custom_resource.node.path == "PythonServerlessStack/SalesTable/Default"


def test_options_machine_in_both_query_languages(app):
    template = app["options"]
    # + the extra table grant (TablePermission) on the starter role.
    assert resource_counts(template) == counts(DEFAULT_TASKER, STATE_MACHINE, ROLE_POLICY)
    function_id, _ = only_resource(template, "AWS::Lambda::Function", "ReportTaskStarterFunction")
    table_id, _ = only_resource(template, "AWS::DynamoDB::Table", "ReportTaskTrackingTable")
    assert environment(template, "ReportTaskStarterFunction")["LOG_LEVEL"] == "DEBUG"
    # TablePermission.of("ReadWrite"): table.grantReadWriteData on the starter role, beyond the handler's own grant.
    [grant] = policy_statements(template, "ReportTaskStarterRoleDefaultPolicy")
    assert {"Fn::GetAtt": [table_id, "Arn"]} in grant["Resource"]
    assert {"dynamodb:BatchGetItem", "dynamodb:Scan", "dynamodb:BatchWriteItem", "dynamodb:PutItem"} <= set(grant["Action"])

    function = arn(function_id)
    machine = states(template, "Report")
    assert machine["StartAt"] == "RegionSales"
    assert machine["States"] == {
        # JSONPath: Parameters, the token and the execution from the context object, a parameter from the input.
        "RegionSales": {
            "Type": "Task",
            "Resource": WAIT_FOR_TASK_TOKEN,
            "Parameters": {"FunctionName": function, "Payload": {
                "sqlStatement": "insert into report select * from sales where region = :region",
                "parameters": [{"name": "region", "value.$": "$.region"}],
                "taskToken.$": "$$.Task.Token",
                "executionArn.$": "$$.Execution.Id",
            }},
            "TimeoutSeconds": 1800,
            "ResultPath": "$.insert",
            "Retry": CALLBACK_RETRIES,
            "Catch": [{"ErrorEquals": ["States.Timeout"], "Next": "CancelIt"}],
            "Next": "SwapTables",
        },
        # RedshiftStatementTask: a plain invocation of the function with the action and statementId LATEST.
        "CancelIt": {
            "Type": "Task",
            "Resource": function,
            "Parameters": {"action": "cancelStatement", "statementId": "LATEST", "executionArn.$": "$$.Execution.Id"},
            "Retry": RETRIES,
            "Next": "DescribeIt",
        },
        "DescribeIt": {
            "Type": "Task",
            "Resource": function,
            "Parameters": {"action": "describeStatement", "statementId": "LATEST", "executionArn.$": "$$.Execution.Id"},
            "Retry": RETRIES,
            "End": True,
        },
        # JSONata: Arguments, the token and the execution as JSONata expressions.
        "SwapTables": {
            "Type": "Task",
            "QueryLanguage": "JSONata",
            "Resource": WAIT_FOR_TASK_TOKEN,
            "Arguments": {"FunctionName": function, "Payload": {
                "sqlStatements": ["delete from report_live", "insert into report_live select * from report"],
                "action": "executeSingletonStatement",
                "taskToken": "{% $states.context.Task.Token %}",
                "executionArn": "{% $states.context.Execution.Id %}",
            }},
            "TimeoutSeconds": 1800,
            "Retry": CALLBACK_RETRIES,
            "Next": "ReadRows",
        },
        # A page of the result as plain objects.
        "ReadRows": {
            "Type": "Task",
            "QueryLanguage": "JSONata",
            "Resource": function,
            "Arguments": {
                "action": "getStatementResult", "statementId": "LATEST", "rowFormat": "OBJECTS",
                "executionArn": "{% $states.context.Execution.Id %}",
            },
            "Output": {"rows": "{% $states.result.rows %}"},
            "Retry": RETRIES,
            "Next": "TopRegion",
        },
        # Run and return: the rows with the callback, then a Choice on them.
        "TopRegion": {
            "Type": "Task",
            "QueryLanguage": "JSONata",
            "Resource": WAIT_FOR_TASK_TOKEN,
            "Arguments": {"FunctionName": function, "Payload": {
                "sqlStatement": "select region, sum(amount) as total from report group by region order by total desc limit 1",
                "rowFormat": "OBJECTS",
                "taskToken": "{% $states.context.Task.Token %}",
                "executionArn": "{% $states.context.Execution.Id %}",
            }},
            "Output": {"top": "{% $states.result.result.rows[0] %}"},
            "TimeoutSeconds": 300,
            "Retry": CALLBACK_RETRIES,
            "Next": "Emea?",
        },
        "Emea?": {
            "Type": "Choice",
            "QueryLanguage": "JSONata",
            "Choices": [{"Condition": '{% $states.input.top.region = "EMEA" %}', "Next": "Emea"}],
            "Default": "Elsewhere",
        },
        "Emea": {"Type": "Succeed"},
        "Elsewhere": {"Type": "Succeed"},
    }
    assert [s["Resource"] for s in policy_statements(template, "ReportRoleDefaultPolicy")] == [{"Fn::GetAtt": [function_id, "Arn"]}]


def test_second_tasker_shares_the_callback_infrastructure(app):
    template, etl, reporting = app["shared"], app["etl"], app["reporting"]
    assert resource_counts(template) == counts(DEFAULT_TASKER, TASKER_WITHOUT_CALLBACK_INFRA)
    table_id, _ = only_resource(template, "AWS::DynamoDB::Table", "EtlTaskTrackingTable")
    variables = environment(template, "ReportingTaskStarterFunction")
    assert variables["DDB_TABLE_NAME"] == {"Ref": table_id}
    assert variables["WORKGROUP_NAME"] == "reporting"
    # Optional attributes arrive as None where the tasker created nothing.
    assert reporting.queue is None and reporting.completer_function is None and reporting.rule is None
    assert etl.queue is not None


def test_enum_like_classes():
    assert LogLevel.DEBUG.value == "DEBUG" and LogLevel.of("debug").value == "debug"
    assert TablePermission.READ_WRITE.value == TablePermission.of("ReadWrite").value == "ReadWrite"
    assert [a.value for a in (StatementAction.DESCRIBE, StatementAction.CANCEL, StatementAction.FETCH_RESULT)] == [
        "describeStatement", "cancelStatement", "getStatementResult"]
    # to_string() is the value; str() is the jsii proxy's (Python does not map toString to __str__).
    assert LogLevel.WARN.to_string() == "WARN"


def test_a_statement_action_read_in_python_is_the_library_object():
    """The library compares the action with StatementAction.FETCH_RESULT by identity: each read of a constant gives a
    new Python object (so compare .value in Python), with the library's one object behind it."""
    with scratch_app() as scratch:
        stack = cdk.Stack(scratch, "Actions")
        tasker = SfnRedshiftTasker(stack, "Tasker", redshift_target_props=RedshiftTargetProps(cluster_identifier="my-cluster", db_name="dev"))
        RedshiftStatementTask.json_path(stack, "NextPage", tasker=tasker, action=StatementAction.FETCH_RESULT, next_token="token")
        with pytest.raises(RuntimeError, match="nextToken pages a result"):
            RedshiftStatementTask.json_path(stack, "Cancel", tasker=tasker, action=StatementAction.CANCEL, next_token="token")


def test_invalid_props_fail_with_the_library_message():
    with scratch_app() as scratch:
        stack = cdk.Stack(scratch, "Invalid")
        # The library's errors reach Python as RuntimeError: match on the message.
        with pytest.raises(RuntimeError, match="got both") as raised:
            SfnRedshiftTasker(stack, "RSTask", redshift_target_props=RedshiftTargetProps(
                cluster_identifier="my-cluster", workgroup_name="analytics", db_name="dev"))
        assert "Invalid SfnRedshiftTasker props" in str(raised.value)
        tasker = SfnRedshiftTasker(stack, "Valid", redshift_target_props=RedshiftTargetProps(
            cluster_identifier="my-cluster", db_name="dev"))
        with pytest.raises(RuntimeError, match="Invalid RedshiftSqlTask props") as raised:
            RedshiftSqlTask.jsonata(stack, "Both", tasker=tasker, sql="select 1", sql_statements=["select 2"])
        assert "got both" in str(raised.value)
        # A missing required prop is the binding's error, before the library sees the props.
        with pytest.raises(TypeError, match="tasker"):
            RedshiftSqlTask.json_path(stack, "NoTasker", sql="select 1")
        # Nothing of the failed constructs was created.
        assert [r for r in assertions.Template.from_stack(stack).to_json()["Resources"] if not r.startswith("Valid")] == []
