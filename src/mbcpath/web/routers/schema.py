"""``GET /schema/patient`` (and ``/schema/recommendation``): the contract's JSON Schemas."""

from __future__ import annotations

from functools import cache
from typing import Any

from fastapi import APIRouter

from mbcpath.domain.patient import Patient
from mbcpath.domain.recommendation import Recommendation

router = APIRouter(prefix="/schema", tags=["schema"])


@cache
def patient_schema() -> dict[str, Any]:
    return Patient.model_json_schema()


@cache
def recommendation_schema() -> dict[str, Any]:
    return Recommendation.model_json_schema(by_alias=True, mode="serialization")


@router.get("/patient", summary="JSON Schema of the patient (request)")
async def get_patient_schema() -> dict[str, Any]:
    """The JSON Schema (2020-12) of the patient the API accepts."""
    return patient_schema()


@router.get("/recommendation", summary="JSON Schema of the recommendation (response)")
async def get_recommendation_schema() -> dict[str, Any]:
    """The JSON Schema (2020-12) of the recommendation the API returns."""
    return recommendation_schema()
