"""cdk-stepfunctions-redshift used from Python: the README's taskers, state machine and SQL resource, synthesized and checked.

The wheel under test is the one built from this repository (npm run test:bindings installs it). The cloud assembly
is written to $BINDINGS_CDK_OUT/python when that variable is set (the bindings run lints it with cfn-lint), else to
a temporary directory removed afterwards.
"""
import collections
import json
import os
import shutil
import tempfile

import aws_cdk as cdk
import pytest
from aws_cdk import assertions
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk import aws_stepfunctions as sfn
from cdk_stepfunctions_redshift import RedshiftSql, RedshiftSqlTask, RedshiftTargetProps, SfnRedshiftTasker, SfnRedshiftTaskerErrors

SECRET_ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:redshift/analytics-AbCdEf"
SQL = "call refresh_sales_summary()"

# The resources of one tasker with its callback infrastructure and reconciler schedule, plus the state machine, its
# role and policy.
TASKER_WITH_MACHINE = {
    "AWS::DynamoDB::Table": 1,
    "AWS::Lambda::Function": 1,
    "AWS::IAM::Role": 2,
    "AWS::IAM::Policy": 4,
    "AWS::Logs::LogGroup": 1,
    "AWS::Events::Rule": 2,
    "AWS::Lambda::Permission": 1,
    "AWS::SQS::Queue": 2,
    "AWS::SQS::QueuePolicy": 2,
    "AWS::KMS::Key": 1,
    "AWS::Lambda::EventSourceMapping": 1,
    "AWS::StepFunctions::StateMachine": 1,
}


def run_sql_machine(scope, tasker):
    """The README's state machine: a task that runs SQL on the tasker and waits for the callback."""
    run_sql = RedshiftSqlTask.json_path(scope, "RunSql",
        tasker=tasker,
        sql=SQL,
        task_timeout=sfn.Timeout.duration(cdk.Duration.hours(2)),
    )
    run_sql.add_catch(sfn.Fail(scope, "SqlFailed"), errors=[SfnRedshiftTaskerErrors.STATEMENT_FAILED])
    return sfn.StateMachine(scope, "Machine", definition_body=sfn.DefinitionBody.from_chainable(run_sql))


def sales_table(scope, tasker):
    """The README's SQL in a stack: a custom resource whose service token is the tasker's function."""
    return RedshiftSql(scope, "SalesTable",
        tasker=tasker,
        on_create=["create table if not exists sales (id int, region varchar(20))"],
        on_delete=["drop table if exists sales"],
        service_timeout=cdk.Duration.minutes(10),
    )


@pytest.fixture(scope="module")
def synthesized():
    """Synthesizes the app once: a cluster stack, a Serverless stack and a shared-infrastructure stack."""
    base = os.environ.get("BINDINGS_CDK_OUT")
    outdir = os.path.join(base, "python") if base else tempfile.mkdtemp(prefix="cdk-sfn-redshift-python-")
    app = cdk.App(outdir=outdir)

    cluster = cdk.Stack(app, "PythonClusterStack")
    cluster_tasker = SfnRedshiftTasker(cluster, "RSTask", redshift_target_props=RedshiftTargetProps(
        cluster_identifier="my-cluster", db_name="dev", db_user="etl_user"))
    run_sql_machine(cluster, cluster_tasker)
    sales_table(cluster, cluster_tasker)

    serverless = cdk.Stack(app, "PythonServerlessStack")
    credentials = secretsmanager.Secret.from_secret_complete_arn(serverless, "Credentials", SECRET_ARN)
    serverless_tasker = SfnRedshiftTasker(serverless, "AnalyticsTask", redshift_target_props=RedshiftTargetProps(
        workgroup_name="analytics", db_name="dev", secret=credentials))
    run_sql_machine(serverless, serverless_tasker)

    shared = cdk.Stack(app, "PythonSharedStack")
    etl = SfnRedshiftTasker(shared, "EtlTask", redshift_target_props=RedshiftTargetProps(
        cluster_identifier="my-cluster", db_name="dev", db_user="etl_user"))
    reporting = SfnRedshiftTasker(
        shared, "ReportingTask",
        redshift_target_props=RedshiftTargetProps(workgroup_name="reporting", db_name="dev"),
        create_callback_infra=False,
        existing_table_obj=etl.tracking_table,
    )

    app.synth()
    yield {
        "cluster": (assertions.Template.from_stack(cluster), cluster_tasker),
        "serverless": (assertions.Template.from_stack(serverless), serverless_tasker),
        "shared": (assertions.Template.from_stack(shared), etl, reporting),
    }
    if not base:
        shutil.rmtree(outdir, ignore_errors=True)


def resource_counts(template):
    return dict(collections.Counter(r["Type"] for r in template.to_json()["Resources"].values()))


def only_resource(template, resource_type, prefix):
    """(logical id, properties) of the one resource of that type whose logical id starts with prefix."""
    found = [(rid, r.get("Properties", {})) for rid, r in template.find_resources(resource_type).items()
             if rid.startswith(prefix)]
    assert len(found) == 1, f"expected one {resource_type} {prefix}*, found {[rid for rid, _ in found]}"
    return found[0]


def definition(template):
    """The state machine's definition as a dict; CloudFormation expressions become ${Token[i]} (returned too)."""
    _, machine = only_resource(template, "AWS::StepFunctions::StateMachine", "Machine")
    parts = machine["DefinitionString"]["Fn::Join"][1]
    tokens = [p for p in parts if not isinstance(p, str)]
    text, i = "", 0
    for part in parts:
        if isinstance(part, str):
            text += part
        else:
            text += "${Token[%d]}" % i
            i += 1
    return json.loads(text), tokens


def check_run_sql_state(template, function_id):
    states, tokens = definition(template)
    assert states["StartAt"] == "RunSql"
    run_sql = states["States"]["RunSql"]
    assert run_sql["Type"] == "Task"
    assert run_sql["Resource"] == "arn:${Token[0]}:states:::lambda:invoke.waitForTaskToken"
    assert tokens[0] == {"Ref": "AWS::Partition"}
    assert run_sql["Parameters"]["FunctionName"] == "${Token[1]}"
    assert tokens[1] == {"Fn::GetAtt": [function_id, "Arn"]}
    assert run_sql["Parameters"]["Payload"] == {
        "taskToken.$": "$$.Task.Token",
        "executionArn.$": "$$.Execution.Id",
        "sqlStatement": SQL,
    }
    assert run_sql["TimeoutSeconds"] == 7200
    assert [retry["ErrorEquals"][0] for retry in run_sql["Retry"]] == ["Lambda.ClientExecutionTimeoutException", "ActiveStatementsExceededException"]
    assert run_sql["Catch"] == [{"ErrorEquals": ["FAILED"], "Next": "SqlFailed"}]
    assert states["States"]["SqlFailed"] == {"Type": "Fail"}


def test_cluster_tasker_and_machine(synthesized):
    template, tasker = synthesized["cluster"]
    assert resource_counts(template) == dict(TASKER_WITH_MACHINE, **{"Custom::RedshiftSql": 1})
    function_id, function = only_resource(template, "AWS::Lambda::Function", "RSTaskStarterFunction")
    table_id, _ = only_resource(template, "AWS::DynamoDB::Table", "RSTaskTrackingTable")
    assert function["Environment"]["Variables"] == {
        "DDB_TABLE_NAME": {"Ref": table_id},
        "CLUSTER_IDENTIFIER": "my-cluster",
        "DATABASE": "dev",
        "DB_USER": "etl_user",
        "TTL": "1",
        "LOG_LEVEL": "INFO",
    }
    assert function["Runtime"] == "nodejs24.x"
    check_run_sql_state(template, function_id)
    # The machine may invoke the tasker function, nothing else.
    _, machine_policy = only_resource(template, "AWS::IAM::Policy", "MachineRoleDefaultPolicy")
    statements = machine_policy["PolicyDocument"]["Statement"]
    assert [s["Action"] for s in statements] == ["lambda:InvokeFunction"]
    assert statements[0]["Resource"] == {"Fn::GetAtt": [function_id, "Arn"]}
    # The SQL resource: the tasker's function as service token, the SQL as properties, the callback infrastructure first.
    table = template.to_json()["Resources"]["SalesTable"]
    assert table["Type"] == "Custom::RedshiftSql"
    assert table["Properties"] == {
        "ServiceToken": {"Fn::GetAtt": [function_id, "Arn"]},
        "ServiceTimeout": "600",
        "OnCreate": "create table if not exists sales (id int, region varchar(20))",
        "OnDelete": "drop table if exists sales",
    }
    assert only_resource(template, "AWS::Lambda::EventSourceMapping", "RSTask")[0] in table["DependsOn"]
    # The attributes the construct exposes reach Python, typed.
    assert tasker.queue is not None and tasker.dead_letter_queue is not None
    assert tasker.rule is not None and tasker.encryption_key is not None
    assert tasker.completer_function.node.path == tasker.lambda_function.node.path


def test_serverless_tasker_with_secret(synthesized):
    template, _ = synthesized["serverless"]
    expected = dict(TASKER_WITH_MACHINE, **{"AWS::IAM::Policy": 5})  # + the secret's read grant on the role
    assert resource_counts(template) == expected
    function_id, function = only_resource(template, "AWS::Lambda::Function", "AnalyticsTaskStarterFunction")
    table_id, _ = only_resource(template, "AWS::DynamoDB::Table", "AnalyticsTaskTrackingTable")
    assert function["Environment"]["Variables"] == {
        "DDB_TABLE_NAME": {"Ref": table_id},
        "WORKGROUP_NAME": "analytics",
        "DATABASE": "dev",
        "SECRET_ARN": SECRET_ARN,
        "TTL": "1",
        "LOG_LEVEL": "INFO",
    }
    _, grant = only_resource(template, "AWS::IAM::Policy", "AnalyticsTaskStarterRoleDefaultPolicy")
    assert grant["PolicyDocument"]["Statement"] == [{
        "Action": ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"],
        "Effect": "Allow",
        "Resource": SECRET_ARN,
    }]
    check_run_sql_state(template, function_id)


def test_second_tasker_shares_the_callback_infrastructure(synthesized):
    template, etl, reporting = synthesized["shared"]
    counts = resource_counts(template)
    assert counts["AWS::DynamoDB::Table"] == 1
    assert counts["AWS::Lambda::Function"] == 2
    assert counts["AWS::SQS::Queue"] == 2
    assert counts["AWS::Events::Rule"] == 3  # one status-change rule, one reconciler schedule per tasker
    table_id, _ = only_resource(template, "AWS::DynamoDB::Table", "EtlTaskTrackingTable")
    _, function = only_resource(template, "AWS::Lambda::Function", "ReportingTaskStarterFunction")
    assert function["Environment"]["Variables"]["DDB_TABLE_NAME"] == {"Ref": table_id}
    assert function["Environment"]["Variables"]["WORKGROUP_NAME"] == "reporting"
    # Optional attributes arrive as None where the tasker created nothing.
    assert reporting.queue is None and reporting.completer_function is None and reporting.rule is None
    assert etl.queue is not None


def test_invalid_props_fail_with_the_library_message():
    stack = cdk.Stack(cdk.App(), "Invalid")
    with pytest.raises(Exception, match="got both") as raised:
        SfnRedshiftTasker(stack, "RSTask", redshift_target_props=RedshiftTargetProps(
            cluster_identifier="my-cluster", workgroup_name="analytics", db_name="dev"))
    assert "Invalid SfnRedshiftTasker props" in str(raised.value)
    # Nothing was created.
    assert not assertions.Template.from_stack(stack).to_json().get("Resources")
