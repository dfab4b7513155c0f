"""Reading synthesized templates: resource counts, one named resource, a state machine's states."""
import collections
import contextlib
import json
import pathlib
import tempfile

import aws_cdk as cdk

# The resources of each part of a stack (test/bindings/resource-counts.json, shared by the three apps): a default
# tasker, a tasker without callback infrastructure, a state machine with its role and policy, a role's default policy.
# Each stack's expected counts are a sum of these, so a change to what a default tasker creates is one edit there.
_COUNTS = json.loads((pathlib.Path(__file__).resolve().parent.parent / "resource-counts.json").read_text(encoding="utf-8"))
DEFAULT_TASKER = _COUNTS["defaultTasker"]
TASKER_WITHOUT_CALLBACK_INFRA = _COUNTS["taskerWithoutCallbackInfra"]
STATE_MACHINE = _COUNTS["stateMachine"]
# A grant on a role of the tasker or the app that had no policy yet: its default policy.
ROLE_POLICY = _COUNTS["rolePolicy"]


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
