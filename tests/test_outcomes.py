"""Outcome codes: msg/InferenceResult.msg's OUTCOME_* constants are the one definition, and the
pure mapping in core.outcomes is pinned to them (names and values, both ways)."""

from __future__ import annotations

from pathlib import Path

from enachi_interfaces.msg import InferenceResult
from rosidl_adapter.parser import parse_message_string

from enachi_ros.core import ledger, outcomes

MSG = Path(__file__).resolve().parent.parent / "msg" / "InferenceResult.msg"
PREFIX = "OUTCOME_"


def message_constants() -> dict[str, int]:
    """The OUTCOME_* constants of the .msg file, read by rosidl's parser, in file order."""
    spec = parse_message_string("enachi_interfaces", "InferenceResult", MSG.read_text())
    return {c.name: c.value for c in spec.constants if c.name.startswith(PREFIX)}


def test_core_codes_are_the_message_constants() -> None:
    constants = message_constants()
    assert constants, "InferenceResult.msg defines no OUTCOME_* constant"
    expected = {name.removeprefix(PREFIX).lower(): value for name, value in constants.items()}
    assert dict(outcomes.OUTCOME_CODES) == expected
    assert sorted(expected.values()) == list(range(len(expected)))  # dense: OUTCOME_KINDS[code]
    for name, value in constants.items():
        assert getattr(outcomes, name.removeprefix(PREFIX)) == value, name
        assert getattr(InferenceResult, name) == value, name  # the generated class agrees
        assert outcomes.OUTCOME_KINDS[value] == name.removeprefix(PREFIX).lower()


def test_outcome_kind_names_unknown_codes() -> None:
    assert outcomes.outcome_kind(InferenceResult.OUTCOME_SKIPPED) == "skipped"
    new = len(outcomes.OUTCOME_KINDS)  # a code a newer message would add
    assert outcomes.outcome_kind(new) == f"unknown_{new}"


def test_the_ledger_uses_the_one_definition() -> None:
    assert ledger.DROPPED is outcomes.DROPPED  # the one code the ledger itself assigns
    for name in ("EDGE_EARLY_STOP", "EDGE_DEADLINE", "LOCAL_FALLBACK", "SKIPPED"):
        assert not hasattr(ledger, name)  # the nodes import the others from core.outcomes
