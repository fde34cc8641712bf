"""The sales funnel over REST (being built)."""

from fastapi import APIRouter

router = APIRouter(tags=["funnel"])
