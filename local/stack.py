"""The template as one local "stack": parameters, conditions, and the attributes of its resources.

Provisioned resources (tables, queues, secrets, parameters) record their real attributes here as
they are created; the rest (functions, the HTTP API, layers, log groups) get the attributes they
would have in AWS, computed from their properties. Intrinsics resolve against this.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from local.intrinsics import ACCOUNT_ID, REGION, STACK_NAME, IntrinsicError, Resolver, resolve_parameters
from local.template import load_template

HTTP_API_ID = "localcloud"
"""The `apiId` of every HTTP API served by the gateway (real ids are 10 lower-case characters)."""


class TemplateError(ValueError):
    """The template file cannot be read or parsed."""


@dataclass
class PhysicalResource:
    """What a resource is once it exists: its `Ref` value and its `Fn::GetAtt` attributes."""

    logical_id: str
    type: str
    ref: Any
    attributes: dict[str, Any] = field(default_factory=dict)


class Stack:
    """One template with its parameter values, ready to resolve and provision."""

    def __init__(
        self,
        template: Mapping[str, Any],
        root: Path,
        overrides: Mapping[str, str] | None = None,
        *,
        region: str = REGION,
        account_id: str = ACCOUNT_ID,
    ) -> None:
        self.template = template
        self.root = root
        self.region = region
        self.account_id = account_id
        self.parameters = resolve_parameters(template, overrides or {})
        self.physical: dict[str, PhysicalResource] = {}
        self.resolver = Resolver(
            template, self.parameters, self.attribute, region=region, account_id=account_id
        )

    @classmethod
    def from_file(cls, path: Path, overrides: Mapping[str, str] | None = None) -> Stack:
        path = path.resolve()
        try:
            template = load_template(path)
        except OSError as exc:
            raise TemplateError(f"cannot read the template {path}: {exc.strerror or exc}") from None
        except ValueError:
            raise
        except Exception as exc:  # PyYAML's errors
            raise TemplateError(f"{path} is not valid YAML: {' '.join(str(exc).split())}") from exc
        return cls(template, path.parent, overrides)

    # ------------------------------------------------------------------ resources

    @property
    def resources(self) -> dict[str, dict[str, Any]]:
        """Logical id → resource, for every resource whose Condition holds."""
        all_resources: dict[str, dict[str, Any]] = self.template.get("Resources") or {}
        return {name: res for name, res in all_resources.items() if self.resolver.is_active(res)}

    def of_type(self, *types: str) -> dict[str, dict[str, Any]]:
        return {name: res for name, res in self.resources.items() if res.get("Type") in types}

    def resolve(self, value: Any) -> Any:
        return self.resolver.resolve(value)

    def prop(self, logical_id: str, name: str, default: Any = None) -> Any:
        """One resolved property of a resource."""
        props = self.resources[logical_id].get("Properties") or {}
        return self.resolve(props[name]) if name in props else default

    def record(self, resource: PhysicalResource) -> None:
        self.physical[resource.logical_id] = resource

    def arn(self, service: str, resource: str) -> str:
        return f"arn:aws:{service}:{self.region}:{self.account_id}:{resource}"

    def attribute(self, logical_id: str, attribute: str | None) -> Any:
        """`Ref` (attribute None) or `Fn::GetAtt` of a resource."""
        physical = self.physical.get(logical_id) or self._synthetic(logical_id)
        if physical is None:
            resource_type = (self.template.get("Resources") or {}).get(logical_id, {}).get("Type")
            raise IntrinsicError(
                f"{logical_id} ({resource_type}) is not emulated or not provisioned yet, "
                "so its Ref/GetAtt cannot be resolved"
            )
        if attribute is None:
            return physical.ref
        if attribute not in physical.attributes:
            raise IntrinsicError(f"{logical_id} has no attribute {attribute!r} locally")
        return physical.attributes[attribute]

    def generated_name(self, logical_id: str, max_length: int = 64) -> str:
        """The name CloudFormation would generate when a name property is omitted (deterministic here)."""
        return f"{STACK_NAME}-{logical_id}"[:max_length]

    def _synthetic(self, logical_id: str) -> PhysicalResource | None:  # noqa: PLR0911 - a case per type
        resource = (self.template.get("Resources") or {}).get(logical_id)
        if resource is None:
            return None
        rtype = str(resource.get("Type"))
        if rtype in ("AWS::Serverless::Function", "AWS::Lambda::Function"):
            name = self.prop(logical_id, "FunctionName") or self.generated_name(logical_id)
            arn = self.arn("lambda", f"function:{name}")
            return PhysicalResource(logical_id, rtype, name, {"Arn": arn})
        if rtype in ("AWS::Serverless::HttpApi", "AWS::ApiGatewayV2::Api"):
            return PhysicalResource(
                logical_id, rtype, HTTP_API_ID, {"ApiEndpoint": f"https://{HTTP_API_ID}.execute-api"}
            )
        if rtype in ("AWS::Serverless::LayerVersion", "AWS::Lambda::LayerVersion"):
            name = self.prop(logical_id, "LayerName") or self.generated_name(logical_id)
            return PhysicalResource(logical_id, rtype, self.arn("lambda", f"layer:{name}:1"))
        if rtype == "AWS::CloudFront::Distribution":  # not emulated: the local cloud serves from S3
            return PhysicalResource(
                logical_id,
                rtype,
                "ELOCALCLOUD",
                {"DomainName": "localcloud.cloudfront.invalid", "Id": "ELOCALCLOUD"},
            )
        if rtype == "AWS::Logs::LogGroup":
            name = self.prop(logical_id, "LogGroupName") or self.generated_name(logical_id, 512)
            return PhysicalResource(logical_id, rtype, name, {"Arn": self.arn("logs", f"log-group:{name}:*")})
        return None

    def summary(self) -> dict[str, Any]:
        """Resolved parameters and provisioned resources, as JSON-ready data."""
        return {
            "parameters": self.parameters,
            "resources": {
                name: {"type": res.type, "ref": res.ref, "attributes": res.attributes}
                for name, res in self.physical.items()
            },
        }
