"""``GET /trials`` and ``GET /trials/{id}``: the trials of the knowledge base."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from mbcpath.web.deps import KbDep
from mbcpath.web.schemas import Problem, TrialDetailOut, TrialListOut
from mbcpath.web.services import resolve_trial, search_trials, trial_source_keys, trial_summary

router = APIRouter(prefix="/trials", tags=["trials"])


@router.get("", response_model=TrialListOut, summary="List or search trials")
async def list_trials(kb: KbDep,
                      q: Annotated[str | None, Query(max_length=200,
                                                     description="words to find (id, alias, title, NCT, "
                                                                 "setting, population, arms)")] = None
                      ) -> TrialListOut:
    """Every trial, or those matching all words of ``q`` (case- and punctuation-insensitive)."""
    found = search_trials(kb, q)
    return TrialListOut(kb_release=kb.release.kb_release, query=q, count=len(found),
                        trials=[trial_summary(t) for t in found])


@router.get("/{trial_id}", response_model=TrialDetailOut, summary="One trial with its sources",
            responses={404: {"model": Problem, "content": {"application/problem+json": {}}}})
async def get_trial(trial_id: str, kb: KbDep) -> TrialDetailOut:
    """A trial by id or alias (case-insensitive), with every source it cites resolved."""
    t = resolve_trial(kb, trial_id)
    return TrialDetailOut(kb_release=kb.release.kb_release, trial=t,
                          sources={k: kb.sources[k] for k in trial_source_keys(t) if k in kb.sources})
