"""Grades, ranks and forced-distribution calibration of PRODUCT.md §3 (pure, no database).

Every number is a ``Decimal``. Grades and ranks are taken on the total rounded to 2 decimals,
half-up (``round_total``).

Bands
    An ordered tuple of ``Band(grade, lower)``, best first, with strictly decreasing lower
    bounds. A band includes its lower bound. The last band catches everything below the band
    before it, whatever its own ``lower`` (the default D uses ``-Infinity`` to say so).

Calibration (see ``propose_moves`` for the algorithm)
    A ``Quota`` bounds the share of a team holding one grade, or a run of adjacent grades
    (C+D). Minima are rounded up and maxima down to whole people.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal
from typing import Final

CENT: Final = Decimal("0.01")
ONE: Final = Decimal(1)
NEGATIVE_INFINITY: Final = Decimal("-Infinity")


def _as_decimal(value: object, what: str) -> Decimal:
    """Decimal or int only: a float (or bool) is refused rather than silently converted."""
    if isinstance(value, bool) or not isinstance(value, Decimal | int):
        raise TypeError(f"{what} must be a Decimal, not {type(value).__name__}")
    return Decimal(value)


def _percent(share: Decimal) -> str:
    value = share * 100
    if value == value.to_integral_value():
        return f"{value.quantize(ONE)}%"
    return f"{value.normalize()}%"


# --------------------------------------------------------------------------------------------
# Bands and grades


@dataclass(frozen=True)
class Band:
    """A grade and the lowest rounded total (inclusive) that earns it."""

    grade: str
    lower: Decimal

    def __post_init__(self) -> None:
        if not self.grade:
            raise ValueError("a band needs a grade")
        lower = _as_decimal(self.lower, f"the lower bound of {self.grade}")
        if lower.is_nan():
            raise ValueError(f"the lower bound of {self.grade} is not a number")
        object.__setattr__(self, "lower", lower)


DEFAULT_BANDS: Final[tuple[Band, ...]] = (
    Band("S", Decimal(90)),
    Band("A", Decimal(80)),
    Band("B", Decimal(70)),
    Band("C", Decimal(60)),
    Band("D", NEGATIVE_INFINITY),
)


def validate_bands(bands: Sequence[Band]) -> tuple[Band, ...]:
    """Refuse bands that are empty, repeat a grade, or whose lower bounds are not strictly
    decreasing; only the last band may have an infinite (-Infinity) lower bound. Returns the
    bands as a tuple."""
    checked = tuple(bands)
    if not checked:
        raise ValueError("at least one band is needed")
    seen: set[str] = set()
    for index, band in enumerate(checked):
        if band.grade in seen:
            raise ValueError(f"grade {band.grade} appears twice")
        seen.add(band.grade)
        last = index == len(checked) - 1
        if not last and not band.lower.is_finite():
            raise ValueError(f"the lower bound of {band.grade} must be finite")
        if band.lower.is_infinite() and band.lower > 0:
            raise ValueError(f"the lower bound of {band.grade} cannot be +Infinity")
        if index and band.lower >= checked[index - 1].lower:
            previous = checked[index - 1]
            raise ValueError(
                f"lower bounds must decrease: {band.grade} ({band.lower}) is not below "
                f"{previous.grade} ({previous.lower})"
            )
    return checked


def round_total(total: Decimal) -> Decimal:
    """The total rounded to 2 decimals, half-up (89.995 → 90.00)."""
    return _as_decimal(total, "the total").quantize(CENT, rounding=ROUND_HALF_UP)


def grade_of(total: Decimal, bands: Sequence[Band] = DEFAULT_BANDS) -> str:
    """The grade of the rounded total: the first band whose lower bound it reaches; the last
    band catches the rest."""
    checked = validate_bands(bands)
    rounded = round_total(total)
    for band in checked[:-1]:
        if rounded >= band.lower:
            return band.grade
    return checked[-1].grade


def competition_ranks(scores: Mapping[str, Decimal]) -> dict[str, int]:
    """Competition ranking (1, 2, 2, 4) on rounded totals, higher first."""
    rounded = {person: round_total(total) for person, total in scores.items()}
    ordered = sorted(rounded.values(), reverse=True)
    first_position: dict[Decimal, int] = {}
    for position, value in enumerate(ordered, start=1):
        first_position.setdefault(value, position)
    return {person: first_position[value] for person, value in rounded.items()}


# --------------------------------------------------------------------------------------------
# Quotas and violations


@dataclass(frozen=True)
class Quota:
    """Bounds on the share (0–1) of a team holding any of ``grades``; ``None`` = unbounded."""

    grades: tuple[str, ...]
    min_share: Decimal | None
    max_share: Decimal | None

    def __post_init__(self) -> None:
        grades = tuple(self.grades)
        if not grades or len(set(grades)) != len(grades):
            raise ValueError("a quota needs one or more distinct grades")
        object.__setattr__(self, "grades", grades)
        label = "+".join(grades)
        for name in ("min_share", "max_share"):
            value = getattr(self, name)
            if value is None:
                continue
            share = _as_decimal(value, f"the {name} of {label}")
            if not Decimal(0) <= share <= ONE:
                raise ValueError(f"the {name} of {label} is {share}, outside 0–1")
            object.__setattr__(self, name, share)
        if (
            self.min_share is not None
            and self.max_share is not None
            and self.min_share > self.max_share
        ):
            raise ValueError(f"the quota of {label} has its minimum above its maximum")

    @property
    def label(self) -> str:
        return "+".join(self.grades)


DEFAULT_QUOTAS: Final[tuple[Quota, ...]] = (
    Quota(("S",), None, Decimal("0.15")),
    Quota(("A",), Decimal("0.20"), Decimal("0.30")),
    Quota(("B",), Decimal("0.40"), Decimal("0.60")),
    Quota(("C", "D"), Decimal("0.05"), None),
)


def quota_counts(quota: Quota, team_size: int) -> tuple[int | None, int | None]:
    """(min_people, max_people) for a team: minima rounded up, maxima rounded down."""
    if team_size < 0:
        raise ValueError("the team size cannot be negative")
    size = Decimal(team_size)
    low = (
        None
        if quota.min_share is None
        else int((quota.min_share * size).to_integral_value(rounding=ROUND_CEILING))
    )
    high = (
        None
        if quota.max_share is None
        else int((quota.max_share * size).to_integral_value(rounding=ROUND_FLOOR))
    )
    return low, high


@dataclass(frozen=True)
class Violation:
    grades: tuple[str, ...]
    actual: int
    min_people: int | None
    max_people: int | None
    message: str


def violations(
    grades_by_person: Mapping[str, str], quotas: Sequence[Quota] = DEFAULT_QUOTAS
) -> list[Violation]:
    """The quotas the team's grades break, in quota order, each with a readable message."""
    size = len(grades_by_person)
    found: list[Violation] = []
    for quota in quotas:
        actual = sum(1 for grade in grades_by_person.values() if grade in quota.grades)
        low, high = quota_counts(quota, size)
        if low is not None and actual < low:
            message = (
                f"{quota.label}: {actual} of {size}, at least {low} needed "
                f"({_percent(quota.min_share or Decimal(0))}, rounded up)"
            )
        elif high is not None and actual > high:
            message = (
                f"{quota.label}: {actual} of {size}, at most {high} allowed "
                f"({_percent(quota.max_share or Decimal(0))}, rounded down)"
            )
        else:
            continue
        found.append(Violation(quota.grades, actual, low, high, message))
    return found


def validate_quotas(quotas: Sequence[Quota], bands: Sequence[Band]) -> None:
    """Quota grades must exist in the bands, belong to one quota at most, and form a run of
    adjacent grades (C+D, not S+C)."""
    order = {band.grade: index for index, band in enumerate(validate_bands(bands))}
    taken: set[str] = set()
    for quota in quotas:
        for grade in quota.grades:
            if grade not in order:
                raise ValueError(f"the quota {quota.label} names an unknown grade {grade}")
            if grade in taken:
                raise ValueError(f"grade {grade} is in more than one quota")
            taken.add(grade)
        positions = sorted(order[grade] for grade in quota.grades)
        if positions[-1] - positions[0] != len(positions) - 1:
            raise ValueError(f"the quota {quota.label} must cover adjacent grades")


# --------------------------------------------------------------------------------------------
# Proposals


@dataclass(frozen=True)
class Proposal:
    person_id: str
    from_grade: str
    to_grade: str
    rank: int
    total: Decimal


@dataclass(frozen=True)
class CalibrationReport:
    """``report_only``: no proposals were made (team under the minimum size, or quotas no
    grading can satisfy for this team size; ``notes`` says which). ``notes`` also flags
    people with equal totals that a quota forced apart."""

    report_only: bool
    violations: list[Violation]
    proposals: list[Proposal]
    team_size: int
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Group:
    """A run of adjacent grades under one quota (or a lone grade under none)."""

    label: str
    first: int  # index of its best grade in band order
    last: int  # index of its worst grade in band order
    min_people: int
    max_people: int | None


def _groups(quotas: Sequence[Quota], bands: tuple[Band, ...], team_size: int) -> list[_Group]:
    order = {band.grade: index for index, band in enumerate(bands)}
    by_first: dict[int, _Group] = {}
    covered: set[int] = set()
    for quota in quotas:
        positions = sorted(order[grade] for grade in quota.grades)
        low, high = quota_counts(quota, team_size)
        by_first[positions[0]] = _Group(quota.label, positions[0], positions[-1], low or 0, high)
        covered.update(positions)
    for index, band in enumerate(bands):
        if index not in covered:
            by_first[index] = _Group(band.grade, index, index, 0, None)
    return [by_first[first] for first in sorted(by_first)]


def propose_moves(
    totals: Mapping[str, Decimal],
    grades_by_person: Mapping[str, str],
    quotas: Sequence[Quota] = DEFAULT_QUOTAS,
    bands: Sequence[Band] = DEFAULT_BANDS,
    min_team_size: int = 10,
) -> CalibrationReport:
    """Report quota violations and propose grade moves by rank.

    Algorithm:

    1. Rank the team by rounded total, best first (equal totals by person id, only to make
       the order deterministic). The current grades are read as *boundaries* on that order:
       ``b[g]`` = how many people hold grade ``g`` or better.
    2. Each quota covers a run of adjacent grades (a grade under no quota forms an unbounded
       group of its own). Walk the groups in band order (S, A, B, C+D) and choose each
       group's lower boundary ``B`` as the value nearest its current one within the range
       that (a) keeps this group inside its [min, max] people given the boundary already
       fixed above it and (b) still leaves the groups below a count they can all satisfy
       (``n − Σ max below ≤ B ≤ n − Σ min below``). So a move never creates a violation that
       can be avoided: too many S → the lowest-ranked S move to A; too few A → the
       highest-ranked B move up; too few C+D → the lowest-ranked B move to C; a group that
       has to shrink or grow because its neighbour moved does so at the same edge.
       Within the range, a boundary that falls between two different totals is preferred to
       one that splits people with equal totals (nearest first; on a draw the better grade);
       a split that cannot be avoided is reported in ``notes``.
    3. Boundaries inside a group (C|D in C+D) stay where they were, clamped into the group
       (so the lowest-ranked B who join C+D become C, not D).
    4. Grades are handed out by rank along the new boundaries, so the result is contiguous:
       a higher total never gets a worse grade than a lower total (an inverted input is put
       right too), and no one moves past someone ranked above them. Every person whose grade
       changes gets a ``Proposal`` (from, to, competition rank, rounded total), in rank order.

    Teams under ``min_team_size`` get the violations and no proposals (``report_only``), as
    do quotas that no grading of this team can satisfy (e.g. minima adding up to more than
    the team). The calibrator approves the final grades, a reason per move, outside this
    function; ``apply_proposals`` applies the approved ones.
    """
    checked_bands = validate_bands(bands)
    validate_quotas(quotas, checked_bands)
    if set(totals) != set(grades_by_person):
        raise ValueError("totals and grades must cover the same people")
    order = {band.grade: index for index, band in enumerate(checked_bands)}
    for person, grade in grades_by_person.items():
        if grade not in order:
            raise ValueError(f"{person} has an unknown grade {grade}")

    size = len(totals)
    found = violations(grades_by_person, quotas)
    if size < min_team_size:
        note = f"team of {size}, under {min_team_size}: report only"
        return CalibrationReport(True, found, [], size, [note])

    groups = _groups(quotas, checked_bands, size)
    min_below = [sum(group.min_people for group in groups[i + 1 :]) for i in range(len(groups))]
    max_below: list[int | None] = []
    for i in range(len(groups)):
        maxima = [group.max_people for group in groups[i + 1 :]]
        max_below.append(None if any(m is None for m in maxima) else sum(m or 0 for m in maxima))
    max_all = (
        None
        if any(g.max_people is None for g in groups)
        else sum(g.max_people or 0 for g in groups)
    )
    if sum(g.min_people for g in groups) > size or (max_all is not None and max_all < size):
        note = f"no grading of a team of {size} satisfies these quotas: report only"
        return CalibrationReport(True, found, [], size, [note])

    rounded = {person: round_total(total) for person, total in totals.items()}
    ranked = sorted(totals, key=lambda person: (-rounded[person], person))
    ranks = competition_ranks(totals)

    def splits_no_tie(boundary: int) -> bool:
        return boundary in (0, size) or rounded[ranked[boundary - 1]] != rounded[ranked[boundary]]

    notes: list[str] = []

    def choose(low: int, high: int, current: int, label: str) -> int:
        candidates = range(low, high + 1)
        clean = [b for b in candidates if splits_no_tie(b)]
        pool = clean or list(candidates)
        best = min(pool, key=lambda b: (abs(b - current), -b))
        if not splits_no_tie(best):
            person = ranked[best]
            notes.append(
                f"{label}: people tied at {rounded[person]} (rank {ranks[person]}) are split; "
                "among them the order is by person id"
            )
        return best

    # Current boundaries after each grade in band order: how many hold that grade or better.
    current = [0] * len(checked_bands)
    for grade in grades_by_person.values():
        for index in range(order[grade], len(checked_bands)):
            current[index] += 1

    new = list(current)
    above = 0
    for i, group in enumerate(groups):
        if i == len(groups) - 1:
            lower = size
        else:
            low = above + group.min_people
            high = size - min_below[i]
            if group.max_people is not None:
                high = min(high, above + group.max_people)
            if max_below[i] is not None:
                low = max(low, size - (max_below[i] or 0))
            lower = choose(low, high, current[group.last], group.label)
        for inner in range(group.first, group.last):
            new[inner] = choose(above, lower, current[inner], group.label)
        new[group.last] = lower
        above = lower

    proposals: list[Proposal] = []
    grade_index = 0
    for position, person in enumerate(ranked):
        while position >= new[grade_index]:
            grade_index += 1
        target = checked_bands[grade_index].grade
        if target != grades_by_person[person]:
            proposals.append(
                Proposal(person, grades_by_person[person], target, ranks[person], rounded[person])
            )
    return CalibrationReport(False, found, proposals, size, notes)


def apply_proposals(grades: Mapping[str, str], proposals: Sequence[Proposal]) -> dict[str, str]:
    """The grades after the (approved) proposals; a proposal must start from the person's
    current grade, so a stale proposal is refused rather than applied."""
    result = dict(grades)
    for proposal in proposals:
        if proposal.person_id not in result:
            raise ValueError(f"{proposal.person_id} is not in the team")
        if result[proposal.person_id] != proposal.from_grade:
            raise ValueError(
                f"{proposal.person_id} holds {result[proposal.person_id]}, "
                f"not {proposal.from_grade}"
            )
        result[proposal.person_id] = proposal.to_grade
    return result
