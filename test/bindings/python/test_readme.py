"""The README's Python samples are what this app runs: each sample, executed as written (with `self` a stack, and the
`tasker` a sample declares), synthesizes the same template as the function of its section in readme_samples.py; the
complete stack file of "Use it in your app" synthesizes as `cdk init` runs it, with no warning and nothing printed."""
import inspect
import pathlib
import re

import aws_cdk as cdk
import pytest
from aws_cdk import assertions

import readme_samples as readme
from templates import scratch_app

README = pathlib.Path(__file__).resolve().parents[3] / "README.md"


COMPLETE_FILE = re.compile(r"^class MyAppStack\(Stack\):", re.M)


def python_samples():
    """{section heading: code} of the README's ```python blocks (but the complete stack file), each under its last ###
    heading."""
    text = README.read_text(encoding="utf-8")
    samples = {}
    for block in re.finditer(r"```python\n(.*?)```", text, re.S):
        if COMPLETE_FILE.search(block.group(1)):
            continue
        heading = re.findall(r"^### (.+)$", text[:block.start()], re.M)[-1].strip()
        assert heading not in samples, f"two Python samples under ### {heading}: one per section"
        samples[heading] = block.group(1)
    return samples


SAMPLES = python_samples()


def synthesize(build):
    """The template of a new stack that `build(stack)` fills."""
    with scratch_app() as app:
        stack = cdk.Stack(app, "Sample")
        build(stack)
        return assertions.Template.from_stack(stack).to_json()


def test_every_python_sample_has_its_function():
    assert sorted(SAMPLES) == sorted(readme.BY_SECTION)


@pytest.mark.parametrize("section", sorted(readme.BY_SECTION))
def test_the_sample_synthesizes_what_the_app_runs(section):
    function = readme.BY_SECTION[section]
    declares_tasker = "tasker" in inspect.signature(function).parameters

    def run_sample(stack):
        namespace = {"self": stack}
        if declares_tasker:
            namespace["tasker"] = readme.declared_tasker(stack)
        exec(compile(SAMPLES[section], f"README.md, ### {section}", "exec"), namespace)

    def run_function(stack):
        if declares_tasker:
            function(stack, readme.declared_tasker(stack))
        else:
            function(stack)

    from_readme = synthesize(run_sample)
    assert from_readme["Resources"], f"the sample of ### {section} creates no resources"
    assert from_readme == synthesize(run_function)


def test_the_complete_stack_file_synthesizes_without_a_warning(capfd):
    text = README.read_text(encoding="utf-8")
    [source] = [b for b in re.findall(r"```python\n(.*?)```", text, re.S) if COMPLETE_FILE.search(b)]
    namespace = {"__name__": "my_app.my_app_stack"}
    exec(compile(source, "README.md, my_app/my_app_stack.py", "exec"), namespace)
    with scratch_app() as app:
        stack = namespace["MyAppStack"](app, "MyAppStack")
        app.synth()
        warnings = assertions.Annotations.from_stack(stack).find_warning("*", assertions.Match.any_value())
        template = assertions.Template.from_stack(stack).to_json()
    assert warnings == []
    types = [resource["Type"] for resource in template["Resources"].values()]
    assert types.count("AWS::StepFunctions::StateMachine") == 1 and types.count("Custom::RedshiftSql") == 1
    assert sorted(template["Outputs"]) == ["StateMachineArn", "TaskerFunctionName"]
    printed = capfd.readouterr()
    assert "deprecated" not in printed.err.lower() and "[warning]" not in printed.err.lower(), printed.err
