"""The deterministic demo Suzhou city: entities and two years of supervision history, generated with numpy.

Everything comes from ``numpy.random.default_rng`` seeded with ``(seed, chunk)``, so one seed always gives the
same city (dates are counted back from ``end_date``). Entities are generated in chunks of ``CHUNK_SIZE`` as
columns of numpy arrays; records (dicts keyed by the ingestion field names) are only built when streamed.

Each entity carries a hidden risk (from its trade, type, age, capital and district, plus noise) that drifts
month by month (AR(1), so risky entities stay risky) and drives the rates of complaints, inspections and their
results, penalties, coercive measures and credit listings. The hidden risk never leaves this module.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from functools import cache

import numpy as np

from domain.demo import profiles as P
from domain.demo.vocabulary import ITEM_KINDS, load_departments, load_name_parts, load_supervision_items
from domain.supervision.models import ACTION_TRIGGERS
from domain.supervision.uscc import make_uscc_from_int

__all__ = [
    "CHUNK_SIZE",
    "PERIODS",
    "WINDOW_DAYS",
    "ActionColumns",
    "ComplaintColumns",
    "CreditColumns",
    "DemoChunk",
    "DemoCity",
    "EntityColumns",
]

WINDOW_DAYS = 730  # two years of history, the last day being ``end_date``
PERIODS = 24  # the hidden risk moves month by month
CHUNK_SIZE = 50_000
_PERIOD_START = np.floor(np.arange(PERIODS + 1) * WINDOW_DAYS / PERIODS).astype(np.int64)

INSPECTION_RESULTS = ("pass", "fail", "rectify")
CREDIT_KINDS = ("abnormal_operation", "serious_violation", "commendation")
_KIND = {k: i for i, k in enumerate(ITEM_KINDS)}  # inspection, penalty, coercion, other
_ENTERPRISE, _INDIVIDUAL, _COOPERATIVE = 0, 1, 2
_TRIGGER = {k: i for i, k in enumerate(ACTION_TRIGGERS)}
# planned inspections: about half by 双随机 draw (as the 双随机一公开 rules ask), then routine, campaign, clue
_TRIGGER_CUM = np.cumsum(np.array([0.58, 0.0, 0.08, 0.22, 0.12]))[None, :]
NO_DAY = -10_000_000  # "no date yet" in day columns (day numbers themselves may be negative)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


def _cumulative(weights: np.ndarray) -> np.ndarray:
    """Row-wise cumulative probabilities (rows of zeros stay zero)."""
    totals = weights.sum(axis=-1, keepdims=True)
    return np.cumsum(weights / np.where(totals == 0, 1, totals), axis=-1)


def _pick(cum: np.ndarray, u: np.ndarray) -> np.ndarray:
    """Index drawn from each row's cumulative distribution ``cum`` with uniforms ``u``."""
    return np.minimum((u[:, None] > cum).sum(axis=1), cum.shape[1] - 1)


# --- lookup tables built once from the vocabulary --------------------------------------------------------------

@dataclass(frozen=True)
class _Tables:
    regions: tuple[str, ...]
    region_p: np.ndarray
    region_risk: np.ndarray
    divisions: tuple[str, ...]  # every division an entity can have
    division_section: tuple[str, ...]
    division_risk: np.ndarray  # section + division risk
    complaint_factor: np.ndarray  # how consumer-facing a division is
    # enterprise name words: (section, word, division index) with their probabilities
    ent_words: tuple[str, ...]
    ent_word_division: np.ndarray
    ent_word_p: np.ndarray
    shop_words: tuple[str, ...]
    shop_division: np.ndarray
    coop_words: tuple[str, ...]
    coop_division: np.ndarray
    brand: tuple[str, ...]
    prefixes: tuple[tuple[str, ...], ...]  # per region
    district_names: tuple[str, ...]  # per region
    departments: tuple[dict, ...]
    city_departments: tuple[int, ...]  # indexes into departments
    branch: np.ndarray  # (city dept position, region) -> department index or -1
    dept_cum: np.ndarray  # (kind, division, city dept position) cumulative
    items: tuple[dict, ...]
    item_sorted: np.ndarray
    item_offset: np.ndarray  # (city dept position, kind)
    item_count: np.ndarray
    item_cum: np.ndarray  # (city dept position, kind, division, slot) cumulative: items that fit the trade
    item_fit: np.ndarray  # (item, division) -> the item may be used on an entity of that trade
    dept_source: tuple[str, ...]  # per department index: the source its actions arrive through
    complaint_cat: tuple[str, ...]
    complaint_cat_cum: np.ndarray  # (division, category)
    channels: tuple[str, ...]
    channel_cum: np.ndarray
    market_dept: np.ndarray  # per region: the market regulation department (authority of credit listings)


def item_concerns(name: str) -> set[str]:
    """The divisions/sections an item's name says it concerns (empty: any trade). The most specific keyword
    wins: "医疗器械生产" (manufacturers) overrides "医疗器械" (which includes retail)."""
    found = [(word, codes) for word, codes in P.ITEM_KEYWORDS if word in name]
    return {code for word, codes in found if not any(word != other and word in other for other, _ in found)
            for code in codes}


@cache
def _tables() -> _Tables:
    parts = load_name_parts()
    regions = tuple(P.REGION_WEIGHTS)
    region_p = np.array([P.REGION_WEIGHTS[r] for r in regions])
    region_p /= region_p.sum()

    divisions = sorted(set(P.INDUSTRY_WORD_DIVISIONS.values()) | set(P.INDIVIDUAL_DIVISIONS.values())
                       | set(P.COOPERATIVE_DIVISIONS.values()))
    div_index = {d: i for i, d in enumerate(divisions)}
    from domain.reference import get_industry

    division_section = tuple(get_industry(d)["parent_code"] for d in divisions)  # type: ignore[index]
    division_risk = np.array([P.SECTION_RISK[s] + P.DIVISION_RISK.get(d, 0.0)
                              for d, s in zip(divisions, division_section, strict=True)])
    consumer = {"H": 4.0, "F": 2.0, "O": 2.5, "R": 2.0, "K": 2.0, "P": 2.5, "Q": 2.0, "E": 1.2, "G": 1.0}
    complaint_factor = np.array([consumer.get(s, 0.4) * (1.5 if d == "52" else 1.0)
                                 for d, s in zip(divisions, division_section, strict=True)])

    ent_words, ent_div, ent_p = [], [], []
    for section, weight in P.ENTERPRISE_SECTION_WEIGHTS.items():
        words = parts["industry_words"][section]
        for word in words:
            ent_words.append(word)
            ent_div.append(div_index[P.INDUSTRY_WORD_DIVISIONS[word]])
            ent_p.append(weight / len(words))
    ent_word_p = np.array(ent_p) / sum(ent_p)
    shop_words = tuple(parts["suffixes"]["individual"])
    coop_words = tuple(parts["cooperative_words"])

    departments = tuple(load_departments())
    dept_index = {d["code"]: i for i, d in enumerate(departments)}
    city = tuple(i for i, d in enumerate(departments) if d["level"] == "city")
    city_pos = {departments[i]["code"]: p for p, i in enumerate(city)}
    branch = np.full((len(city), len(regions)), -1, dtype=np.int64)
    for i, d in enumerate(departments):
        if d["parent_code"]:
            branch[city_pos[d["parent_code"]], regions.index(d["region_code"])] = i

    items = tuple(load_supervision_items())
    order = sorted(range(len(items)), key=lambda i: (city_pos[items[i]["department_code"]], _KIND[items[i]["kind"]]))
    item_sorted = np.array(order, dtype=np.int64)
    item_offset = np.zeros((len(city), len(ITEM_KINDS)), dtype=np.int64)
    item_count = np.zeros_like(item_offset)
    for pos, i in enumerate(order):
        key = (city_pos[items[i]["department_code"]], _KIND[items[i]["kind"]])
        if item_count[key] == 0:
            item_offset[key] = pos
        item_count[key] += 1

    item_fit = np.array([[not concerns or div in concerns or sec in concerns
                          for div, sec in zip(divisions, division_section, strict=True)]
                         for concerns in (item_concerns(item["name"]) for item in items)], dtype=bool)
    item_w = np.zeros((len(city), len(ITEM_KINDS), len(divisions), int(item_count.max())))
    for (pos, k), count in np.ndenumerate(item_count):
        for slot in range(count):
            # the keyword table decides: an item that names a trade is never used on another trade
            item_w[pos, k, :, slot] = item_fit[item_sorted[item_offset[pos, k] + slot]]

    weights = np.zeros((len(ITEM_KINDS), len(divisions), len(city)))
    for code, by_section in P.DEPARTMENT_SECTION_WEIGHTS.items():
        p = city_pos[code]
        for j, (div, sec) in enumerate(zip(divisions, division_section, strict=True)):
            w = by_section.get(sec, 0.0) * P.DEPARTMENT_DIVISION_FACTORS.get((code, div), 1.0)
            for k in range(len(ITEM_KINDS)):
                # a department acts on a trade mostly under items that concern it
                weights[k, j, p] = w * item_w[p, k, j].max() if item_count[p, k] else 0.0
    # a (kind, trade) no department has a fitting item for keeps the trade's departments, and `_actions`
    # drops those acts rather than file them under an item of another trade
    unfit = weights.sum(axis=2) == 0
    fallback = np.zeros_like(weights)
    for code, by_section in P.DEPARTMENT_SECTION_WEIGHTS.items():
        for j, sec in enumerate(division_section):
            fallback[:, j, city_pos[code]] = by_section.get(sec, 0.0) + 1e-9
    weights = np.where(unfit[:, :, None], fallback, weights)
    dept_cum = _cumulative(weights)

    source_of_city = {s["department"]: s["code"] for s in P.SOURCES if s["kind"] == "department_system"}
    manual = {"SZ-JY", "SZ-SL"}
    dept_source = []
    for d in departments:
        root = d["parent_code"] or d["code"]
        dept_source.append("MANUAL" if root in manual else source_of_city.get(root, "phase-one"))

    categories = tuple(parts["complaint_categories"])
    cat_w = np.full((len(divisions), len(categories)), 0.05)
    for j, s in enumerate(division_section):
        for cat, w in P.COMPLAINT_AFFINITY[s].items():
            cat_w[j, categories.index(cat)] += w
    channels = tuple(P.COMPLAINT_CHANNEL_WEIGHTS)
    channel_cum = _cumulative(np.array([P.COMPLAINT_CHANNEL_WEIGHTS[c] for c in channels])[None, :])[0]

    market = np.array([branch[city_pos["SZ-SCJG"], r] if branch[city_pos["SZ-SCJG"], r] >= 0
                       else dept_index["SZ-SCJG"] for r in range(len(regions))])
    return _Tables(
        regions=regions, region_p=region_p,
        region_risk=np.array([P.REGION_RISK[r] for r in regions]),
        divisions=tuple(divisions), division_section=division_section, division_risk=division_risk,
        complaint_factor=complaint_factor,
        ent_words=tuple(ent_words), ent_word_division=np.array(ent_div), ent_word_p=ent_word_p,
        shop_words=shop_words, shop_division=np.array([div_index[P.INDIVIDUAL_DIVISIONS[w]] for w in shop_words]),
        coop_words=coop_words, coop_division=np.array([div_index[P.COOPERATIVE_DIVISIONS[w]] for w in coop_words]),
        brand=tuple(parts["brand_syllables"]),
        prefixes=tuple(tuple(parts["prefixes"][r]) for r in regions),
        district_names=tuple(parts["district_names"].get(r, "苏州市") for r in regions),
        departments=departments, city_departments=city, branch=branch, dept_cum=dept_cum,
        items=items, item_sorted=item_sorted, item_offset=item_offset, item_count=item_count,
        item_cum=_cumulative(item_w), item_fit=item_fit,
        dept_source=tuple(dept_source), complaint_cat=categories, complaint_cat_cum=_cumulative(cat_w),
        channels=channels, channel_cum=channel_cum, market_dept=market,
    )


# --- columns --------------------------------------------------------------------------------------------------

@dataclass
class EntityColumns:
    uscc: list[str]
    name: list[str]
    entity_type: np.ndarray  # index into profiles.ENTITY_TYPES
    division: np.ndarray  # index into the division table
    region: np.ndarray  # index into the region table
    capital: np.ndarray  # 万元
    founded_day: np.ndarray  # day number (0 = first day of the window; negative = before it)
    status: np.ndarray  # index into profiles.STATUSES
    closed_day: np.ndarray  # deregistration / revocation day (a large number while active)

    def __len__(self) -> int:
        return len(self.uscc)


@dataclass
class ActionColumns:
    entity: np.ndarray  # local entity index in the chunk
    kind: np.ndarray  # index into ITEM_KINDS
    started_day: np.ndarray
    decided_day: np.ndarray  # NO_DAY when not decided yet
    result: np.ndarray  # index into INSPECTION_RESULTS, -1 for other kinds
    amount: np.ndarray  # 元, 0 unless a penalty
    department: np.ndarray  # index into departments
    item: np.ndarray  # index into items
    officers: np.ndarray  # (n, 2) officer numbers within the department's pool
    doc_seq: np.ndarray  # document sequence number within (department, kind, year)
    trigger: np.ndarray  # index into ACTION_TRIGGERS for inspections, -1 for other kinds

    def __len__(self) -> int:
        return len(self.entity)


@dataclass
class ComplaintColumns:
    entity: np.ndarray
    received_day: np.ndarray
    responded_day: np.ndarray  # NO_DAY when still open
    channel: np.ndarray
    category: np.ndarray
    outcome: np.ndarray

    def __len__(self) -> int:
        return len(self.entity)


@dataclass
class CreditColumns:
    entity: np.ndarray
    kind: np.ndarray  # index into CREDIT_KINDS
    listed_day: np.ndarray
    removed_day: np.ndarray  # NO_DAY while listed
    department: np.ndarray  # the listing authority
    reason: np.ndarray

    def __len__(self) -> int:
        return len(self.entity)


# --- the city ------------------------------------------------------------------------------------------------

def _concat(parts: list[np.ndarray], dtype=np.int64) -> np.ndarray:
    return np.concatenate(parts).astype(dtype) if parts else np.zeros(0, dtype=dtype)


class DemoCity:
    """A reproducible city of ``entities`` entities whose history ends on ``end_date``."""

    def __init__(self, *, entities: int, seed: int, end_date: date) -> None:
        if entities < 1:
            raise ValueError("entities must be at least 1")
        self.entities = entities
        self.seed = seed
        self.end_date = end_date
        self.tables = _tables()
        self._first_day = end_date - timedelta(days=WINDOW_DAYS - 1)
        # USCC bodies: a seed-dependent offset so two seeds give two different cities
        self._uscc_offset = int(np.random.default_rng([seed, 7]).integers(0, 31**9 - 10**8))
        self._officers = self._officer_pools()
        years = range(self._first_day.year, end_date.year + 1)
        self._year0 = self._first_day.year
        self._doc_counters = np.zeros((len(self.tables.departments), len(ITEM_KINDS), len(years)), dtype=np.int64)
        # day numbers of the first day of each year and each July 1 inside the window (annual-report listings)
        self._year_start = np.array([(date(y, 1, 1) - self._first_day).days for y in years])
        self._july = np.array([(date(y, 7, 1) - self._first_day).days for y in years])
        self._july = self._july[(self._july >= 0) & (self._july < WINDOW_DAYS - 5)]

    @property
    def chunk_count(self) -> int:
        return -(-self.entities // CHUNK_SIZE)

    # static vocabulary, shaped as ingestion records
    def departments(self) -> list[dict]:
        return [dict(d) for d in self.tables.departments]

    def item_records(self) -> list[dict]:
        return [dict(i) for i in self.tables.items]

    def day_to_date(self, day: int) -> date:
        return self._first_day + timedelta(days=int(day))

    def dates(self, days: np.ndarray) -> list[date | None]:
        """Day numbers to dates (``None`` for ``NO_DAY``), vectorised through numpy datetime64."""
        missing = days == NO_DAY
        values = (np.datetime64(self._first_day, "D") + np.where(missing, 0, days).astype("timedelta64[D]")).tolist()
        if missing.any():
            return [None if m else v for v, m in zip(values, missing.tolist(), strict=True)]
        return values

    def _officer_pools(self) -> list[list[str]]:
        parts = load_name_parts()
        rng = np.random.default_rng([self.seed, 11])
        surnames, given = parts["officer_surnames"], parts["officer_given"]
        pools = []
        for d in self.tables.departments:
            size = 40 if d["code"] == "SZ-SCJG" else (24 if d["level"] == "district" else 12)
            names: dict[str, None] = {}  # distinct names: two officers of one action are two people
            while len(names) < size:
                s = rng.integers(0, len(surnames), size)
                g = rng.integers(0, len(given), size)
                names.update((surnames[a] + given[b], None) for a, b in zip(s, g, strict=True))
            pools.append(list(names)[:size])
        return pools

    def chunks(self) -> Iterator[DemoChunk]:
        """The city chunk by chunk, in order (document numbers run on across chunks)."""
        for index in range(self.chunk_count):
            start = index * CHUNK_SIZE
            yield self._chunk(index, start, min(CHUNK_SIZE, self.entities - start))

    # -- one chunk --
    def _chunk(self, index: int, start: int, n: int) -> DemoChunk:
        t = self.tables
        rng = np.random.default_rng([self.seed, index])
        ent, z = self._entities(rng, start, n)
        # the hidden risk drifts month by month: AR(1) around the entity's own level
        rho, spread = 0.92, 0.45
        drift = np.empty((n, PERIODS))
        drift[:, 0] = rng.normal(0, spread, n)
        shocks = rng.normal(0, spread * np.sqrt(1 - rho**2), (n, PERIODS))
        for p in range(1, PERIODS):
            drift[:, p] = rho * drift[:, p - 1] + shocks[:, p]
        risk = z[:, None] + drift  # (n, periods)
        mid = (_PERIOD_START[:-1] + _PERIOD_START[1:]) // 2
        alive = (ent.founded_day[:, None] <= mid[None, :]) & (ent.closed_day[:, None] > mid[None, :])

        complaints = self._complaints(rng, ent, risk, alive)
        actions = self._actions(rng, ent, risk, alive, complaints)
        credit = self._credit(rng, ent, risk, alive)
        return DemoChunk(city=self, index=index, start=start, entities=ent, actions=actions,
                         complaints=complaints, credit=credit, tables=t)

    def _entities(self, rng: np.random.Generator, start: int, n: int) -> tuple[EntityColumns, np.ndarray]:
        t = self.tables
        etype = rng.choice(3, n, p=P.ENTITY_TYPE_WEIGHTS)
        region = rng.choice(len(t.regions), n, p=t.region_p)
        word = rng.choice(len(t.ent_words), n, p=t.ent_word_p)
        shop = rng.integers(0, len(t.shop_words), n)
        coop = rng.integers(0, len(t.coop_words), n)
        division = np.where(etype == _ENTERPRISE, t.ent_word_division[word],
                            np.where(etype == _INDIVIDUAL, t.shop_division[shop], t.coop_division[coop]))
        joint_stock = (etype == _ENTERPRISE) & (rng.random(n) < 0.04)

        log_cap = np.where(etype == _ENTERPRISE, rng.normal(np.log(150), 1.3, n),
                           np.where(etype == _INDIVIDUAL, rng.normal(np.log(5), 0.9, n),
                                    rng.normal(np.log(100), 0.8, n)))
        log_cap += np.where(joint_stock, np.log(20), 0)
        raw = np.exp(log_cap)
        capital = np.where(raw >= 100, np.round(raw, -1), np.where(raw >= 10, np.round(raw), np.round(raw, 1)))
        capital = np.maximum(capital, 0.1)

        age_years = np.where(etype == _ENTERPRISE, rng.exponential(8.0, n),
                             np.where(etype == _INDIVIDUAL, rng.exponential(5.0, n), rng.uniform(5, 17, n)))
        # at least a day old: today's registrations reach the entity base only tonight
        age_days = np.clip(age_years * 365.25, 1, 30 * 365.25).astype(np.int64)
        founded_day = (WINDOW_DAYS - 1) - age_days

        z = (t.division_risk[division] + t.region_risk[region]
             + np.where(etype == _INDIVIDUAL, 0.25, 0.0)
             + 0.5 * np.exp(-age_years / 3.0)
             - 0.12 * (np.log10(capital) - 2.0)
             + rng.normal(0, 1.0, n))
        # deregistered entities are a random few; revoked licences go to the riskiest
        tilt = np.exp(0.9 * (z - z.mean()))
        revoked = rng.random(n) < 0.02 * tilt / tilt.mean()
        cancelled = ~revoked & (rng.random(n) < 0.04)
        status = np.where(revoked, 2, np.where(cancelled, 1, 0))
        earliest = np.maximum(founded_day + 90, -3 * 365)
        closed = earliest + (rng.random(n) * np.maximum(WINDOW_DAYS - earliest, 1)).astype(np.int64)
        closed_day = np.where(status > 0, np.minimum(closed, WINDOW_DAYS - 1), 10**6)

        n_numbers = self._uscc_offset + start + np.arange(n)
        category = ("1", "2", "3")
        uscc = [make_uscc_from_int(t.regions[r], int(k), "9", category[e])
                for r, k, e in zip(region.tolist(), n_numbers.tolist(), etype.tolist(), strict=True)]

        b1 = rng.integers(0, len(t.brand), n)
        b2 = rng.integers(0, len(t.brand), n)
        pre = rng.random(n)
        suffix_u = rng.random(n)
        names = []
        parts = load_name_parts()["suffixes"]
        for i in range(n):
            r, e = region[i], etype[i]
            brand = t.brand[b1[i]] + t.brand[b2[i]]
            if e == _INDIVIDUAL:
                names.append(t.district_names[r] + brand + t.shop_words[shop[i]])
                continue
            prefixes = t.prefixes[r]
            prefix = prefixes[int(pre[i] * len(prefixes))]
            if e == _COOPERATIVE:
                suffix = parts["cooperative"][int(suffix_u[i] * 2)]
                names.append(prefix + brand + t.coop_words[coop[i]] + suffix)
            else:
                suffix = "股份有限公司" if joint_stock[i] else ("有限公司" if suffix_u[i] < 0.85 else "有限责任公司")
                names.append(prefix + brand + t.ent_words[word[i]] + suffix)
        ent = EntityColumns(uscc=uscc, name=names, entity_type=etype, division=division, region=region,
                            capital=capital, founded_day=founded_day, status=status, closed_day=closed_day)
        return ent, z

    @staticmethod
    def _events(rng: np.random.Generator, rate: np.ndarray, alive: np.ndarray,
                ent: EntityColumns) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Poisson events per entity and month: (entity, day, period), days inside the entity's life."""
        counts = rng.poisson(rate * alive)
        entity_idx, period = np.nonzero(counts)
        reps = counts[entity_idx, period]
        entity_idx, period = np.repeat(entity_idx, reps), np.repeat(period, reps)
        lo, hi = _PERIOD_START[period], _PERIOD_START[period + 1]
        day = lo + (rng.random(len(period)) * (hi - lo)).astype(np.int64)
        day = np.clip(day, np.maximum(ent.founded_day[entity_idx], 0),
                      np.minimum(ent.closed_day[entity_idx], WINDOW_DAYS - 1))
        return entity_idx, day, period

    def _complaints(self, rng, ent: EntityColumns, risk: np.ndarray, alive: np.ndarray) -> ComplaintColumns:
        t = self.tables
        factor = t.complaint_factor[ent.division] * np.where(ent.entity_type == _INDIVIDUAL, 0.6, 1.0)
        rate = 0.008 * factor[:, None] * np.exp(0.9 * risk)
        e, day, _ = self._events(rng, rate, alive, ent)
        category = _pick(t.complaint_cat_cum[ent.division[e]], rng.random(len(e)))
        channel = _pick(np.broadcast_to(t.channel_cum, (len(e), len(t.channel_cum))), rng.random(len(e)))
        responded = day + 1 + rng.geometric(0.25, len(e))
        responded = np.where(responded > WINDOW_DAYS - 1, NO_DAY, responded)
        outcome = rng.integers(0, len(P.COMPLAINT_OUTCOMES), len(e))
        order = np.lexsort((day, e))
        return ComplaintColumns(entity=e[order], received_day=day[order], responded_day=responded[order],
                                channel=channel[order], category=category[order], outcome=outcome[order])

    def _actions(self, rng, ent: EntityColumns, risk: np.ndarray, alive: np.ndarray,
                 complaints: ComplaintColumns) -> ActionColumns:
        t = self.tables
        n = len(ent)

        def period_of(day: np.ndarray) -> np.ndarray:
            return np.clip(np.searchsorted(_PERIOD_START, day, side="right") - 1, 0, PERIODS - 1)

        # routine inspections: more for the risky, but attention is only partly aligned with risk
        attention = rng.normal(0, 0.6, n)
        type_factor = np.array([1.0, 0.55, 0.8])[ent.entity_type]
        rate = 0.032 * type_factor[:, None] * np.exp(0.55 * risk + attention[:, None] - 0.18)
        routine_e, routine_day, _ = self._events(rng, rate, alive, ent)
        # complaints trigger inspections a few days later
        follow = rng.random(len(complaints)) < 0.3
        reactive_e = complaints.entity[follow]
        reactive_day = np.minimum(complaints.received_day[follow] + rng.integers(2, 21, len(reactive_e)),
                                  ent.closed_day[reactive_e])
        ie, iday = np.r_[routine_e, reactive_e], np.r_[routine_day, reactive_day]
        # how each inspection came about: planned ones mostly by 双随机 draw, the rest routine patrols, special
        # campaigns and clues (warnings, referrals); those after a complaint are complaint-triggered
        planned = _pick(_TRIGGER_CUM, rng.random(len(routine_e)))
        itrigger = np.r_[planned, np.full(len(reactive_e), _TRIGGER["complaint"])]
        keep = iday <= WINDOW_DAYS - 1
        ie, iday, itrigger = ie[keep], iday[keep], itrigger[keep]
        p_fail = _sigmoid(-3.7 + 1.5 * risk[ie, period_of(iday)])
        u = rng.random(len(ie))
        result = np.where(u < p_fail, 1, np.where(u < p_fail + 0.12 * (1 - p_fail), 2, 0))

        parts_e, parts_k, parts_s = [ie], [np.zeros(len(ie), dtype=np.int64)], [iday]

        def add(e: np.ndarray, kind: int, day: np.ndarray) -> None:
            keep = day <= WINDOW_DAYS - 1
            parts_e.append(e[keep])
            parts_k.append(np.full(int(keep.sum()), kind))
            parts_s.append(day[keep])

        # penalties follow failed (and some rectified) inspections, or come from cases of their own
        u = rng.random(len(ie))
        after = ((result == 1) & (u < 0.45)) | ((result == 2) & (u < 0.08))
        add(ie[after], _KIND["penalty"], iday[after] + rng.integers(15, 91, int(after.sum())))
        e, day, _ = self._events(rng, 0.0015 * np.exp(1.3 * risk), alive, ent)
        add(e, _KIND["penalty"], day)
        # coercive measures: after some failed inspections, rarely on their own
        coerce = (result == 1) & (rng.random(len(ie)) < 0.07)
        add(ie[coerce], _KIND["coercion"], iday[coerce] + rng.integers(0, 6, int(coerce.sum())))
        e, day, _ = self._events(rng, 0.0003 * np.exp(1.2 * risk), alive, ent)
        add(e, _KIND["coercion"], day)
        # other acts (约谈, 告知): weakly related to risk
        e, day, _ = self._events(rng, 0.002 * np.exp(0.3 * risk), alive, ent)
        add(e, _KIND["other"], day)

        e, kind, day = _concat(parts_e), _concat(parts_k), _concat(parts_s)
        full_result = np.full(len(e), -1, dtype=np.int64)
        full_result[: len(ie)] = result
        trigger = np.full(len(e), -1, dtype=np.int64)
        trigger[: len(ie)] = itrigger
        m = len(e)
        # decision / closing day: the penalty's day is its decision; the case opened weeks before
        lag = np.select([kind == 0, kind == 1, kind == 2], [rng.integers(0, 4, m), rng.integers(15, 75, m),
                                                            rng.integers(10, 31, m)], rng.integers(0, 8, m))
        started = np.maximum(np.where(kind == 1, day - lag, day), ent.founded_day[e])
        decided = np.where(kind == 1, day, day + lag)
        decided = np.where(decided > WINDOW_DAYS - 1, NO_DAY, decided)

        amount = np.zeros(m)
        pen = kind == 1
        if pen.any():
            pe = e[pen]
            sole_trader = ent.entity_type[pe] == _INDIVIDUAL
            size = 0.25 * (np.log10(ent.capital[pe]) - 2)
            base = np.log(np.where(sole_trader, 3000.0, 20000.0)) + np.where(sole_trader, 0.0, size)
            fined = np.exp(base + 0.3 * risk[pe, period_of(day[pen])] + rng.normal(0, 0.9, len(pe)))
            amount[pen] = np.clip(np.round(fined, -2), 200, 5_000_000)

        # department: by trade and kind; district branches act in their own region
        pos = _pick(t.dept_cum[kind, ent.division[e]], rng.random(m))
        city = np.array(t.city_departments)[pos]
        branch = t.branch[pos, ent.region[e]]
        department = np.where((branch >= 0) & (rng.random(m) < 0.8), branch, city)
        slot = np.minimum(_pick(t.item_cum[pos, kind, ent.division[e]], rng.random(m)), t.item_count[pos, kind] - 1)
        item = t.item_sorted[t.item_offset[pos, kind] + slot]
        fits = t.item_fit[item, ent.division[e]]
        if not fits.all():  # an act no department has a fitting item for is not generated
            e, kind, started, decided, full_result, amount, department, item, trigger = (
                x[fits] for x in (e, kind, started, decided, full_result, amount, department, item, trigger))
            m = len(e)
        pool = np.array([len(p) for p in self._officers])[department]
        o1 = (rng.random(m) * pool).astype(np.int64)
        o2 = (o1 + 1 + (rng.random(m) * (pool - 1)).astype(np.int64)) % pool

        order = np.lexsort((started, e))
        cols = ActionColumns(entity=e[order], kind=kind[order], started_day=started[order],
                             decided_day=decided[order], result=full_result[order], amount=amount[order],
                             department=department[order], item=item[order],
                             officers=np.stack([o1, o2], axis=1)[order], doc_seq=np.zeros(m, dtype=np.int64),
                             trigger=trigger[order])
        self._number_documents(cols)
        return cols

    def _number_documents(self, a: ActionColumns) -> None:
        """Sequence numbers per (department, kind, year), in date order, continuing across chunks."""
        day = np.where(a.decided_day != NO_DAY, a.decided_day, a.started_day)
        year = np.clip(np.searchsorted(self._year_start, day, side="right") - 1, 0, len(self._year_start) - 1)
        order = np.lexsort((day, year, a.kind, a.department))
        key = (a.department[order] * len(ITEM_KINDS) + a.kind[order]) * len(self._year_start) + year[order]
        first = np.r_[True, key[1:] != key[:-1]]
        group_start = np.maximum.accumulate(np.where(first, np.arange(len(key)), 0))
        rank = np.arange(len(key)) - group_start + 1
        base = self._doc_counters[a.department[order], a.kind[order], year[order]]
        seq = np.empty_like(rank)
        seq[order] = base + rank
        a.doc_seq = seq
        np.add.at(self._doc_counters, (a.department, a.kind, year), 1)

    def _credit(self, rng, ent: EntityColumns, risk: np.ndarray, alive: np.ndarray) -> CreditColumns:
        t = self.tables
        n = len(ent)
        parts: list[tuple[np.ndarray, int, np.ndarray, np.ndarray]] = []
        young = np.exp(-np.maximum((WINDOW_DAYS - ent.founded_day) / 365.25, 0) / 3.0)
        for july in self._july:
            period = min(int(np.searchsorted(_PERIOD_START, july, side="right") - 1), PERIODS - 1)
            eligible = alive[:, period] & (ent.founded_day < july - 182)
            # no annual report filed: listed in early July
            p = _sigmoid(-4.2 + 0.9 * risk[:, period] + 0.6 * (ent.entity_type == _INDIVIDUAL) + 0.5 * young)
            hit = eligible & (rng.random(n) < p)
            day = july + rng.integers(0, 10, n)
            parts.append((np.nonzero(hit)[0], 0, day[hit], np.zeros(int(hit.sum()), dtype=np.int64)))
        # unreachable at the registered address: any time
        e, day, _ = self._events(rng, 0.0006 * np.exp(0.8 * risk), alive, ent)
        parts.append((e, 0, day, np.ones(len(e), dtype=np.int64)))
        # serious violations and commendations, about once a year each at most
        e, day, _ = self._events(rng, 0.00008 * np.exp(1.5 * risk), alive, ent)
        parts.append((e, 1, day, rng.integers(0, 3, len(e))))
        size = 0.5 * (np.log10(ent.capital) - 2)
        good = (ent.entity_type == _ENTERPRISE)[:, None] * np.exp(-0.9 * risk + size[:, None])
        e, day, _ = self._events(rng, 0.0012 * good, alive, ent)
        parts.append((e, 2, day, rng.integers(0, 3, len(e))))

        e = _concat([p[0] for p in parts])
        kind = _concat([np.full(len(p[0]), p[1]) for p in parts])
        listed = _concat([p[2] for p in parts])
        reason = _concat([p[3] for p in parts])
        keep = listed <= WINDOW_DAYS - 1
        e, kind, listed, reason = e[keep], kind[keep], listed[keep], reason[keep]
        m = len(e)
        removed = listed + rng.integers(30, 400, m)
        removed = np.where((kind == 0) & (rng.random(m) < 0.6) & (removed <= WINDOW_DAYS - 1), removed, NO_DAY)
        authority = t.market_dept[ent.region[e]]
        order = np.lexsort((listed, e))
        return CreditColumns(entity=e[order], kind=kind[order], listed_day=listed[order],
                             removed_day=removed[order], department=authority[order], reason=reason[order])


@dataclass
class DemoChunk:
    """One chunk of the city; ``*_records`` build the ingestion records lazily."""

    city: DemoCity
    index: int
    start: int
    entities: EntityColumns
    actions: ActionColumns
    complaints: ComplaintColumns
    credit: CreditColumns
    tables: _Tables

    def entity_records(self) -> Iterator[dict]:
        e, city = self.entities, self.city
        founded = city.dates(e.founded_day)
        changed = city.dates(np.where(e.status > 0, e.closed_day, NO_DAY))
        types, statuses = P.ENTITY_TYPES, P.STATUSES
        divisions, regions = self.tables.divisions, self.tables.regions
        for i in range(len(e)):
            yield {
                "uscc": e.uscc[i], "name": e.name[i], "entity_type": types[e.entity_type[i]],
                "industry_code": divisions[e.division[i]], "region_code": regions[e.region[i]],
                "registered_capital": float(e.capital[i]), "founded_on": founded[i],
                "status": statuses[e.status[i]], "status_changed_on": changed[i],
            }

    def action_records(self, source: str | None = None) -> Iterator[dict]:
        """Actions (optionally only those arriving through ``source``), with their external ids."""
        a, t, city = self.actions, self.tables, self.city
        idx = np.arange(len(a))
        if source is not None:
            src = np.array([s == source for s in t.dept_source])
            idx = idx[src[a.department]]
        started = city.dates(a.started_day[idx])
        decided = city.dates(a.decided_day[idx])
        depts, items, officers = t.departments, t.items, city._officers
        kinds = ITEM_KINDS
        for j, i in enumerate(idx.tolist()):
            d = int(a.department[i])
            k = int(a.kind[i])
            dec = decided[j]
            year = (dec or started[j]).year  # type: ignore[union-attr]
            pool = officers[d]
            o1, o2 = a.officers[i]
            yield {
                "external_id": f"A{self.index:03d}{i:08d}",
                "kind": kinds[k],
                "item_code": items[a.item[i]]["code"],
                "department_code": depts[d]["code"],
                "uscc": self.entities.uscc[a.entity[i]],
                "started_on": started[j],
                "decided_on": dec,
                "result": INSPECTION_RESULTS[a.result[i]] if k == 0 else None,
                "penalty_amount": float(a.amount[i]) if k == 1 else None,
                "document_number": (f"{P.DEPARTMENT_ABBREVIATIONS[depts[d]['code']]}"
                                    f"{P.KIND_DOCUMENT_CHARS[kinds[k]]}〔{year}〕{a.doc_seq[i]}号"),
                "officers": f"{pool[o1]}、{pool[o2]}",
                "trigger": ACTION_TRIGGERS[a.trigger[i]] if a.trigger[i] >= 0 else None,
            }

    def complaint_records(self) -> Iterator[dict]:
        c, t, city = self.complaints, self.tables, self.city
        received, responded = city.dates(c.received_day), city.dates(c.responded_day)
        for i in range(len(c)):
            yield {
                "external_id": f"C{self.index:03d}{i:08d}",
                "uscc": self.entities.uscc[c.entity[i]],
                "received_on": received[i],
                "channel": t.channels[c.channel[i]],
                "category": t.complaint_cat[c.category[i]],
                "responded_on": responded[i],
                "outcome": P.COMPLAINT_OUTCOMES[c.outcome[i]] if responded[i] is not None else None,
            }

    def credit_records(self) -> Iterator[dict]:
        c, t, city = self.credit, self.tables, self.city
        listed, removed = city.dates(c.listed_day), city.dates(c.removed_day)
        for i in range(len(c)):
            kind = CREDIT_KINDS[c.kind[i]]
            yield {
                "external_id": f"R{self.index:03d}{i:08d}",
                "uscc": self.entities.uscc[c.entity[i]],
                "kind": kind,
                "listed_on": listed[i],
                "removed_on": removed[i],
                "authority": t.departments[c.department[i]]["name"],
                "reason": P.CREDIT_REASONS[kind][c.reason[i]],
            }
