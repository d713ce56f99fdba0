"""Step Functions' ValidateStateMachineDefinition and ListStateMachineVersions for the emulator
(imported by moto_server.py).

moto 5.2.5 implements neither (500 NotImplementedError), and the Terraform AWS provider (5.x)
calls both around creating an `aws_sfn_state_machine` (validation before, the versions when it
reads it back), retrying the 500 until it times out: no state machine could be applied to the
emulator (the redrive workflow of patterns 1 and 4).

ListStateMachineVersions lists the versions moto already keeps (published with `publish`),
newest first, as `{"stateMachineVersions": [{"stateMachineVersionArn", "creationDate"}]}`; an
unknown machine is moto's own StateMachineDoesNotExist.

ValidateStateMachineDefinition is answered with the response shape of the API reference ({"result": "OK" | "FAIL",
"diagnostics": [{"severity", "code", "message", "location"}], "truncated"}) after the structural
checks of the Amazon States Language that do not need the service: the definition is a JSON
object; StartAt names a state; every state has a known Type; every Next, Default, Choices[].Next
and Catch[].Next names a state of the same States block (branches of Parallel and the
ItemProcessor / Iterator of Map checked as their own blocks); a state that is neither terminal
nor a Choice has Next or End. What it does not check (JSONPath and intrinsic syntax, field
types per state, JSONata) the real service may refuse: `terraform test` and a deployment to AWS
are where that shows.
"""

import json
from typing import Any

from moto.core.responses import ActionResult
from moto.stepfunctions.responses import StepFunctionResponse

STATE_TYPES = {"Task", "Pass", "Choice", "Wait", "Succeed", "Fail", "Parallel", "Map"}
TERMINAL = {"Succeed", "Fail", "Choice"}


def _diagnostic(code: str, message: str, location: str) -> dict[str, str]:
    return {"severity": "ERROR", "code": code, "message": message, "location": location}


def _check_block(block: Any, at: str, out: list[dict[str, str]]) -> None:
    """Appends the diagnostics of one States block (a machine, a branch, an item processor)."""
    if not isinstance(block, dict):
        out.append(_diagnostic("SCHEMA_VALIDATION_FAILED", "Expected an object", at or "/"))
        return
    missing = [f for f in ("StartAt", "States") if f not in block]
    if missing:
        out.append(_diagnostic("SCHEMA_VALIDATION_FAILED",
                               f"These fields are required: [{', '.join(missing)}]", at or "/"))
        return
    states = block["States"]
    if not isinstance(states, dict) or not states:
        out.append(_diagnostic("SCHEMA_VALIDATION_FAILED", "States must be a non-empty object",
                               f"{at}/States"))
        return
    if block["StartAt"] not in states:
        out.append(_diagnostic("MISSING_TRANSITION_TARGET",
                               f"Missing 'Next' target: {block['StartAt']}", f"{at}/StartAt"))

    def target(name: Any, where: str) -> None:
        if name not in states:
            out.append(_diagnostic("MISSING_TRANSITION_TARGET", f"Missing 'Next' target: {name}", where))

    for name, state in states.items():
        where = f"{at}/States/{name}"
        if not isinstance(state, dict):
            out.append(_diagnostic("SCHEMA_VALIDATION_FAILED", "Expected an object", where))
            continue
        kind = state.get("Type")
        if kind not in STATE_TYPES:
            out.append(_diagnostic("SCHEMA_VALIDATION_FAILED",
                                   f"Field 'Type' must be one of {sorted(STATE_TYPES)}", f"{where}/Type"))
            continue
        if "Next" in state:
            target(state["Next"], f"{where}/Next")
        elif kind not in TERMINAL and state.get("End") is not True:
            out.append(_diagnostic("SCHEMA_VALIDATION_FAILED",
                                   "This state must have either 'Next' or 'End'", where))
        for i, catcher in enumerate(state.get("Catch") or []):
            if isinstance(catcher, dict):
                target(catcher.get("Next"), f"{where}/Catch[{i}]/Next")
        if kind == "Choice":
            for i, choice in enumerate(state.get("Choices") or []):
                if isinstance(choice, dict):
                    target(choice.get("Next"), f"{where}/Choices[{i}]/Next")
            if "Default" in state:
                target(state["Default"], f"{where}/Default")
        for i, branch in enumerate(state.get("Branches") or [] if kind == "Parallel" else []):
            _check_block(branch, f"{where}/Branches[{i}]", out)
        if kind == "Map":
            processor = state.get("ItemProcessor", state.get("Iterator"))
            if processor is not None:
                _check_block(processor, f"{where}/ItemProcessor", out)


def diagnostics(definition: str) -> list[dict[str, str]]:
    """The diagnostics of a definition (empty when it passes the checks above)."""
    try:
        machine = json.loads(definition)
    except ValueError as e:
        return [_diagnostic("INVALID_JSON_DESCRIPTION", f"The definition is not valid JSON: {e}", "/")]
    out: list[dict[str, str]] = []
    _check_block(machine, "", out)
    return out


def validate_state_machine_definition(self: StepFunctionResponse) -> ActionResult:
    found = diagnostics(self._get_param("definition") or "")
    limit = self._get_int_param("maxResults") or 100
    return ActionResult({"result": "FAIL" if found else "OK", "diagnostics": found[:limit],
                         "truncated": len(found) > limit})


def list_state_machine_versions(self: StepFunctionResponse) -> ActionResult:
    machine = self.stepfunction_backend.describe_state_machine(self._get_param("stateMachineArn"))
    versions = sorted(getattr(machine, "versions", {}).values(), key=lambda v: v.version, reverse=True)
    return ActionResult({"stateMachineVersions": [
        {"stateMachineVersionArn": v.arn, "creationDate": v.creation_date} for v in versions]})


StepFunctionResponse.validate_state_machine_definition = validate_state_machine_definition
StepFunctionResponse.list_state_machine_versions = list_state_machine_versions
