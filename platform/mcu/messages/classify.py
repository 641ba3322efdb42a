"""Topic classification and threat-to-life detection of a message's text, explained.

Pure: text and lexicons in, a decision with its reasons out. The lexicons are those of
rules/topics.yaml (topics and `threat_to_life`) and of the district's blocks; see the header of
rules/topics.yaml for how they are written (pymorphy3 lemmas, phrases as lemma sequences).

Scoring (what `Classifier.classify` does)
-----------------------------------------
1. The text is cut into words (letters only, hyphenated words kept whole) and each word is
   lemmatised. Street names after an abbreviation («ул. Школьная», «пер. Почтовый») and the
   district's multi-word settlement names («Сельское поселение Выкатной») are dropped first:
   they say where, not what, and would otherwise hit lexicons (школьный, почтовый, сельский
   поселение).
2. A block's lexicon is its own lexicon plus its topic's, unless `inherit_topic: false`; on a
   term both list with opposite signs the block's own lexicon wins.
3. Each distinct term found counts once: a lemma weighs 1, a phrase (a run of adjacent lemmas)
   weighs 2, a negative term subtracts its weight. A block's score is the sum.
4. The block with the highest score wins; on a tie, a block whose own lexicon matched beats one
   that only matched its topic's, then the earlier block in the district's list wins.
5. confidence = best / (best + second + 1), where `second` is the best score of a rival block.
   A block whose matched terms all appear among the winner's (typically a second block on the
   same topic inheriting the same lexicon) brings no evidence of its own and is no rival.
   One phrase alone gives 2/3 ≈ 0.67, one lemma alone 0.5, five points unopposed ≈ 0.83,
   nine ≈ 0.9; a rival with as much evidence keeps it below 0.5.
6. Below the district's threshold (settings.classification_threshold), or with no positive
   score at all, the message goes to triage; `block_id` then is only a suggestion.

Threat to life (`detect_threat`) is separate and deliberately high-recall: any lemma or phrase
of any hazard flags the message, whatever its topic.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from functools import cache, lru_cache
from typing import Any

import pymorphy3

from mcu.tenancy.config import TenantConfig

Term = tuple[str, ...]

LEMMA_WEIGHT = 1
PHRASE_WEIGHT = 2

# Hyphenated words stay whole («wi-fi», «из-под», «дети-сироты»); their parts are matched as
# well (see _slot), so «муж-колясочник» still finds колясочник.
_WORD = re.compile(r"[a-zа-яё]+(?:-[a-zа-яё]+)*")
# An abbreviated street type and the name after it; a full word («улица») only before a
# capitalised name, so «на улице холодно» keeps its words. Only the type ignores case.
_STREET = re.compile(
    r"\b(?i:ул|пер|мкр|просп|пр-т|пл|б-р|бул|наб|туп|ш)\.\s*[А-ЯЁA-Z0-9][\w-]*"
    r"|\b(?i:улиц[аеуыи]|улицей|переул(?:ок|ка|ке|ку)|микрорайон[аеу]?|проспект[аеу]?)\s+[А-ЯЁ][\w-]*"
)
# The no_heating_frost hazard's frost is an outside condition (rules/topics.yaml); when the
# caller knows it is not freezing, the text itself has to say so for the hazard to count.
FROST_HAZARD = "no_heating_frost"
FROST_WORDS = frozenset({"мороз", "морозный", "морозно", "минус"})


@cache
def _analyzer() -> pymorphy3.MorphAnalyzer:
    # Built on first use: loading the dictionaries takes a fraction of a second and memory
    # that processes which never classify should not pay.
    return pymorphy3.MorphAnalyzer()


@lru_cache(maxsize=200_000)
def _lemma(word: str) -> str:
    return _analyzer().parse(word)[0].normal_form


@lru_cache(maxsize=200_000)
def _slot(word: str) -> tuple[str, ...]:
    """The lemmas a word can match: itself, and for a hyphenated word also its parts."""
    whole = _lemma(word)
    if "-" not in word:
        return (whole,)
    return tuple(dict.fromkeys([whole, *(_lemma(part) for part in word.split("-") if part)]))


def lemmas(text: str) -> list[str]:
    """The lemmas of the words of `text`, in order; digits and punctuation dropped."""
    return [_lemma(word) for word in _WORD.findall(text.lower())]


def _slots(text: str) -> list[tuple[str, ...]]:
    return [_slot(word) for word in _WORD.findall(text.lower())]


def _term(entry: str) -> Term:
    # Lexicon entries are lemmatised like the text, so an admin may write «аварийная ситуация»
    # and it matches; entries already written as lemmas come back unchanged.
    return tuple(_lemma(word) for word in entry.lower().split())


def _weight(term: Term) -> int:
    return LEMMA_WEIGHT if len(term) == 1 else PHRASE_WEIGHT


def _number(value: float) -> str:
    return f"{value:.2f}".replace(".", ",")


class _Matcher:
    """Finds which of a fixed set of terms occur in a list of slots, with first positions."""

    def __init__(self, terms: Iterable[Term]) -> None:
        self._by_first: dict[str, list[Term]] = {}
        for term in set(terms):
            if term:
                self._by_first.setdefault(term[0], []).append(term)

    def find(self, slots: list[tuple[str, ...]]) -> dict[Term, int]:
        found: dict[Term, int] = {}
        for i, slot in enumerate(slots):
            for lemma in slot:
                for term in self._by_first.get(lemma, ()):
                    if term not in found and self._at(term, slots, i):
                        found[term] = i
        return found

    @staticmethod
    def _at(term: Term, slots: list[tuple[str, ...]], i: int) -> bool:
        if i + len(term) > len(slots):
            return False
        return all(word in slots[i + k] for k, word in enumerate(term))


@dataclass(frozen=True)
class _Block:
    id: str
    name: str
    topic: str | None
    positive: frozenset[Term]
    negative: frozenset[Term]
    own: frozenset[Term]  # positive terms from the block's own lexicon (for the tie-break)


def _effective_block(block: Mapping[str, Any], topics: Mapping[str, Any]) -> _Block:
    own = block.get("lexicon") or {}
    own_pos = {_term(e) for key in ("lemmas", "phrases") for e in own.get(key) or []}
    own_neg = {_term(e) for e in own.get("negative") or []}
    pos, neg = set(own_pos), set(own_neg)
    if own.get("inherit_topic", True):
        shared = (topics.get(block.get("topic")) or {}).get("lexicon") or {}
        pos |= {_term(e) for key in ("lemmas", "phrases") for e in shared.get(key) or []} - own_neg
        neg |= {_term(e) for e in shared.get("negative") or []} - own_pos
    return _Block(
        id=block["id"],
        name=block.get("name", block["id"]),
        topic=block.get("topic"),
        positive=frozenset(pos - neg),
        negative=frozenset(neg),
        own=frozenset(own_pos - own_neg),
    )


@dataclass(frozen=True)
class Classification:
    block_id: str | None
    topic: str | None
    confidence: float
    matched: dict[str, list[str]]
    triage: bool
    explanation: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class _Score:
    block: _Block
    order: int
    hits: dict[Term, int]  # positive term → first position in the text
    against: dict[Term, int]

    @property
    def points(self) -> int:
        return sum(map(_weight, self.hits)) - sum(map(_weight, self.against))

    @property
    def own_matched(self) -> bool:
        return bool(self.block.own & self.hits.keys())

    def rank(self) -> tuple[int, bool, int]:
        return (self.points, self.own_matched, -self.order)

    def shown(self, terms: dict[Term, int]) -> list[str]:
        return [" ".join(t) for t in sorted(terms, key=lambda t: (terms[t], -len(t)))]


class Classifier:
    """A district's blocks with their effective lexicons, ready to classify texts."""

    def __init__(
        self,
        blocks: list[Mapping[str, Any]],
        topics: Mapping[str, Any],
        threshold: float,
        *,
        place_names: Iterable[str] = (),
    ) -> None:
        self.threshold = threshold
        self._blocks = [_effective_block(b, topics) for b in blocks]
        self._matcher = _Matcher(t for b in self._blocks for t in b.positive | b.negative)
        # Single-word place names are left alone: «Почтовый», «Новое» are ordinary words too.
        places = {tuple(lemmas(name)) for name in place_names}
        self._places = _Matcher(p for p in places if len(p) > 1)

    def _text_slots(self, text: str) -> list[tuple[str, ...]]:
        slots = _slots(_STREET.sub(" ", text))
        for term, start in self._places.find(slots).items():
            # An empty slot matches nothing, so no phrase runs across a dropped name.
            slots[start : start + len(term)] = [()] * len(term)
        return slots

    def classify(self, text: str) -> Classification:
        found = self._matcher.find(self._text_slots(text))
        scores = [
            _Score(
                block=b,
                order=i,
                hits={t: found[t] for t in b.positive if t in found},
                against={t: found[t] for t in b.negative if t in found},
            )
            for i, b in enumerate(self._blocks)
        ]
        matched = {s.block.id: s.shown(s.hits) for s in scores if s.hits}
        ranked = sorted(scores, key=_Score.rank, reverse=True)
        if not ranked or ranked[0].points <= 0:
            return Classification(
                block_id=None,
                topic=None,
                confidence=0.0,
                matched=matched,
                triage=True,
                explanation="Блок не определён: в тексте нет слов из словарей блоков района; "
                "сообщение — на ручную сортировку",
            )
        best = ranked[0]
        rivals = [s for s in ranked[1:] if s.hits and not s.hits.keys() <= best.hits.keys()]
        second = max((s.points for s in rivals), default=0)
        confidence = round(best.points / (best.points + max(second, 0) + 1), 3)
        triage = confidence < self.threshold
        return Classification(
            block_id=best.block.id,
            topic=best.block.topic,
            confidence=confidence,
            matched=matched,
            triage=triage,
            explanation=self._explain(best, rivals[0] if rivals else None, confidence, triage),
        )

    def _explain(self, best: _Score, rival: _Score | None, confidence: float, triage: bool) -> str:
        parts = [f"Блок «{best.block.name}»: совпали " + ", ".join(f"«{t}»" for t in best.shown(best.hits))]
        if best.against:
            parts.append("против — " + ", ".join(f"«{t}»" for t in best.shown(best.against)))
        if rival is not None:
            parts.append(f"следующий — блок «{rival.block.name}» ({rival.points} против {best.points})")
        parts.append(f"уверенность {_number(confidence)}")
        if triage:
            parts.append(f"ниже порога {_number(self.threshold)} — на ручную сортировку")
        return "; ".join(parts)


@dataclass(frozen=True)
class _ClassifierKey:
    """Cache key: the version hash (it covers the blocks and the library topics they use) and
    the threshold default; the config and topics ride along without taking part in the key."""

    version_hash: str
    threshold_default: float
    config: TenantConfig = field(compare=False, repr=False)
    topics: Mapping[str, Any] = field(compare=False, repr=False)


@lru_cache(maxsize=64)
def _build(key: _ClassifierKey) -> Classifier:
    config = key.config
    settings = config.data.get("settings") or {}
    names = [
        name
        for s in config.data.get("settlements") or []
        for name in [s.get("name", ""), *(s.get("aliases") or [])]
    ]
    return Classifier(
        list(config.blocks.values()),
        key.topics,
        settings.get("classification_threshold", key.threshold_default),
        place_names=names,
    )


def classifier_for(
    config: TenantConfig, library_topics: Mapping[str, Any], threshold_default: float = 0.5
) -> Classifier:
    """The district's classifier, built once per configuration version."""
    return _build(_ClassifierKey(config.version_hash, threshold_default, config, library_topics))


@dataclass(frozen=True)
class ThreatAssessment:
    threat: bool
    hazards: list[dict[str, Any]]
    explanation: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# Compiled hazard lexicons by the identity of the lexicon object. The entry keeps the object
# alive, so its id cannot be reused by another dict while cached; a few entries suffice (one
# lexicon per configuration version in use).
_compiled_hazards: dict[int, tuple[Mapping[str, Any], list[tuple[dict[str, Any], _Matcher]]]] = {}


def _hazards(threat_lexicon: Mapping[str, Any]) -> list[tuple[dict[str, Any], _Matcher]]:
    entry = _compiled_hazards.get(id(threat_lexicon))
    if entry is None or entry[0] is not threat_lexicon:
        if len(_compiled_hazards) >= 16:
            _compiled_hazards.clear()
        compiled = [
            (hazard, _Matcher(_term(e) for key in ("lemmas", "phrases") for e in hazard.get(key) or []))
            for hazard in threat_lexicon.get("hazards") or []
        ]
        entry = _compiled_hazards[id(threat_lexicon)] = (threat_lexicon, compiled)
    return entry[1]


def detect_threat(
    text: str, threat_lexicon: Mapping[str, Any], *, frost: bool | None = None
) -> ThreatAssessment:
    """Flag a threat to life when any hazard's lemma or phrase occurs in the text.

    `frost` is the outside condition of the no_heating_frost hazard: None (unknown) and True
    let its terms flag as any other hazard's do; False (known mild weather) keeps them from
    flagging unless the text itself speaks of frost («мороз», «минус»).
    """
    slots = _slots(text)
    words = {lemma for slot in slots for lemma in slot}
    hazards: list[dict[str, Any]] = []
    held_back: list[str] = []
    for hazard, matcher in _hazards(threat_lexicon):
        found = matcher.find(slots)
        if not found:
            continue
        name = hazard.get("name", hazard.get("id", ""))
        if hazard.get("id") == FROST_HAZARD and frost is False and not words & FROST_WORDS:
            held_back.append(name)
            continue
        shown = [" ".join(t) for t in sorted(found, key=lambda t: (found[t], -len(t)))]
        hazards.append({"id": hazard.get("id"), "name": name, "matched": shown})
    if hazards:
        listed = "; ".join(f"{h['name']} — " + ", ".join(f"«{t}»" for t in h["matched"]) for h in hazards)
        explanation = f"Возможна угроза жизни: {listed}"
    else:
        explanation = "Признаков угрозы жизни не найдено"
    if held_back:
        explanation += f" (слова об отоплении есть, но мороза нет — «{held_back[0]}» не засчитано)"
    return ThreatAssessment(threat=bool(hazards), hazards=hazards, explanation=explanation)
