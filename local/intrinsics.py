"""CloudFormation intrinsic functions, parameters and conditions, resolved locally.

`Resolver.resolve` turns template values (already in long form, see `local.template`) into plain
data: `Ref` to parameters, pseudo parameters and resources, `Fn::GetAtt`, `Fn::Sub`, `Fn::Join`,
`Fn::If` with the template's `Conditions`, `Fn::Equals`/`Not`/`And`/`Or`, `Fn::Select`,
`Fn::Split`, `Fn::FindInMap`, `Fn::Base64`, `Fn::GetAZs`. Resource attributes come from a callback,
so the same resolver works before provisioning (names) and after it (URLs, ARNs).
"""

from __future__ import annotations

import base64
import json
import re
import shlex
from collections.abc import Callable, Iterable, Mapping
from typing import Any, Final

REGION: Final = "us-east-1"
ACCOUNT_ID: Final = "123456789012"
STACK_NAME: Final = "local-cloud"

NO_VALUE: Final = object()
"""What `Ref: AWS::NoValue` resolves to; removed from the enclosing list or mapping."""

AttributeLookup = Callable[[str, str | None], Any]
"""(logical id, attribute or None for Ref) → value; raises IntrinsicError when unknown."""

_SUB_VAR = re.compile(r"\$\{([^}]*)\}")


class IntrinsicError(ValueError):
    """A template value that cannot be resolved locally (with the reason)."""


def pseudo_parameters(region: str = REGION, account_id: str = ACCOUNT_ID) -> dict[str, Any]:
    """The `AWS::*` pseudo parameters as they resolve in the local cloud."""
    return {
        "AWS::Region": region,
        "AWS::AccountId": account_id,
        "AWS::Partition": "aws",
        "AWS::URLSuffix": "amazonaws.com",
        "AWS::StackName": STACK_NAME,
        "AWS::StackId": f"arn:aws:cloudformation:{region}:{account_id}:stack/{STACK_NAME}/local",
        "AWS::NotificationARNs": [],
        "AWS::NoValue": NO_VALUE,
    }


def parse_parameter_overrides(items: Iterable[str]) -> dict[str, str]:
    """`Key=Value` items (as `sam deploy --parameter-overrides` takes them) → dict.

    Each item may hold several space-separated pairs (`"A=1 B=2"`, shell-quoted values allowed) or
    one pair whose value contains spaces (`"Schedule=rate(1 minute)"`). `ParameterKey=K,
    ParameterValue=V` is accepted too.
    """
    result: dict[str, str] = {}
    for raw in items:
        item = raw.strip()
        if not item:
            continue
        explicit = re.fullmatch(r"ParameterKey=([^,]+),ParameterValue=(.*)", item)
        if explicit:
            result[explicit.group(1)] = explicit.group(2)
            continue
        try:
            pieces = shlex.split(item)
        except ValueError:
            pieces = [item]
        if not all("=" in piece for piece in pieces):
            pieces = [item]
        for piece in pieces:
            key, sep, value = piece.partition("=")
            if not sep or not key.strip():
                raise IntrinsicError(f"parameter override {piece!r} is not Key=Value")
            result[key.strip()] = value
    return result


def resolve_parameters(template: Mapping[str, Any], overrides: Mapping[str, str]) -> dict[str, Any]:
    """Parameter values: overrides, else defaults; validated as CloudFormation would."""
    declared: Mapping[str, Any] = template.get("Parameters") or {}
    unknown = sorted(set(overrides) - set(declared))
    if unknown:
        raise IntrinsicError(
            f"unknown parameter(s) {', '.join(unknown)}; the template declares: {', '.join(declared)}"
        )
    values: dict[str, Any] = {}
    for name, spec in declared.items():
        ptype = str(spec.get("Type", "String"))
        if name in overrides:
            raw: Any = overrides[name]
        elif "Default" in spec:
            raw = spec["Default"]
        else:
            raise IntrinsicError(f"parameter {name} has no Default: pass --parameter-overrides {name}=...")
        values[name] = _typed_parameter(name, ptype, raw, spec)
    return values


def _typed_parameter(name: str, ptype: str, raw: Any, spec: Mapping[str, Any]) -> Any:
    if ptype.startswith("AWS::SSM::Parameter::Value"):
        raise IntrinsicError(f"parameter {name}: type {ptype} is not supported locally")
    if ptype == "CommaDelimitedList" or ptype.startswith("List<"):
        items = raw if isinstance(raw, list) else str(raw).split(",")
        value: Any = [str(item).strip() for item in items]
        checked = value
    else:
        value = str(raw)
        checked = [value]
    allowed = spec.get("AllowedValues")
    for item in checked:
        if allowed is not None and item not in [str(a) for a in allowed]:
            raise IntrinsicError(f"parameter {name}={item!r} is not one of {allowed}")
        pattern = spec.get("AllowedPattern")
        if pattern is not None and not re.fullmatch(str(pattern), item):
            raise IntrinsicError(f"parameter {name}={item!r} does not match {pattern}")
        if ptype in ("Number", "List<Number>"):
            try:
                number = float(item)
            except ValueError:
                raise IntrinsicError(f"parameter {name}={item!r} is not a number") from None
            if "MinValue" in spec and number < float(spec["MinValue"]):
                raise IntrinsicError(f"parameter {name}={item} is below MinValue {spec['MinValue']}")
            if "MaxValue" in spec and number > float(spec["MaxValue"]):
                raise IntrinsicError(f"parameter {name}={item} is above MaxValue {spec['MaxValue']}")
        if "MinLength" in spec and len(item) < int(spec["MinLength"]):
            raise IntrinsicError(f"parameter {name} is shorter than MinLength {spec['MinLength']}")
        if "MaxLength" in spec and len(item) > int(spec["MaxLength"]):
            raise IntrinsicError(f"parameter {name} is longer than MaxLength {spec['MaxLength']}")
    return value


def _no_attributes(logical_id: str, attribute: str | None) -> Any:
    what = f"{logical_id}.{attribute}" if attribute else logical_id
    raise IntrinsicError(f"cannot resolve {what}: resource attributes are not known here")


class Resolver:
    """Resolves intrinsic functions in template values."""

    def __init__(
        self,
        template: Mapping[str, Any],
        parameters: Mapping[str, Any],
        attributes: AttributeLookup = _no_attributes,
        *,
        region: str = REGION,
        account_id: str = ACCOUNT_ID,
    ) -> None:
        self.template = template
        self.parameters = dict(parameters)
        self.pseudo = pseudo_parameters(region, account_id)
        self.region = region
        self.account_id = account_id
        self._attributes = attributes
        self._conditions: Mapping[str, Any] = template.get("Conditions") or {}
        self._condition_cache: dict[str, bool] = {}
        self._evaluating: set[str] = set()

    # ------------------------------------------------------------------ public API

    def resolve(self, value: Any) -> Any:
        """The value with every intrinsic function resolved (`AWS::NoValue` entries removed)."""
        result = self._resolve(value)
        return None if result is NO_VALUE else result

    def condition(self, name: str) -> bool:
        """Evaluate one of the template's named Conditions."""
        if name in self._condition_cache:
            return self._condition_cache[name]
        if name not in self._conditions:
            raise IntrinsicError(f"unknown condition {name!r}")
        if name in self._evaluating:
            raise IntrinsicError(f"condition {name!r} refers to itself")
        self._evaluating.add(name)
        try:
            result = self._truth(self._resolve(self._conditions[name]), name)
        finally:
            self._evaluating.discard(name)
        self._condition_cache[name] = result
        return result

    def is_active(self, resource: Mapping[str, Any]) -> bool:
        """False when the resource has a `Condition` that evaluates to false."""
        name = resource.get("Condition")
        return True if name is None else self.condition(str(name))

    def ref(self, name: str) -> Any:
        """What `Ref: name` resolves to."""
        if name in self.parameters:
            return self.parameters[name]
        if name in self.pseudo:
            return self.pseudo[name]
        if name in self._conditions:  # `!Condition X` is read as {"Ref": X} by local.template
            return self.condition(name)
        if name in (self.template.get("Resources") or {}):
            return self._attributes(name, None)
        raise IntrinsicError(f"Ref to unknown name {name!r}")

    def get_att(self, logical_id: str, attribute: str) -> Any:
        if logical_id not in (self.template.get("Resources") or {}):
            raise IntrinsicError(f"GetAtt of unknown resource {logical_id!r}")
        return self._attributes(logical_id, attribute)

    # ------------------------------------------------------------------ internals

    def _resolve(self, value: Any) -> Any:
        if isinstance(value, list):
            items = [self._resolve(item) for item in value]
            return [item for item in items if item is not NO_VALUE]
        if not isinstance(value, dict):
            return value
        if len(value) == 1:
            ((key, arg),) = value.items()
            handler = self._FUNCTIONS.get(key)
            if handler is not None:
                return handler(self, arg)
        resolved = {key: self._resolve(item) for key, item in value.items()}
        return {key: item for key, item in resolved.items() if item is not NO_VALUE}

    def _truth(self, value: Any, where: str) -> bool:
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise IntrinsicError(f"{where}: {value!r} is not a condition value")

    def _fn_ref(self, arg: Any) -> Any:
        return self.ref(str(self._resolve(arg)))

    def _fn_get_att(self, arg: Any) -> Any:
        arg = self._resolve(arg)
        if isinstance(arg, str):
            arg = arg.split(".", 1)
        if not isinstance(arg, list) or len(arg) != 2:
            raise IntrinsicError(f"Fn::GetAtt needs [resource, attribute], got {arg!r}")
        return self.get_att(str(arg[0]), str(arg[1]))

    def _fn_sub(self, arg: Any) -> Any:
        if isinstance(arg, list):
            if len(arg) != 2 or not isinstance(arg[1], dict):
                raise IntrinsicError("Fn::Sub needs a string or [string, {variables}]")
            text, variables = arg[0], {k: self._resolve(v) for k, v in arg[1].items()}
        else:
            text, variables = arg, {}
        if not isinstance(text, str):
            raise IntrinsicError(f"Fn::Sub template must be a string, got {text!r}")

        def substitute(match: re.Match[str]) -> str:
            name = match.group(1).strip()
            if name.startswith("!"):
                return "${" + name[1:] + "}"
            if name in variables:
                return _to_text(variables[name], f"Fn::Sub ${{{name}}}")
            if "." in name and name.split(".", 1)[0] in (self.template.get("Resources") or {}):
                logical_id, attribute = name.split(".", 1)
                return _to_text(self.get_att(logical_id, attribute), f"Fn::Sub ${{{name}}}")
            return _to_text(self.ref(name), f"Fn::Sub ${{{name}}}")

        return _SUB_VAR.sub(substitute, text)

    def _fn_join(self, arg: Any) -> Any:
        arg = self._resolve(arg)
        if not isinstance(arg, list) or len(arg) != 2 or not isinstance(arg[1], list):
            raise IntrinsicError(f"Fn::Join needs [delimiter, [values]], got {arg!r}")
        delimiter, items = arg
        return str(delimiter).join(_to_text(item, "Fn::Join") for item in items)

    def _fn_select(self, arg: Any) -> Any:
        arg = self._resolve(arg)
        if not isinstance(arg, list) or len(arg) != 2 or not isinstance(arg[1], list):
            raise IntrinsicError(f"Fn::Select needs [index, [values]], got {arg!r}")
        index, items = int(arg[0]), arg[1]
        if not 0 <= index < len(items):
            raise IntrinsicError(f"Fn::Select index {index} is out of range for {items!r}")
        return items[index]

    def _fn_split(self, arg: Any) -> Any:
        arg = self._resolve(arg)
        if not isinstance(arg, list) or len(arg) != 2:
            raise IntrinsicError(f"Fn::Split needs [delimiter, string], got {arg!r}")
        return _to_text(arg[1], "Fn::Split").split(str(arg[0]))

    def _fn_if(self, arg: Any) -> Any:
        if not isinstance(arg, list) or len(arg) != 3:
            raise IntrinsicError(f"Fn::If needs [condition, then, else], got {arg!r}")
        return self._resolve(arg[1] if self.condition(str(arg[0])) else arg[2])

    def _fn_equals(self, arg: Any) -> Any:
        arg = self._resolve(arg)
        if not isinstance(arg, list) or len(arg) != 2:
            raise IntrinsicError(f"Fn::Equals needs two values, got {arg!r}")
        left, right = arg
        if isinstance(left, (list, dict)) or isinstance(right, (list, dict)):
            return bool(left == right)
        return _to_text(left, "Fn::Equals") == _to_text(right, "Fn::Equals")

    def _fn_not(self, arg: Any) -> Any:
        arg = self._resolve(arg)
        if not isinstance(arg, list) or len(arg) != 1:
            raise IntrinsicError(f"Fn::Not needs one condition, got {arg!r}")
        return not self._truth(arg[0], "Fn::Not")

    def _fn_and(self, arg: Any) -> Any:
        return all(self._truth(item, "Fn::And") for item in self._resolve(arg))

    def _fn_or(self, arg: Any) -> Any:
        return any(self._truth(item, "Fn::Or") for item in self._resolve(arg))

    def _fn_condition(self, arg: Any) -> Any:
        return self.condition(str(arg))

    def _fn_find_in_map(self, arg: Any) -> Any:
        arg = self._resolve(arg)
        if not isinstance(arg, list) or len(arg) < 3:
            raise IntrinsicError(f"Fn::FindInMap needs [map, key, key], got {arg!r}")
        mappings = self.template.get("Mappings") or {}
        try:
            return mappings[arg[0]][str(arg[1])][str(arg[2])]
        except KeyError:
            raise IntrinsicError(f"Fn::FindInMap: no {arg[0]}/{arg[1]}/{arg[2]} in Mappings") from None

    def _fn_base64(self, arg: Any) -> Any:
        return base64.b64encode(_to_text(self._resolve(arg), "Fn::Base64").encode()).decode()

    def _fn_get_azs(self, arg: Any) -> Any:
        region = self._resolve(arg) or self.region
        return [f"{region}{zone}" for zone in "abcdef"]

    def _fn_to_json_string(self, arg: Any) -> Any:
        return json.dumps(self._resolve(arg), separators=(",", ":"))

    def _fn_length(self, arg: Any) -> Any:
        return len(self._resolve(arg))

    _FUNCTIONS: dict[str, Callable[[Resolver, Any], Any]] = {
        "Ref": _fn_ref,
        "Fn::GetAtt": _fn_get_att,
        "Fn::Sub": _fn_sub,
        "Fn::Join": _fn_join,
        "Fn::Select": _fn_select,
        "Fn::Split": _fn_split,
        "Fn::If": _fn_if,
        "Fn::Equals": _fn_equals,
        "Fn::Not": _fn_not,
        "Fn::And": _fn_and,
        "Fn::Or": _fn_or,
        "Condition": _fn_condition,
        "Fn::FindInMap": _fn_find_in_map,
        "Fn::Base64": _fn_base64,
        "Fn::GetAZs": _fn_get_azs,
        "Fn::ToJsonString": _fn_to_json_string,
        "Fn::Length": _fn_length,
    }


def _unsupported_function(name: str) -> Callable[[Resolver, Any], Any]:
    def fail(resolver: Resolver, arg: Any) -> Any:
        raise IntrinsicError(f"{name} is not supported by the local cloud")

    return fail


for _name in ("Fn::ImportValue", "Fn::Cidr", "Fn::Transform"):
    Resolver._FUNCTIONS[_name] = _unsupported_function(_name)


def _to_text(value: Any, where: str) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return str(value)
    raise IntrinsicError(f"{where}: expected a string, got {value!r}")


def references(value: Any) -> set[str]:
    """Names a template value refers to via Ref, Fn::GetAtt or Fn::Sub (parameters included)."""
    found: set[str] = set()
    if isinstance(value, list):
        for item in value:
            found |= references(item)
    elif isinstance(value, dict):
        if len(value) == 1:
            ((key, arg),) = value.items()
            if key == "Ref" and isinstance(arg, str):
                return {arg}
            if key == "Fn::GetAtt":
                target = arg.split(".", 1)[0] if isinstance(arg, str) else arg[0]
                return {str(target)} if isinstance(target, str) else references(target)
            if key == "Fn::Sub":
                text = arg[0] if isinstance(arg, list) else arg
                local_vars = set(arg[1]) if isinstance(arg, list) and isinstance(arg[1], dict) else set()
                if isinstance(text, str):
                    for match in _SUB_VAR.finditer(text):
                        name = match.group(1).strip()
                        if not name.startswith("!") and name not in local_vars:
                            found.add(name.split(".", 1)[0])
                if isinstance(arg, list) and len(arg) == 2:
                    found |= references(arg[1])
                return found
        for item in value.values():
            found |= references(item)
    return found
