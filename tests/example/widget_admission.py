"""A kopf admission webhook, the one tests/example/test_operator.py runs: a Widget's size is at
most 10. kopf serves it over TLS and registers it (a ValidatingWebhookConfiguration it manages);
where to listen, the name the apiserver calls and the certificate come from k8s_webhook, passed
in the environment as a deployment would pass them."""

import base64
import os

import kopf

LIMIT = 10


@kopf.on.login()
def login(**kwargs):
    return kopf.login_with_kubeconfig(**kwargs)  # $KUBECONFIG, read now


@kopf.on.startup()
def serve_admission(settings: kopf.OperatorSettings, **_):
    settings.admission.server = kopf.WebhookServer(
        addr=os.environ["WIDGET_WEBHOOK_ADDRESS"],
        host=os.environ["WIDGET_WEBHOOK_HOST"],
        certfile=os.environ["WIDGET_WEBHOOK_CERT"],
        pkeyfile=os.environ["WIDGET_WEBHOOK_KEY"],
        cadata=base64.b64decode(os.environ["WIDGET_WEBHOOK_CA_BUNDLE"]),
    )
    settings.admission.managed = "widgets.example.pytest-single-k8s.io"


@kopf.on.validate("example.pytest-single-k8s.io", "v1", "widgets")
def size_within_limit(spec, **_):
    if spec.get("size", 0) > LIMIT:
        raise kopf.AdmissionError(f"a Widget's size is at most {LIMIT}", code=422)
