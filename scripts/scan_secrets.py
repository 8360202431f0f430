"""Fail if the repository holds committed credentials (detect-secrets, run on every tracked file).

Two passes over ``git ls-files`` (or the paths given):

- credentials with a recognisable shape, in every file: private keys, AWS/Azure/IBM keys,
  GitHub/GitLab/PyPI/npm/Slack/Stripe/SendGrid/Twilio/OpenAI... tokens, JWTs, passwords inside
  URLs (a user and password before ``@host``);
- high-entropy strings (base64 over 4.5 bits/char, hex over 3.0) in configuration files only
  (YAML, TOML, JSON, INI, env files), where code identifiers and test data do not drown them.

A line that must hold such a string (a test fixture) is waived inline with the comment
``pragma: allowlist secret``. Findings are printed as ``path:line: type``, never with the value.
Exit status: 0 clean, 1 findings.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]

KEY_PLUGINS = [
    "ArtifactoryDetector",
    "AWSKeyDetector",
    "AzureStorageKeyDetector",
    "BasicAuthDetector",
    "CloudantDetector",
    "DiscordBotTokenDetector",
    "GitHubTokenDetector",
    "GitLabTokenDetector",
    "IbmCloudIamDetector",
    "IbmCosHmacDetector",
    "JwtTokenDetector",
    "MailchimpDetector",
    "NpmDetector",
    "OpenAIDetector",
    "PrivateKeyDetector",
    "PypiTokenDetector",
    "SendGridDetector",
    "SlackDetector",
    "SoftlayerDetector",
    "SquareOAuthDetector",
    "StripeDetector",
    "TelegramBotTokenDetector",
    "TwilioKeyDetector",
]
ENTROPY_PLUGINS: list[dict[str, Any]] = [
    {"name": "Base64HighEntropyString", "limit": 4.5},
    {"name": "HexHighEntropyString", "limit": 3.0},
]
CONFIG_SUFFIXES = (".yaml", ".yml", ".toml", ".json", ".ini", ".cfg", ".conf", ".env", ".properties")
ULID_INSIDE = r"(?:^|[^0-9A-Za-z])[0-9A-HJKMNP-TV-Z]{26}(?:[^0-9A-Za-z]|$)"
FILTERS = [
    {"path": "detect_secrets.filters.allowlist.is_line_allowlisted"},
    {"path": "detect_secrets.filters.heuristic.is_indirect_reference"},
    {"path": "detect_secrets.filters.heuristic.is_likely_id_string"},
    {"path": "detect_secrets.filters.heuristic.is_lock_file"},
    {"path": "detect_secrets.filters.heuristic.is_not_alphanumeric_string"},
    {"path": "detect_secrets.filters.heuristic.is_potential_uuid"},
    {"path": "detect_secrets.filters.heuristic.is_prefixed_with_dollar_sign"},
    {"path": "detect_secrets.filters.heuristic.is_sequential_string"},
    {"path": "detect_secrets.filters.heuristic.is_templated_secret"},
    # The project's ids are ULIDs (26 Crockford base32 characters): random-looking, not secret.
    {"path": "detect_secrets.filters.regex.should_exclude_secret", "pattern": [ULID_INSIDE]},
]


def is_config(path: str) -> bool:
    name = Path(path).name.lower()
    return name.endswith(CONFIG_SUFFIXES) or name.startswith(".env")


def tracked_files(root: Path = ROOT) -> list[str]:
    listed = subprocess.run(
        ["git", "ls-files", "-z"], cwd=root, capture_output=True, check=True
    ).stdout.decode("utf-8", "surrogateescape")
    return [str(root / name) for name in listed.split("\0") if name and (root / name).is_file()]


def _scan(paths: list[str], plugins: list[dict[str, Any]]) -> list[tuple[str, int, str]]:
    from detect_secrets.core.secrets_collection import SecretsCollection
    from detect_secrets.settings import transient_settings

    if not paths:
        return []
    with transient_settings({"plugins_used": plugins, "filters_used": FILTERS}):
        collection = SecretsCollection()
        for path in paths:  # one by one: scan_files forks a pool, which can deadlock a threaded caller
            collection.scan_file(path)
    return [
        (filename, secret.line_number, secret.type)
        for filename, secrets in collection.data.items()
        for secret in secrets
    ]


def scan(paths: list[str]) -> list[tuple[str, int, str]]:
    """Every finding as (path, line, type), sorted; empty when clean."""
    findings = _scan(paths, [{"name": name} for name in KEY_PLUGINS])
    findings += _scan([path for path in paths if is_config(path)], ENTROPY_PLUGINS)
    return sorted(set(findings))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", help="files to scan (default: every file git tracks)")
    args = parser.parse_args(argv)
    paths = [str(Path(path).resolve()) for path in args.paths] or tracked_files()
    findings = scan(paths)
    for path, line, kind in findings:
        shown = Path(path).relative_to(ROOT) if Path(path).is_relative_to(ROOT) else Path(path)
        print(f"{shown}:{line}: {kind}", file=sys.stderr)
    if findings:
        print(
            f"secrets: {len(findings)} possible credential(s) committed. Remove them (and rotate them), or, "
            "for test data, mark the line with the comment 'pragma: allowlist secret'.",
            file=sys.stderr,
        )
        return 1
    print(f"secrets: no committed credentials in {len(paths)} files")
    return 0


if __name__ == "__main__":
    sys.exit(main())
