"""The fleet's keystore: SROS2's layout, the fleet's permission policy, and what one process trusts.

Why SROS2's layout (``public/``, ``private/``, ``enclaves/<enclave>/{cert.pem, key.pem,
identity_ca.cert.pem, permissions_ca.cert.pem, governance.p7s, permissions.p7s}``): a robot with
an apt ROS 2, whose Fast DDS has the security plugins, can point ``ROS_SECURITY_KEYSTORE`` at the
very folder ``enachi security keystore`` writes. The PyPI wheels' Fast DDS has none
(README, "Security"), so ``ros.auth`` enforces the same enclaves and the same signed
permissions on the control-plane messages at the application layer.

One enclave per robot (``/enachi/<robot_id>``: one process runs a robot's nodes in bringup's
default mode), one for the edge (``/enachi/edge``) and one for tools that only watch and drive
lifecycles (``/enachi/operator``). :func:`fleet_topics` is the policy, in DDS topic names
(``rt/`` + the ROS topic): a robot publishes only in its own namespace; the edge publishes the
decisions, the heartbeat and every robot's feedback and results.

No ROS import here: the generator (``tools/security``) and the nodes share this module.
"""

from __future__ import annotations

import email
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timezone
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from enachi_ros.ros import topics

ENCLAVE_ROOT = "/enachi"
EDGE_ENCLAVE = f"{ENCLAVE_ROOT}/edge"
OPERATOR_ENCLAVE = f"{ENCLAVE_ROOT}/operator"
RESERVED_IDS = ("edge", "operator")
# The files rmw_dds_common needs in an enclave folder (``get_security_files``).
ENCLAVE_FILES = ("identity_ca.cert.pem", "cert.pem", "key.pem", "permissions_ca.cert.pem",
                 "governance.p7s", "permissions.p7s")
_TOKEN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
# What every ROS 2 node needs, whatever its enclave: rosout, parameter events, the graph cache.
_ROS_PUBLISH = ("rt/rosout", "rt/parameter_events", "ros_discovery_info", "rt/diagnostics")
_ROS_SUBSCRIBE = ("rt/parameter_events", "ros_discovery_info", "rt/clock")


class KeystoreError(ValueError):
    """The keystore cannot serve: the message names the ``keystore`` argument and what is wrong."""

    def __init__(self, what: str) -> None:
        super().__init__(f"keystore: {what}")


def check_robot_id(robot_id: str) -> str:
    """A robot id usable as a namespace token and as an enclave name (ValueError otherwise)."""
    if not _TOKEN.fullmatch(robot_id or "") or robot_id in RESERVED_IDS:
        raise ValueError(f"robots: expected ids made of letters, digits and _ (not starting with "
                         f"a digit, not {' or '.join(RESERVED_IDS)}), got {robot_id!r}")
    return robot_id


def robot_enclave(robot_id: str) -> str:
    return f"{ENCLAVE_ROOT}/{check_robot_id(robot_id)}"


def enclave_dir(keystore: Path, enclave: str) -> Path:
    """``<keystore>/enclaves/<enclave>`` (ValueError for a malformed enclave name)."""
    tokens = enclave.split("/")[1:] if enclave.startswith("/") else []
    if not tokens or not all(_TOKEN.fullmatch(t) for t in tokens):
        raise ValueError(f"enclave: expected an absolute name like /enachi/robot1, got {enclave!r}")
    return Path(keystore, "enclaves", *tokens)


def fleet_topics(enclave: str) -> dict[str, tuple[str, ...]]:
    """``{"publish": ..., "subscribe": ...}``: DDS topic expressions (fnmatch, as DDS-Security)
    the enclave may use, from the names in ``ros.topics``. ``rq/``/``rr/`` are service requests
    and replies (lifecycle transitions, parameters)."""
    def every_robot(relative: str) -> str:
        return f"rt/*/{relative}"

    if enclave == EDGE_ENCLAVE:
        own = ("rt/edge/*", "rq/edge/*", "rr/edge/*")
        return {
            "publish": (*own, f"rt{topics.DECISIONS}", f"rt{topics.EDGE_ALIVE}",
                        every_robot(topics.FEEDBACK), every_robot(topics.RESULT), *_ROS_PUBLISH),
            "subscribe": (*own, every_robot(topics.FEATURES), every_robot(topics.ENERGY),
                          every_robot(topics.CHANNEL), f"rt{topics.DECISION_REQUEST}",
                          *_ROS_SUBSCRIBE),
        }
    if enclave == OPERATOR_ENCLAVE:  # bringup, ros2 lifecycle/topic: watch and drive lifecycles
        return {"publish": ("rq/*", "rt/rosout", "rt/parameter_events", "ros_discovery_info"),
                "subscribe": ("rt/*", "rr/*", "ros_discovery_info")}
    robot = enclave.removeprefix(f"{ENCLAVE_ROOT}/")
    check_robot_id(robot)
    own = (f"rt/{robot}/*", f"rq/{robot}/*", f"rr/{robot}/*")
    return {"publish": (*own, f"rt{topics.DECISION_REQUEST}", *_ROS_PUBLISH),
            "subscribe": (*own, f"rt{topics.DECISIONS}", f"rt{topics.EDGE_ALIVE}",
                          *_ROS_SUBSCRIBE)}


# ----------------------------------------------------------------------------- permissions
@dataclass(frozen=True)
class Rule:
    """One ``allow_rule`` or ``deny_rule`` of a DDS-Security grant."""

    allow: bool
    domains: tuple[tuple[int, int], ...]  # inclusive ranges
    publish: tuple[str, ...]
    subscribe: tuple[str, ...]


@dataclass(frozen=True)
class Grant:
    """What one subject (``CN=<enclave>``) may do: the first rule that matches decides, else
    ``default`` (the DDS-Security evaluation order)."""

    subject: str
    rules: tuple[Rule, ...]
    default_allow: bool
    not_before: datetime
    not_after: datetime

    def allows(self, action: str, dds_topic: str, domain_id: int,
               now: datetime | None = None) -> bool:
        now = now or datetime.now(timezone.utc)
        if not self.not_before <= now <= self.not_after:
            return False
        for rule in self.rules:
            if not any(lo <= domain_id <= hi for lo, hi in rule.domains):
                continue
            patterns = rule.publish if action == "publish" else rule.subscribe
            if any(fnmatchcase(dds_topic, p) for p in patterns):
                return rule.allow
        return self.default_allow


def signed_content(smime: bytes) -> bytes:
    """The document of an S/MIME detached-signature file (``openssl smime -sign -text``, what
    sros2 and ``tools/security`` write): the first MIME part, without its text/plain header."""
    message = email.message_from_bytes(smime)
    if not message.is_multipart():
        raise ValueError("expected a multipart/signed S/MIME document")
    first = message.get_payload()[0]
    payload = first.get_payload(decode=True)
    return payload.replace(b"\r\n", b"\n")


def parse_grants(xml: bytes) -> dict[str, Grant]:
    """``{subject name: Grant}`` of a DDS-Security permissions document."""
    root = ET.fromstring(xml)
    grants = {}
    for node in root.iter("grant"):
        subject = _text(node, "subject_name")
        validity = node.find("validity")
        if validity is None:
            raise ValueError(f"grant {subject}: expected a <validity> element")
        rules = tuple(_rule(r) for r in node if r.tag in ("allow_rule", "deny_rule"))
        grants[_normalized_subject(subject)] = Grant(
            subject=subject, rules=rules, default_allow=_text(node, "default") == "ALLOW",
            not_before=_utc(_text(validity, "not_before")),
            not_after=_utc(_text(validity, "not_after")))
    return grants


def _rule(node: ET.Element) -> Rule:
    domains = []
    for d in node.iterfind("domains/*"):
        if d.tag == "id":
            domains.append((int(d.text or ""), int(d.text or "")))
        elif d.tag == "id_range":
            domains.append((int(_text(d, "min")), int(_text(d, "max"))))
    return Rule(allow=node.tag == "allow_rule", domains=tuple(domains),
                publish=_topics(node, "publish"), subscribe=_topics(node, "subscribe"))


def _topics(node: ET.Element, action: str) -> tuple[str, ...]:
    return tuple((t.text or "").strip() for t in node.iterfind(f"{action}/topics/topic"))


def _text(node: ET.Element, tag: str) -> str:
    found = node.find(tag)
    if found is None or found.text is None:
        raise ValueError(f"<{node.tag}>: expected a <{tag}> element")
    return found.text.strip()


def _normalized_subject(subject: str) -> str:
    return ",".join(part.strip() for part in subject.split(","))


def _utc(text: str) -> datetime:
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


# ----------------------------------------------------------------------------- loading
@dataclass(frozen=True)
class Member:
    """An enclave of the fleet as a receiver sees it: its public key and its permissions."""

    enclave: str
    public_key: Any  # cryptography EllipticCurvePublicKey
    grant: Grant


@dataclass(frozen=True)
class Fleet:
    """What one process holds: its own enclave and private key, and every member it trusts."""

    keystore: Path
    enclave: str
    private_key: Any  # cryptography EllipticCurvePrivateKey
    members: dict[str, Member]


def common_name(cert: Any) -> str:
    from cryptography.x509.oid import NameOID

    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return str(names[0].value) if names else ""


def load_fleet(keystore: str | Path, enclave: str) -> Fleet:
    """Load enclave ``enclave`` of ``keystore`` and every enclave's certificate and permissions.

    Trust anchors are the enclave's own ``identity_ca.cert.pem`` and ``permissions_ca.cert.pem``
    (as DDS-Security's). A member is every ``enclaves/**/cert.pem`` issued by the identity CA,
    whose common name is its enclave and whose folder holds a ``permissions.p7s`` granting that
    name; other enclaves' private keys are not needed (a robot can hold only its own).
    KeystoreError (a ValueError naming ``keystore``) for anything missing or inconsistent.
    """
    from cryptography.hazmat.primitives import serialization

    root = Path(keystore).expanduser()
    if not (root / "enclaves").is_dir():
        raise KeystoreError(f"expected a folder written by `enachi security keystore`, got "
                            f"{str(root)!r} (no enclaves/ in it)")
    try:
        own = enclave_dir(root, enclave)
    except ValueError as exc:
        raise KeystoreError(str(exc)) from None
    missing = [name for name in ENCLAVE_FILES if not (own / name).is_file()]
    if missing:
        raise KeystoreError(f"enclave {enclave} in {root}: missing {', '.join(missing)} (create "
                            "it with `enachi security keystore DIR --robots ...`)")
    identity_ca = _load_cert(own / "identity_ca.cert.pem")
    members = {}
    for cert_path in sorted((root / "enclaves").rglob("cert.pem")):
        name = "/" + cert_path.parent.relative_to(root / "enclaves").as_posix()
        members[name] = _member(name, cert_path, identity_ca)
    try:
        key = serialization.load_pem_private_key((own / "key.pem").read_bytes(), None)
    except (ValueError, TypeError) as exc:
        raise KeystoreError(f"{own / 'key.pem'}: not an unencrypted PEM private key ({exc})") \
            from None
    if key.public_key().public_numbers() != members[enclave].public_key.public_numbers():
        raise KeystoreError(f"{own / 'key.pem'}: expected the private key of {own / 'cert.pem'}")
    return Fleet(keystore=root, enclave=enclave, private_key=key, members=members)


def _load_cert(path: Path) -> Any:
    from cryptography import x509

    try:
        return x509.load_pem_x509_certificate(path.read_bytes())
    except (OSError, ValueError) as exc:
        raise KeystoreError(f"{path}: expected a PEM certificate ({exc})") from None


def _member(enclave: str, cert_path: Path, identity_ca: Any) -> Member:
    from cryptography.exceptions import InvalidSignature

    cert = _load_cert(cert_path)
    try:
        cert.verify_directly_issued_by(identity_ca)
    except (ValueError, TypeError, InvalidSignature):
        raise KeystoreError(f"{cert_path}: expected a certificate issued by this enclave's "
                            f"identity CA ({common_name(identity_ca)!r})") from None
    if common_name(cert) != enclave:
        raise KeystoreError(f"{cert_path}: expected common name {enclave!r} (its folder), got "
                            f"{common_name(cert)!r}")
    now = datetime.now(timezone.utc)
    if not cert.not_valid_before_utc <= now <= cert.not_valid_after_utc:
        raise KeystoreError(f"{cert_path}: expired or not yet valid ({cert.not_valid_before_utc}"
                            f" .. {cert.not_valid_after_utc})")
    permissions = cert_path.parent / "permissions.p7s"
    try:
        grants = parse_grants(signed_content(permissions.read_bytes()))
    except (OSError, ValueError, ET.ParseError) as exc:
        raise KeystoreError(f"{permissions}: expected signed DDS permissions ({exc})") from None
    grant = grants.get(f"CN={enclave}")
    if grant is None:
        raise KeystoreError(f"{permissions}: expected a grant for subject CN={enclave}, got "
                            f"{sorted(grants)}")
    return Member(enclave=enclave, public_key=cert.public_key(), grant=grant)


def enclaves_of(keystore: str | Path) -> list[str]:
    """The enclaves a keystore holds keys for (folders with a ``key.pem``)."""
    root = Path(keystore, "enclaves")
    return sorted("/" + p.parent.relative_to(root).as_posix() for p in root.rglob("key.pem"))


def robots_of(enclaves: Iterable[str]) -> list[str]:
    """The robot ids among ``enclaves``."""
    prefix = f"{ENCLAVE_ROOT}/"
    return [e.removeprefix(prefix) for e in enclaves
            if e.startswith(prefix) and e not in (EDGE_ENCLAVE, OPERATOR_ENCLAVE)]
