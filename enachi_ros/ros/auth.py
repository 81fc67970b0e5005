"""Signed control-plane messages: the fleet's protection where DDS-Security is not available.

Why: the Fast DDS of the PyPI ROS 2 wheels (Jazzy 2.14, Kilted 3.2) is built without the
DDS-Security plugins (README, "Security"), and anyone on the DDS domain can publish anything. A
forged ``SchedulerDecisionArray`` steers every robot; a forged ``EnergyReport`` or
``ChannelReport`` steers the scheduler. Every message type with a ``MessageAuth auth`` field is
therefore signed by its publisher's enclave key and checked by every subscriber, with the
keystore and the signed permissions that DDS-Security would use (``ros.keystore``):

- the signer's enclave must be one of the keystore, with a certificate of the fleet's CA;
- its permissions must allow publishing on the topic the message arrived on (a robot cannot
  publish decisions, nor another robot's reports);
- the ECDSA P-256 signature covers the topic name and the message's CDR bytes (with the
  signature field empty), so no field can be altered and no message moved to another topic;
- ``auth.sequence`` (the signing time in wall-clock ns, strictly increasing per publisher
  ``stream``) must be newer than the last one accepted from that stream and within
  ``MAX_AGE_S`` of this host's clock: a recorded message cannot be replayed (fleet clocks must
  be synchronized, e.g. chrony, to within that).

What it does not give (DDS-Security would): confidentiality (payloads stay readable), protection
of discovery, of the other topics (features, results, feedback, heartbeat), and of a receiver's
queue against a flood of forged messages, which are rejected one by one and counted.

A process is secured when ``ENACHI_KEYSTORE`` and ``ENACHI_ENCLAVE`` are set (the launch files
set them with ``security:=true``); otherwise publishers and subscriptions are left untouched.
"""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Callable, Mapping
from functools import lru_cache
from typing import Any

from enachi_ros.ros.keystore import Fleet, KeystoreError, load_fleet
from enachi_ros.ros.rejects import InputError

KEYSTORE_ENV = "ENACHI_KEYSTORE"
ENCLAVE_ENV = "ENACHI_ENCLAVE"
MAX_AGE_S = 10.0
_CONTEXT = b"enachi-auth/1\n"  # domain separation: these signatures sign nothing else
_STREAMS_KEPT = 4096  # replay state: the most recent (enclave, topic, stream) entries
_SIGNATURE_BYTES = 64  # r || s, 32 bytes each: a fixed size, so it is the last 64 bytes
_LENGTH = 4  # the CDR length prefix of auth.signature


def is_signed_type(msg_type: Any) -> bool:
    """Whether ``msg_type`` carries a ``MessageAuth auth`` field (its last field, which makes
    ``auth.signature`` the last bytes of the CDR serialization)."""
    fields = list(getattr(msg_type, "get_fields_and_field_types", dict)().items())
    return bool(fields) and fields[-1] == ("auth", "enachi_interfaces/MessageAuth")


class Authenticator:
    """Signs what this process publishes and checks what it receives, for one enclave.

    The signature covers the exact bytes on the wire: the publisher serializes the message with
    an empty signature, signs those bytes and publishes them with the signature appended (rclpy
    publishes serialized bytes as given); subscribers take the bytes (``raw=True``), verify,
    then deserialize. Signing a re-serialization would not work: rclpy's CDR leaves alignment
    padding uninitialized, so the same message serializes to different bytes.
    """

    def __init__(self, fleet: Fleet, domain_id: int = 0, max_age_s: float = MAX_AGE_S,
                 clock_ns: Callable[[], int] = time.time_ns) -> None:
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec

        self.fleet, self.domain_id = fleet, domain_id
        self.max_age_ns = int(max_age_s * 1e9)
        self.clock_ns = clock_ns
        self._ecdsa = ec.ECDSA(hashes.SHA256())
        self._last: dict[tuple[str, str, int], int] = {}

    @property
    def enclave(self) -> str:
        return self.fleet.enclave

    def sign(self, msg: Any, topic: str, stream: int, sequence: int) -> bytes:
        """The serialized, signed ``msg`` for publication on ``topic`` (the resolved name);
        ``msg.auth`` is filled too (its signature left empty)."""
        from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
        from rclpy.serialization import serialize_message

        auth = msg.auth
        auth.enclave, auth.stream, auth.sequence, auth.signature = (
            self.enclave, stream, sequence, b"")
        unsigned = serialize_message(msg)
        if unsigned[-_LENGTH:] != bytes(_LENGTH):
            raise ValueError(f"{type(msg).__name__}: expected its CDR bytes to end with the "
                             "empty auth.signature (auth must be the last field)")
        r, s = decode_dss_signature(self.fleet.private_key.sign(
            _CONTEXT + topic.encode() + b"\n" + unsigned, self._ecdsa))
        signature = r.to_bytes(32, "big") + s.to_bytes(32, "big")
        order = "little" if unsigned[1] & 1 else "big"  # the CDR encapsulation's byte order
        return unsigned[:-_LENGTH] + _SIGNATURE_BYTES.to_bytes(_LENGTH, order) + signature

    def check(self, data: bytes, msg_type: Any, topic: str) -> Any:
        """The message of the signed bytes ``data`` received on ``topic``; InputError naming
        the ``auth`` field that fails. The signature is checked before the replay state
        changes, so forged messages cannot shift it."""
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature
        from rclpy.serialization import deserialize_message

        try:
            msg = deserialize_message(data, msg_type)
        except Exception as exc:  # whatever rclpy raises for malformed CDR
            raise InputError("auth", f"{len(data)} bytes", f"a serialized "
                             f"{msg_type.__name__} ({exc})") from None
        auth = msg.auth
        if not auth.enclave:
            raise InputError("auth.enclave", "", "a signed message (the fleet runs with "
                             "security:=true); this one is unsigned")
        member = self.fleet.members.get(auth.enclave)
        if member is None:
            raise InputError("auth.enclave", auth.enclave, "an enclave of the keystore")
        if not member.grant.allows("publish", "rt" + topic, self.domain_id):
            raise InputError("auth.enclave", auth.enclave,
                             f"an enclave whose permissions allow publishing {topic}")
        if bytes(auth.signature) != data[-_SIGNATURE_BYTES:] or \
                len(auth.signature) != _SIGNATURE_BYTES:
            raise InputError("auth.signature", f"{len(auth.signature)} bytes",
                             f"{_SIGNATURE_BYTES} bytes (ECDSA P-256 r || s)")
        sequence, now = int(auth.sequence), self.clock_ns()
        if abs(now - sequence) > self.max_age_ns:
            raise InputError("auth.sequence", sequence, f"a signing time within "
                             f"{self.max_age_ns / 1e9:g} s of this host's clock {now} (a "
                             "replay, or clocks not synchronized)")
        key = (auth.enclave, topic, int(auth.stream))
        if sequence <= self._last.get(key, -1):
            raise InputError("auth.sequence", sequence, f"> {self._last[key]}, the last one "
                             "accepted from this publisher (a replay)")
        signature = data[-_SIGNATURE_BYTES:]
        unsigned = data[:-_SIGNATURE_BYTES - _LENGTH] + bytes(_LENGTH)
        der = encode_dss_signature(int.from_bytes(signature[:32], "big"),
                                   int.from_bytes(signature[32:], "big"))
        try:
            member.public_key.verify(der, _CONTEXT + topic.encode() + b"\n" + unsigned,
                                     self._ecdsa)
        except InvalidSignature:
            raise InputError("auth.signature", f"{len(signature)} bytes",
                             f"an ECDSA signature by {auth.enclave} of this message on "
                             f"{topic}") from None
        self._last.pop(key, None)  # re-inserted last: the oldest entries are trimmed first
        self._last[key] = sequence
        while len(self._last) > _STREAMS_KEPT:
            self._last.pop(next(iter(self._last)))
        return msg


def from_environment(environ: Mapping[str, str] = os.environ) -> Authenticator | None:
    """The authenticator ``ENACHI_KEYSTORE`` / ``ENACHI_ENCLAVE`` describe, None when the first
    is unset; KeystoreError (a ValueError naming ``keystore``) when they are unusable."""
    keystore = environ.get(KEYSTORE_ENV, "")
    if not keystore:
        return None
    enclave = environ.get(ENCLAVE_ENV, "")
    if not enclave:
        raise KeystoreError(f"{KEYSTORE_ENV}={keystore} is set but {ENCLAVE_ENV} is not: "
                            "expected the enclave of this process, e.g. /enachi/robot1")
    domain = environ.get("ROS_DOMAIN_ID", "") or "0"
    return Authenticator(load_fleet(keystore, enclave), domain_id=int(domain))


@lru_cache(maxsize=1)
def process_authenticator() -> Authenticator | None:
    """This process's authenticator (one enclave per process, as SROS2's ``--enclave``)."""
    return from_environment()


class SignedPublisher:
    """A publisher whose ``publish`` signs first; everything else is the wrapped publisher's."""

    def __init__(self, publisher: Any, authenticator: Authenticator) -> None:
        self.publisher, self.authenticator = publisher, authenticator
        self.stream = secrets.randbits(64)
        self.sequence = 0

    def publish(self, msg: Any) -> None:
        self.sequence = max(self.authenticator.clock_ns(), self.sequence + 1)
        self.publisher.publish(self.authenticator.sign(
            msg, self.publisher.topic_name, self.stream, self.sequence))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.publisher, name)


def guard_publisher(authenticator: Authenticator | None, publisher: Any) -> Any:
    """``publisher`` itself, or a SignedPublisher when secured and its type is signed."""
    if authenticator is None or not is_signed_type(publisher.msg_type):
        return publisher
    return SignedPublisher(publisher, authenticator)


def guard_subscription(authenticator: Authenticator | None, msg_type: Any, topic: str,
                       callback: Callable[[Any], None],
                       reject: Callable[[str, InputError, str], None],
                       ) -> tuple[Callable[[Any], None], bool]:
    """``(callback, raw)`` for a subscription on ``topic`` (the resolved name): unchanged when
    not secured or the type is not signed; else a callback that takes the serialized bytes
    (``raw=True``), checks them and calls ``callback`` with the message, or ``reject`` s it
    (``InputRejects.reject``: counted per topic and field, logged rate-limited)."""
    if authenticator is None or not is_signed_type(msg_type):
        return callback, False

    def checked(data: bytes) -> None:
        try:
            msg = authenticator.check(data, msg_type, topic)
        except InputError as exc:
            reject(topic, exc, "message")
            return
        callback(msg)

    return checked, True
