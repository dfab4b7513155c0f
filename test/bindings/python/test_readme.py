"""The README's Python samples are what this app runs: each sample, executed as written (with `self` a stack, and the
`tasker` a sample declares), synthesizes the same template as the function of its section in readme_samples.py."""
import inspect
import pathlib
import re

import aws_cdk as cdk
import pytest
from aws_cdk import assertions

import readme_samples as readme
from templates import scratch_app

README = pathlib.Path(__file__).resolve().parents[3] / "README.md"


def python_samples():
    """{section heading: code} of the README's ```python blocks, each under its last ### heading."""
    text = README.read_text(encoding="utf-8")
    samples = {}
    for block in re.finditer(r"```python\n(.*?)```", text, re.S):
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
