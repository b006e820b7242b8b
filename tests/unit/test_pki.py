import ipaddress
import json

from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from pytest_single_k8s.cluster.pki import SERVER, Identity, Pki


def load(content):
    return x509.load_pem_x509_certificate(content)


def test_issued_certificates_chain_to_the_ca_with_names_and_groups():
    pki = Pki("/etc/pki")
    pki.issue(Identity("kubelet", "system:node:n1", groups=("system:nodes",)))
    pki.issue(
        Identity(
            "apiserver", "kube-apiserver", usages=(SERVER,), dns_names=("kubernetes",), ips=("10.96.0.1", "127.0.0.1")
        )
    )
    ca = load(pki["ca.crt"])
    kubelet, apiserver = load(pki["kubelet.crt"]), load(pki["apiserver.crt"])
    for cert in (kubelet, apiserver):
        cert.verify_directly_issued_by(ca)
    assert kubelet.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "system:node:n1"
    assert kubelet.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == "system:nodes"
    assert kubelet.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value == x509.ExtendedKeyUsage(
        [ExtendedKeyUsageOID.CLIENT_AUTH]
    )
    names = apiserver.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert names.get_values_for_type(x509.DNSName) == ["kubernetes"]
    assert names.get_values_for_type(x509.IPAddress) == [
        ipaddress.ip_address("10.96.0.1"),
        ipaddress.ip_address("127.0.0.1"),
    ]
    assert isinstance(apiserver.public_key(), ec.EllipticCurvePublicKey)


def test_nothing_is_written_the_files_are_kept_by_the_path_components_find_them_at(tmp_path):
    pki = Pki(str(tmp_path / "pki"))
    pki.issue(Identity("admin", "admin", groups=("system:masters",)))
    pki.key_pair("service-account")
    pki.kubeconfig("admin.kubeconfig", "admin", "https://127.0.0.1:1234")
    assert not (tmp_path / "pki").exists()
    names = ["ca.crt", "admin.crt", "admin.key", "service-account.key", "service-account.pub", "admin.kubeconfig"]
    assert sorted(pki.files) == sorted(f"{tmp_path}/pki/{name}" for name in names)


def test_kubeconfig_embeds_the_server_ca_and_identity():
    pki = Pki("/etc/pki")
    pki.issue(Identity("admin", "admin"))
    pki.kubeconfig("admin.kubeconfig", "admin", "https://127.0.0.1:1234")
    config = json.loads(pki["admin.kubeconfig"])
    cluster = config["clusters"][0]["cluster"]
    assert cluster["server"] == "https://127.0.0.1:1234"
    assert cluster["certificate-authority-data"]
    assert config["users"][0]["user"]["client-key-data"]
    assert config["current-context"] == "pytest-single-k8s"
