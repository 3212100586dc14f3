"""The sealed version: every part and every figure of a plan as one JSON document, and its seal
(a SHA-256 digest of the document's canonical form). A sealed version is rendered from its
snapshot alone, never from today's partners or rows."""

import hashlib
import json
from dataclasses import dataclass

from plans.constants import OrganisationKind
from plans.models import Plan


def plan_snapshot(plan: Plan, number: int, *, allocations: dict) -> dict:
    """Every part and every figure of the plan, as it is now: what signatories sign.
    `allocations` is the area's minimum and performance element by year (`finance`)."""
    return {
        "plan": plan.pk,
        "sealed_version": number,
        "area": {
            "name": plan.area.name,
            "slug": plan.area.slug,
            "boundary_differences": plan.area.boundary_differences,
        },
        "round": {
            "slug": plan.round.slug,
            "name": plan.round.name,
            "baseline": plan.round.baseline_label,
            "years": plan.round.year_labels,
        },
        "partners": [
            {"id": o.pk, "name": o.name, "kind": o.kind} for o in plan.partner_organisations
        ],
        "allocations": allocations,
        "parts": {
            part.key: {"version": part.version, "status": part.status, "content": part.content}
            for part in plan.parts.order_by("key")
        },
    }


def canonical_json(snapshot: dict) -> str:
    return json.dumps(snapshot, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def seal_digest(snapshot: dict) -> str:
    return hashlib.sha256(canonical_json(snapshot).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class SealedPartner:
    pk: int
    name: str
    kind: str

    @property
    def is_local_authority(self) -> bool:
        return self.kind == OrganisationKind.LOCAL_AUTHORITY


@dataclass(frozen=True)
class SealedRound:
    slug: str
    name: str
    baseline_label: str
    year_labels: list[str]


@dataclass(frozen=True)
class SealedFrame:
    """What a part's page needs of its plan — partners and years — as a snapshot recorded them,
    so that a sealed version reads the same after partners leave the area."""

    round: SealedRound
    partner_organisations: list[SealedPartner]


def sealed_content(snapshot: dict, part: str) -> dict:
    """A part's content as a snapshot recorded it ({} if the snapshot has none)."""
    return ((snapshot.get("parts") or {}).get(part) or {}).get("content") or {}


def snapshot_frame(snapshot: dict) -> SealedFrame:
    found = snapshot["round"]
    return SealedFrame(
        round=SealedRound(
            slug=found.get("slug", ""),
            name=found.get("name", ""),
            baseline_label=found.get("baseline", ""),
            year_labels=list(found["years"]),
        ),
        partner_organisations=[
            SealedPartner(pk=p["id"], name=p["name"], kind=p["kind"])
            for p in snapshot.get("partners", [])
        ],
    )
