"""Reading synthesized templates: resource counts, one named resource, a state machine's states."""
import collections
import contextlib
import json
import tempfile

import aws_cdk as cdk

# The resources a default tasker creates (README: "What a default tasker creates"). Each stack's expected counts are
# this table plus what the stack adds, so a change to the tasker's resources is one edit here.
DEFAULT_TASKER = {
    "AWS::DynamoDB::Table": 1,
    "AWS::Lambda::Function": 1,
    "AWS::IAM::Role": 1,
    "AWS::IAM::Policy": 2,
    "AWS::Logs::LogGroup": 1,
    "AWS::Events::Rule": 1,
    "AWS::SQS::Queue": 2,
    "AWS::SQS::QueuePolicy": 2,
    "AWS::KMS::Key": 1,
    "AWS::Lambda::EventSourceMapping": 1,
}
# A tasker with createCallbackInfra: false: its function, role, log group and one policy.
TASKER_WITHOUT_CALLBACK_INFRA = {
    "AWS::Lambda::Function": 1,
    "AWS::IAM::Role": 1,
    "AWS::IAM::Policy": 1,
    "AWS::Logs::LogGroup": 1,
}
# A state machine with its role and the role's policy.
STATE_MACHINE = {"AWS::StepFunctions::StateMachine": 1, "AWS::IAM::Role": 1, "AWS::IAM::Policy": 1}
# A grant on a role of the tasker or the app that had no policy yet: its default policy.
ROLE_POLICY = {"AWS::IAM::Policy": 1}


@contextlib.contextmanager
def scratch_app():
    """An app whose cloud assembly is not kept: in a temporary directory removed afterwards (an App without outdir
    leaves one behind in the system's temporary directory)."""
    with tempfile.TemporaryDirectory(prefix="cdk-sfn-redshift-python-") as outdir:
        yield cdk.App(outdir=outdir)


def counts(*tables):
    """The sum of resource-count tables."""
    total = collections.Counter()
    for table in tables:
        total.update(table)
    return dict(total)


def resource_counts(template):
    return dict(collections.Counter(r["Type"] for r in template["Resources"].values()))


def only_resource(template, resource_type, prefix):
    """(logical id, resource) of the one resource of that type whose logical id starts with prefix."""
    found = [(rid, r) for rid, r in template["Resources"].items() if r["Type"] == resource_type and rid.startswith(prefix)]
    assert len(found) == 1, f"expected one {resource_type} {prefix}*, found {[rid for rid, _ in found]}"
    return found[0]


def properties(template, resource_type, prefix):
    return only_resource(template, resource_type, prefix)[1].get("Properties", {})


def environment(template, function_prefix):
    return properties(template, "AWS::Lambda::Function", function_prefix)["Environment"]["Variables"]


def policy_statements(template, policy_prefix):
    return properties(template, "AWS::IAM::Policy", policy_prefix)["PolicyDocument"]["Statement"]


def arn(logical_id):
    """How states() writes the ARN of a resource: ${<logical id>.Arn}."""
    return "${%s.Arn}" % logical_id


def _expression(token):
    """A CloudFormation expression of a definition, written as in Fn::Sub: ${AWS::Partition}, ${Function.Arn}."""
    if set(token) == {"Ref"}:
        return "${%s}" % token["Ref"]
    if set(token) == {"Fn::GetAtt"}:
        return "${%s}" % ".".join(token["Fn::GetAtt"])
    raise AssertionError(f"unexpected expression in a state machine definition: {token}")


def states(template, machine_prefix):
    """The definition of the state machine whose logical id starts with machine_prefix, its expressions as ${...}."""
    definition = properties(template, "AWS::StepFunctions::StateMachine", machine_prefix)["DefinitionString"]
    parts = definition["Fn::Join"][1] if isinstance(definition, dict) else [definition]
    text = "".join(part if isinstance(part, str) else _expression(part) for part in parts)
    return json.loads(text)
