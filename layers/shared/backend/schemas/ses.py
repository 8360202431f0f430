"""SES bounce and complaint notifications, as an SES configuration set publishes them to SNS and SNS
delivers them to the email-events queue (the SNS envelope's ``Message`` holds the SES event)."""

from __future__ import annotations

import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator


class _Loose(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class Recipient(_Loose):
    email_address: str = Field(alias="emailAddress", max_length=320)


class Bounce(_Loose):
    bounce_type: str = Field(alias="bounceType")  # Permanent, Transient, Undetermined
    bounce_sub_type: str | None = Field(None, alias="bounceSubType")
    bounced_recipients: list[Recipient] = Field(alias="bouncedRecipients", max_length=50)


class Complaint(_Loose):
    complained_recipients: list[Recipient] = Field(alias="complainedRecipients", max_length=50)
    complaint_feedback_type: str | None = Field(None, alias="complaintFeedbackType")


class SesEvent(_Loose):
    """The SES event (``eventType`` from a configuration set, ``notificationType`` from identity
    notifications: both shapes are accepted)."""

    kind: str = Field(alias="eventType")
    bounce: Bounce | None = None
    complaint: Complaint | None = None

    @classmethod
    def parse(cls, raw: dict[str, Any]) -> SesEvent:
        if "eventType" not in raw and "notificationType" in raw:
            raw = {**raw, "eventType": raw["notificationType"]}
        return cls.model_validate(raw)

    def suppressions(self) -> list[tuple[str, str, str | None]]:
        """(address, reason, detail) to suppress: permanent bounces and complaints; nothing else
        (a transient bounce, a delivery) changes the list."""
        if self.kind == "Bounce" and self.bounce and self.bounce.bounce_type == "Permanent":
            detail = self.bounce.bounce_sub_type
            return [(r.email_address, "BOUNCED", detail) for r in self.bounce.bounced_recipients]
        if self.kind == "Complaint" and self.complaint:
            detail = self.complaint.complaint_feedback_type
            return [(r.email_address, "COMPLAINED", detail) for r in self.complaint.complained_recipients]
        return []


class SnsEnvelope(_Loose):
    type: Literal["Notification"] = Field(alias="Type")
    message_id: str = Field(alias="MessageId")
    message: SesEvent = Field(alias="Message")

    @field_validator("message", mode="before")
    @classmethod
    def _decode(cls, value: Any) -> Any:
        raw = json.loads(value) if isinstance(value, str) else value
        return SesEvent.parse(raw) if isinstance(raw, dict) else raw
