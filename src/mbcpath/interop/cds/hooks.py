"""Answer a CDS Hooks call: gather the record (prefetch, else the EHR's FHIR server), recommend, make cards.

When prefetch data is missing and the request carries ``fhirServer`` and ``fhirAuthorization``, the
resources are read from the EHR's FHIR server with httpx (bearer token, searchset ``next`` links followed up
to 20 pages); without them the call is answered 412 with an OperationOutcome naming the missing keys, as the
specification allows.

References
----------
HL7 CDS Hooks 2.0.1, "Providing FHIR Resources to a CDS Service" (prefetch, fhirServer, fhirAuthorization;
    a service may answer 412 when it cannot obtain what it needs).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from mbcpath.errors import InteropError
from mbcpath.interop.cds.auth import ReplayCache, TrustedIssuers
from mbcpath.interop.cds.services import PREFETCH, SERVICES, fill

MAX_PAGES = 20


class CdsRequestError(InteropError):
    """A CDS Hooks request the service cannot answer; ``status`` is the HTTP status, ``outcome`` the body."""

    def __init__(self, status: int, expression: str, rule: str, code: str = "invalid") -> None:
        from mbcpath.interop.outcome import FhirIssue, operation_outcome

        self.status = status
        self.outcome = operation_outcome([FhirIssue(expression, None, rule, code=code)])
        super().__init__(f"{expression}: {rule}")


@dataclass
class CdsConfig:
    """Everything the CDS Hooks endpoints need, built once per app from ``MBCPATH_CDS_*``."""

    base_url: str
    app_url: str
    issuers: TrustedIssuers
    replay: ReplayCache = field(default_factory=ReplayCache)
    feedback_db: str = ":memory:"
    _store: Any = None

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> CdsConfig:
        env = os.environ if environ is None else environ
        base = env.get("MBCPATH_CDS_BASE_URL", "http://127.0.0.1:8000/cds-services").rstrip("/")
        app = env.get("MBCPATH_CDS_APP_URL", base.rsplit("/cds-services", 1)[0])
        return cls(base, app, TrustedIssuers.from_env(dict(env)), feedback_db=env.get("MBCPATH_CDS_FEEDBACK_DB",
                                                                                     ":memory:"))

    @property
    def store(self) -> Any:
        if self._store is None:
            from mbcpath.interop.cds.feedback import FeedbackStore

            self._store = FeedbackStore(self.feedback_db)
        return self._store


def _check_request(service_id: str, body: Any) -> dict[str, Any]:
    spec = SERVICES.get(service_id)
    if spec is None:
        raise CdsRequestError(404, "service", f"no CDS service {service_id!r}; GET /cds-services lists them",
                              code="not-found")
    if not isinstance(body, dict):
        raise CdsRequestError(400, "(root)", "the request body must be a JSON object", code="structure")
    if body.get("hook") != spec["hook"]:
        raise CdsRequestError(400, "hook", f"hook {body.get('hook')!r} does not match service hook {spec['hook']!r}")
    if not isinstance(body.get("hookInstance"), str):
        raise CdsRequestError(400, "hookInstance", "required (a UUID string)", code="required")
    context = body.get("context")
    if not isinstance(context, dict) or not isinstance(context.get("patientId"), str):
        raise CdsRequestError(400, "context.patientId", "required", code="required")
    return context


def _resources_of(value: Any) -> list[dict[str, Any]]:
    if not isinstance(value, dict):
        return []
    if value.get("resourceType") == "Bundle":
        return [e["resource"] for e in value.get("entry") or [] if isinstance(e, dict) and isinstance(
            e.get("resource"), dict) and e["resource"].get("resourceType") != "OperationOutcome"]
    return [value] if "resourceType" in value else []


def gather(body: dict[str, Any], context: dict[str, Any]) -> list[dict[str, Any]]:
    """The patient's resources from prefetch, fetching what is missing from the EHR's FHIR server."""
    prefetch = body.get("prefetch") or {}
    missing = [k for k in PREFETCH if prefetch.get(k) is None]
    out = [r for k in PREFETCH if prefetch.get(k) is not None for r in _resources_of(prefetch[k])]
    if not missing:
        return out
    server, auth = body.get("fhirServer"), body.get("fhirAuthorization")
    if not (isinstance(server, str) and isinstance(auth, dict) and auth.get("access_token")):
        raise CdsRequestError(412, "prefetch", f"prefetch {', '.join(missing)} missing and no fhirServer with "
                              "fhirAuthorization to read them from", code="incomplete")
    return out + fetch(server, str(auth["access_token"]), [q for k in missing if (q := fill(PREFETCH[k], context))])


def fetch(server: str, token: str, queries: list[str]) -> list[dict[str, Any]]:
    """Read each query (a read or a search) from the FHIR server with a bearer token."""
    import httpx

    out: list[dict[str, Any]] = []
    headers = {"authorization": f"Bearer {token}", "accept": "application/fhir+json"}
    with httpx.Client(timeout=10.0, headers=headers) as client:
        for q in queries:
            url: str | None = f"{server.rstrip('/')}/{q}"
            for _ in range(MAX_PAGES):
                if url is None:
                    break
                try:
                    resp = client.get(url)
                except httpx.HTTPError as err:
                    raise CdsRequestError(412, "fhirServer", f"cannot read {q} from the FHIR server: {err}",
                                          code="incomplete") from None
                if resp.status_code != 200:
                    raise CdsRequestError(412, "fhirServer", f"the FHIR server answered {resp.status_code} to {q}",
                                          code="incomplete")
                page = resp.json()
                out += _resources_of(page)
                url = next((lk.get("url") for lk in page.get("link") or [] if lk.get("relation") == "next"), None)
    return out


def _draft_drugs(hook: str, context: dict[str, Any]) -> list[str]:
    """Contract INNs of the drafted MedicationRequests (for order-select: the selected ones only)."""
    from mbcpath.interop.codes import RXNORM, drugs_from_text, rxnorm_map

    drafts = _resources_of(context.get("draftOrders"))
    selected = set(context.get("selections") or []) if hook == "order-select" else None
    drugs: list[str] = []
    for r in drafts:
        if r.get("resourceType") != "MedicationRequest":
            continue
        if selected is not None and f"MedicationRequest/{r.get('id')}" not in selected:
            continue
        concept = r.get("medicationCodeableConcept") or {}
        found: tuple[str, ...] = ()
        for c in concept.get("coding") or []:
            if c.get("system") == RXNORM and c.get("code") in rxnorm_map():
                found = rxnorm_map()[c["code"]].drugs
                break
        if not found:
            found = drugs_from_text(" ".join([concept.get("text") or ""] + [c.get("display") or "" for c in
                                                                            concept.get("coding") or []]))
        drugs += [d for d in found if d not in drugs]
    return drugs


def answer(service_id: str, body: Any, kb: Any, engine: Any, cfg: CdsConfig,
           as_of: date | None = None) -> dict[str, Any]:
    """The ``{"cards": [...]}`` body for one call (raises :class:`CdsRequestError`)."""
    from mbcpath.interop.cds.cards import order_cards, patient_view_cards
    from mbcpath.interop.cds.safety import drug_safety_findings
    from mbcpath.interop.fhir import fhir_to_patient, merge_into
    from mbcpath.interop.outcome import FhirInputError

    context = _check_request(service_id, body)
    hook = SERVICES[service_id]["hook"]
    drugs = _draft_drugs(hook, context) if hook != "patient-view" else []
    if hook != "patient-view" and not drugs:
        return {"cards": []}
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": [{"resource": r} for r in gather(body, context)]}
    try:
        imported = fhir_to_patient(bundle, as_of, patient_id=context["patientId"])
    except FhirInputError as err:
        raise CdsRequestError(422, err.issues[0].expression, err.issues[0].rule) from None
    rec = merge_into(engine(imported.patient, kb), imported)
    pid = context["patientId"]
    if hook == "patient-view":
        if rec.out_of_scope and imported.patient.her2.status != "positive" and "negative" in rec.out_of_scope.lower():
            return {"cards": []}
        return {"cards": patient_view_cards(rec, pid, cfg.base_url, cfg.app_url)}
    return {"cards": order_cards(drug_safety_findings(rec, drugs, kb), rec, cfg.base_url, cfg.app_url, pid)}
