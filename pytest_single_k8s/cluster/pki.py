"""The cluster's PKI, made with `cryptography`: one CA, a certificate per identity, kubeconfigs.

ECDSA P-256 keys throughout: Kubernetes accepts them everywhere (including
service-account signing, ES256) and they take microseconds to make where RSA
takes tens of milliseconds. Nothing is written here: the files are kept in memory by
the path each component finds them at, and each component gets only the ones it names
(specs.py), written into its container through the engine.
"""

from __future__ import annotations

import base64
import datetime
import ipaddress
import json
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

VALIDITY = datetime.timedelta(days=365)
SERVER, CLIENT = ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH


@dataclass(frozen=True)
class Identity:
    """A certificate to issue: subject, groups (O=) and, for servers, alternative names."""

    file: str  # base name of the .crt/.key pair
    common_name: str
    groups: tuple[str, ...] = ()
    usages: tuple[x509.ObjectIdentifier, ...] = (CLIENT,)
    dns_names: tuple[str, ...] = ()
    ips: tuple[str, ...] = ()


@dataclass
class Pki:
    directory: str  # where the components find the files
    ca_key: ec.EllipticCurvePrivateKey = field(init=False)
    ca_cert: x509.Certificate = field(init=False)
    files: dict[str, bytes] = field(init=False, default_factory=dict)  # every file made, by path

    def __post_init__(self) -> None:
        self.ca_key = ec.generate_private_key(ec.SECP256R1())
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "pytest-single-k8s-ca")])
        self.ca_cert = (
            _builder(name, name, self.ca_key.public_key(), is_ca=True)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(self.ca_key.public_key()), critical=False)
            .sign(self.ca_key, hashes.SHA256())
        )
        # The CA's key stays in memory: every certificate the cluster needs is issued here, at its
        # start (the webhook's serving certificate too), and no component signs any.
        self._write("ca.crt", self.ca_cert.public_bytes(serialization.Encoding.PEM))

    def path(self, name: str) -> str:
        return f"{self.directory}/{name}"

    def __getitem__(self, name: str) -> bytes:
        return self.files[self.path(name)]

    def issue(self, identity: Identity) -> None:
        """Write <file>.crt and <file>.key for the identity, signed by the CA."""
        key = ec.generate_private_key(ec.SECP256R1())
        attributes = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, g) for g in identity.groups]
        attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, identity.common_name))
        builder = (
            _builder(x509.Name(attributes), self.ca_cert.subject, key.public_key(), is_ca=False)
            .add_extension(x509.ExtendedKeyUsage(list(identity.usages)), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(self.ca_key.public_key()), critical=False)
        )
        names: list[x509.GeneralName] = [x509.DNSName(d) for d in identity.dns_names]
        names += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in identity.ips]
        if names:
            builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
        cert = builder.sign(self.ca_key, hashes.SHA256())
        self._write(f"{identity.file}.crt", cert.public_bytes(serialization.Encoding.PEM))
        self._write(f"{identity.file}.key", _private_pem(key))

    def key_pair(self, file: str) -> None:
        """A bare key pair (<file>.key, <file>.pub): the service-account token signer."""
        key = ec.generate_private_key(ec.SECP256R1())
        self._write(f"{file}.key", _private_pem(key))
        public = key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        self._write(f"{file}.pub", public)

    def kubeconfig(self, file: str, identity: str, server: str) -> None:
        """A kubeconfig for the certificate pair <identity>.crt/.key, with everything embedded."""
        self._write(
            file, kubeconfig(self["ca.crt"], self[f"{identity}.crt"], self[f"{identity}.key"], identity, server)
        )

    def _write(self, name: str, content: bytes) -> None:
        self.files[self.path(name)] = content


def kubeconfig(ca: bytes, certificate: bytes, key: bytes, identity: str, server: str) -> bytes:
    """A kubeconfig for `server` with everything embedded: the CA's certificate, the identity's pair."""

    def data(content: bytes) -> str:
        return base64.b64encode(content).decode()

    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": "pytest-single-k8s",
                "cluster": {"server": server, "certificate-authority-data": data(ca)},
            }
        ],
        "users": [
            {
                "name": identity,
                "user": {
                    "client-certificate-data": data(certificate),
                    "client-key-data": data(key),
                },
            }
        ],
        "contexts": [{"name": "pytest-single-k8s", "context": {"cluster": "pytest-single-k8s", "user": identity}}],
        "current-context": "pytest-single-k8s",
    }
    # JSON is YAML: kubectl and client-go read it as a kubeconfig.
    return json.dumps(config, indent=2).encode()


def _builder(
    subject: x509.Name, issuer: x509.Name, public_key: ec.EllipticCurvePublicKey, is_ca: bool
) -> x509.CertificateBuilder:
    """What every certificate here shares: a random serial, VALIDITY from an hour ago (clock skew), key usage."""
    now = datetime.datetime.now(datetime.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + VALIDITY)
        .add_extension(x509.BasicConstraints(ca=is_ca, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                key_cert_sign=is_ca,
                crl_sign=is_ca,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    )


def _private_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
