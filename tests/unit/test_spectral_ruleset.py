""".spectral.yaml: every rule it switches off says why, in a comment right above it."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

RULESET = Path(__file__).resolve().parents[2] / ".spectral.yaml"
_RULE = re.compile(r"^  (?P<rule>[A-Za-z0-9:_-]+?):(?:\s+(?P<value>[^#\s][^#]*?))?\s*(?:#.*)?$")


def switched_off(text: str) -> dict[str, list[str]]:
    """Each rule set to ``off`` under ``rules:``, with the comment lines that end right above it
    (comments shared by consecutive ``off`` rules count for each of them)."""
    found: dict[str, list[str]] = {}
    comment: list[str] = []
    in_rules = after_rule = False
    for line in text.splitlines():
        if not line.strip():
            comment, after_rule = [], False
            continue
        if not line.startswith(" "):
            in_rules = line.startswith("rules:")
            comment, after_rule = [], False
            continue
        if not in_rules:
            continue
        stripped = line.strip()
        if stripped.startswith("#"):
            if after_rule:  # a new comment block: the reason of the rules below it
                comment, after_rule = [], False
            comment.append(stripped.lstrip("#").strip())
            continue
        match = _RULE.match(line)
        if match and match["value"] in ("off", '"off"', "'off'", "false"):
            found[match["rule"]] = [part for part in comment if part]
            after_rule = True  # the next rule may share the comment
            continue
        if match:
            comment, after_rule = [], False
    return found


def test_every_rule_switched_off_gives_a_reason() -> None:
    text = RULESET.read_text(encoding="utf-8")
    rules = yaml.safe_load(text)["rules"]
    off = {name for name, value in rules.items() if value in ("off", False)}
    reasons = switched_off(text)
    assert set(reasons) == off, "a rule is off in a form this test does not read"
    missing = sorted(rule for rule, comment in reasons.items() if len(" ".join(comment)) < 40)
    assert missing == [], f"switched off without a reason (a comment right above the rule): {missing}"


def test_the_ruleset_extends_spectral_and_owasp() -> None:
    ruleset = yaml.safe_load(RULESET.read_text(encoding="utf-8"))
    assert ruleset["extends"] == ["spectral:oas", "@stoplight/spectral-owasp-ruleset"]


def test_the_reader_sees_a_missing_reason() -> None:
    text = "rules:\n  # why\n  a: off\n  a2: off\n\n  b: off\n  # d's\n  d: off\n  c:\n    severity: error\n  e: off\n"
    assert switched_off(text) == {"a": ["why"], "a2": ["why"], "b": [], "d": ["d's"], "e": []}
