"""Writing the fleet's keystore: one CA, one enclave per robot, the edge's and the operator's.

The layout, the certificates and the S/MIME-signed governance and permissions are those of
SROS2 (``ros2 security create_keystore`` / ``create_enclave``), so an apt ROS 2 with DDS-Security
can use the folder as ``ROS_SECURITY_KEYSTORE``; the permissions are this fleet's policy
(``ros.keystore.fleet_topics``) instead of SROS2's allow-everything default. Keys are ECDSA P-256,
as SROS2's; one CA serves as identity and permissions CA, as in SROS2's default keystore.

Running it again on the same folder keeps the CA and every enclave already there and adds the
missing ones, so robots can be added later without re-keying the fleet.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from enachi_ros.ros.keystore import (
    EDGE_ENCLAVE,
    OPERATOR_ENCLAVE,
    enclave_dir,
    fleet_topics,
    robot_enclave,
)

CA_NAME = "enachi fleet CA"
MAX_DOMAIN_ID = 232  # the largest DDS domain id
_XSD = "http://www.omg.org/spec/DDS-SECURITY/20170901/omg_shared_ca_{}.xsd"


@dataclass
class Created:
    """What one run wrote: the enclaves it created and those it found and kept."""

    root: Path
    created: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)


def create_keystore(root: str | Path, robots: list[str], days: int = 3650,
                    domain_id: int | None = None) -> Created:
    """Write (or complete) the keystore at ``root`` for ``robots``; ValueError naming the
    argument for a bad robot id, ``days`` or ``domain_id``."""
    enclaves = [EDGE_ENCLAVE, OPERATOR_ENCLAVE, *(robot_enclave(r) for r in robots)]
    if len(set(enclaves)) != len(enclaves):
        raise ValueError(f"robots: expected distinct ids, got {robots}")
    if days < 1:
        raise ValueError(f"days: expected >= 1, got {days}")
    if domain_id is not None and not 0 <= domain_id <= MAX_DOMAIN_ID:
        raise ValueError(f"domain_id: expected 0..{MAX_DOMAIN_ID}, got {domain_id}")
    root = Path(root).expanduser().resolve()
    for sub in ("public", "private", "enclaves"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    os.chmod(root / "private", 0o700)
    ca_cert, ca_key = _certificate_authority(root, days)
    governance = root / "enclaves" / "governance.p7s"
    if not governance.is_file():
        xml = _governance_xml(domain_id)
        (root / "enclaves" / "governance.xml").write_bytes(xml)
        governance.write_bytes(sign_smime(xml, ca_cert, ca_key))
    out = Created(root)
    for enclave in enclaves:
        folder = enclave_dir(root, enclave)
        if (folder / "key.pem").is_file() and (folder / "cert.pem").is_file():
            out.kept.append(enclave)
            continue
        _enclave(root, folder, enclave, ca_cert, ca_key, days, domain_id)
        out.created.append(enclave)
    return out


def sign_smime(data: bytes, cert: Any, key: Any) -> bytes:
    """``data`` S/MIME-signed, detached, as text: what ``openssl smime -sign -text`` and SROS2
    write, and what DDS-Security reads for governance and permissions."""
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.serialization import pkcs7

    return (pkcs7.PKCS7SignatureBuilder().set_data(data)
            .add_signer(cert, key, hashes.SHA256())
            .sign(serialization.Encoding.SMIME,
                  [pkcs7.PKCS7Options.Text, pkcs7.PKCS7Options.DetachedSignature]))


def _certificate_authority(root: Path, days: int) -> tuple[Any, Any]:
    """The keystore's CA, loaded if present, else made (self-signed), with SROS2's names."""
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    cert_path, key_path = root / "public" / "ca.cert.pem", root / "private" / "ca.key.pem"
    if cert_path.is_file() and key_path.is_file():
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        key = serialization.load_pem_private_key(key_path.read_bytes(), None)
    else:
        key = ec.generate_private_key(ec.SECP256R1())
        cert = _certificate(CA_NAME, key.public_key(), CA_NAME, key, days, ca=True)
        _write_key(key_path, key)
        cert_path.write_bytes(_pem(cert))
    for folder, name in (("public", "ca.cert.pem"), ("private", "ca.key.pem")):
        for role in ("identity_ca", "permissions_ca"):
            link = root / folder / name.replace("ca", role, 1)
            if not link.exists():
                link.symlink_to(name)
    return cert, key


def _enclave(root: Path, folder: Path, enclave: str, ca_cert: Any, ca_key: Any, days: int,
             domain_id: int | None) -> None:
    from cryptography.hazmat.primitives.asymmetric import ec

    folder.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    cert = _certificate(enclave, key.public_key(), CA_NAME, ca_key, days, ca=False)
    _write_key(folder / "key.pem", key)
    (folder / "cert.pem").write_bytes(_pem(cert))
    for name in ("identity_ca.cert.pem", "permissions_ca.cert.pem"):
        (folder / name).write_bytes(_pem(ca_cert))
    shutil.copyfile(root / "enclaves" / "governance.p7s", folder / "governance.p7s")
    xml = permissions_xml(enclave, days, domain_id)
    (folder / "permissions.xml").write_bytes(xml)
    (folder / "permissions.p7s").write_bytes(sign_smime(xml, ca_cert, ca_key))


def _certificate(subject: str, public_key: Any, issuer: str, issuer_key: Any, days: int,
                 ca: bool) -> Any:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.x509.oid import NameOID

    now = dt.datetime.now(dt.timezone.utc)
    usage = dict(digital_signature=True, content_commitment=False, key_encipherment=False,
                 data_encipherment=False, key_agreement=False, key_cert_sign=ca, crl_sign=ca,
                 encipher_only=False, decipher_only=False)
    return (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
            .issuer_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, issuer)]))
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(days=1))  # tolerate clocks a day behind
            .not_valid_after(now + dt.timedelta(days=days))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(**usage), critical=True)
            .sign(issuer_key, hashes.SHA256()))


def _domains(parent: ET.Element, domain_id: int | None) -> None:
    domains = ET.SubElement(parent, "domains")
    if domain_id is None:
        span = ET.SubElement(domains, "id_range")
        ET.SubElement(span, "min").text = "0"
        ET.SubElement(span, "max").text = str(MAX_DOMAIN_ID)
    else:
        ET.SubElement(domains, "id").text = str(domain_id)


def _document(kind: str) -> ET.Element:
    return ET.Element("dds", {"xmlns:xsi": "http://www.w3.org/2001/XMLSchema-instance",
                              "xsi:noNamespaceSchemaLocation": _XSD.format(kind)})


def _serialized(root: ET.Element) -> bytes:
    ET.indent(root)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root) + b"\n"


def _governance_xml(domain_id: int | None) -> bytes:
    """DDS-Security governance: only authenticated participants join; discovery and liveliness
    encrypted, RTPS messages signed; every topic access-controlled, its data encrypted."""
    root = _document("governance")
    rule = ET.SubElement(ET.SubElement(root, "domain_access_rules"), "domain_rule")
    _domains(rule, domain_id)
    for tag, value in (("allow_unauthenticated_participants", "false"),
                       ("enable_join_access_control", "true"),
                       ("discovery_protection_kind", "ENCRYPT"),
                       ("liveliness_protection_kind", "ENCRYPT"),
                       ("rtps_protection_kind", "SIGN")):
        ET.SubElement(rule, tag).text = value
    topic = ET.SubElement(ET.SubElement(rule, "topic_access_rules"), "topic_rule")
    for tag, value in (("topic_expression", "*"), ("enable_discovery_protection", "true"),
                       ("enable_liveliness_protection", "true"),
                       ("enable_read_access_control", "true"),
                       ("enable_write_access_control", "true"),
                       ("metadata_protection_kind", "ENCRYPT"),
                       ("data_protection_kind", "ENCRYPT")):
        ET.SubElement(topic, tag).text = value
    return _serialized(root)


def permissions_xml(enclave: str, days: int, domain_id: int | None) -> bytes:
    """DDS-Security permissions of ``enclave``: ``fleet_topics`` allowed, everything else
    denied."""
    now = dt.datetime.now(dt.timezone.utc).replace(microsecond=0, tzinfo=None)
    root = _document("permissions")
    grant = ET.SubElement(ET.SubElement(root, "permissions"), "grant", {"name": enclave})
    ET.SubElement(grant, "subject_name").text = f"CN={enclave}"
    validity = ET.SubElement(grant, "validity")
    ET.SubElement(validity, "not_before").text = (now - dt.timedelta(days=1)).isoformat()
    ET.SubElement(validity, "not_after").text = (now + dt.timedelta(days=days)).isoformat()
    rule = ET.SubElement(grant, "allow_rule")
    _domains(rule, domain_id)
    for action, expressions in fleet_topics(enclave).items():
        topics = ET.SubElement(ET.SubElement(rule, action), "topics")
        for expression in expressions:
            ET.SubElement(topics, "topic").text = expression
    ET.SubElement(grant, "default").text = "DENY"
    return _serialized(root)


def _pem(cert: Any) -> bytes:
    from cryptography.hazmat.primitives import serialization

    return cert.public_bytes(serialization.Encoding.PEM)


def _write_key(path: Path, key: Any) -> None:
    """A private key, readable by its owner only (as SROS2 and ssh want it)."""
    from cryptography.hazmat.primitives import serialization

    data = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption())
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
