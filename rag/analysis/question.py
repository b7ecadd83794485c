"""A question analysed once, up front, into one value every later stage reads: its script, search
form, bridged Chinese terms, BM25 tokens, embeddings, the kind of answer it wants, its subject
words and the names the corpus never uses."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, replace

import numpy as np

from rag.analysis.kinds import expected_types, wants_value
from rag.analysis.subject import SubjectTerms, unknown_names, unmatched_words
from rag.crosslingual.query_map import shipped_map
from rag.crosslingual.translation import QueryTranslator
from rag.embedding.model import Embedder
from rag.index.index import Index
from rag.ingest.normalize import normalize_query
from rag.ingest.script import EN, detect_script
from rag.settings import MAX_K, MAX_QUESTION_CHARS, Settings

INVISIBLE = frozenset({"Cc", "Cf", "Cs"})  # control and format characters (NUL, zero-width spaces, direction marks), lone surrogates


class QuestionError(ValueError):
    """The question or its parameters cannot be served."""


def validate_question(text: object, k: int) -> str:
    """The one check of a question and its result count, for every interface. Returns the question
    without control and invisible format characters (NUL, zero-width spaces), stripped; one with
    no letter or digit left ("？？？", "...") has nothing to search for."""
    if not isinstance(text, str) or not text.strip():
        raise QuestionError("the question is empty: type a question")
    if len(text) > MAX_QUESTION_CHARS:
        raise QuestionError(f"the question is {len(text)} characters long: ask it in at most {MAX_QUESTION_CHARS}")
    if not isinstance(k, int) or not 1 <= k <= MAX_K:
        raise QuestionError(f"k must be a whole number from 1 to {MAX_K} (got {k!r})")
    visible = "".join(ch for ch in text if unicodedata.category(ch) not in INVISIBLE).strip()
    if not any(unicodedata.category(ch)[0] in "LN" for ch in visible):
        raise QuestionError("the question has no words to search for: ask with letters or characters, not only punctuation")
    return visible


@dataclass(frozen=True, eq=False)
class Question:
    text: str  # as asked, stripped
    script: str  # en, zh-Hans or zh-Hant: the reader's script
    form: str  # search form: NFKC, lower case, Simplified
    terms: dict[str, list[str]]  # English word or phrase -> Chinese corpus words (the bridge)
    tokens: list[str]  # BM25 tokens, bridged Chinese terms of an English question included
    vector: np.ndarray  # the question's own embedding: answer scoring and confidence
    search_vector: np.ndarray  # what dense retrieval ranks by (see blend)
    kinds: frozenset[str]  # answer kinds it asks for (rag/analysis/kinds.py)
    subject: SubjectTerms
    unknown_names: tuple[str, ...]  # names no passage contains (Chinese questions only)
    unmatched: tuple[str, ...]  # subject words that reach no corpus word (English questions only)
    unmatched_share: float
    translation: str | None = None  # an English question in Chinese, by the configured language model
    translation_tokens: tuple[str, ...] = ()
    translation_vector: np.ndarray | None = None

    @property
    def searches(self) -> list[tuple[list[str], np.ndarray]]:
        """(BM25 tokens, dense vector) per form the question is searched in: as asked, and translated."""
        forms = [(self.tokens, self.search_vector)]
        if self.translation_vector is not None:
            forms.append((list(self.translation_tokens), self.translation_vector))
        return forms

    @property
    def chinese(self) -> bool:
        return self.script != EN

    @property
    def wants_value(self) -> bool:
        return wants_value(set(self.kinds))


def blend(question: np.ndarray, translated: np.ndarray, weight: float) -> np.ndarray:
    """An English question's embedding blended with that of its bridged Chinese words: the small
    model matches Chinese words to Chinese passages more surely than English to Chinese."""
    vector = question + weight * translated
    return vector / np.linalg.norm(vector)


class QuestionAnalyser:
    """Builds Questions against one index (its bridge and vocabulary) and one embedder."""

    def __init__(self, index: Index, embedder: Embedder, settings: Settings):
        self.index, self.embedder, self.settings = index, embedder, settings
        self.query_map = shipped_map(settings.model) if settings.query_map else None
        self.translator = QueryTranslator.of(settings)

    def analyse(self, text: str) -> Question:
        """`text` (validated) analysed; only its first `max_analysed_chars` characters are read, which
        bounds a question's cost (a longer one is a pasted passage; the encoder reads 512 tokens)."""
        s, index = self.settings, self.index
        read = text[: s.max_analysed_chars]
        form = normalize_query(read)
        script = detect_script(read)
        terms: dict[str, list[str]] = {}
        if s.translate_queries:
            terms = index.bridge.translate(form) | index.bridge.names(read, index.bm25.document_frequency, s.names_per_run)
        tokens = index.tokenize(form) + [t for words in terms.values() for word in words for t in index.tokenize(word)]
        glossary = " ".join(dict.fromkeys(word for words in terms.values() for word in words))
        blended = bool(glossary) and s.translated_query_weight > 0
        vectors = self.embedder.embed_queries([form, glossary] if blended else [form])
        vector = search_vector = vectors[0]
        if script == EN and self.query_map is not None:
            search_vector = self.query_map.apply(vector)
        if blended:
            search_vector = blend(search_vector, vectors[1], s.translated_query_weight)
        subject = SubjectTerms(form, terms, lambda word: index.rarity(word, s.min_rarity))
        chinese = script != EN
        names = unknown_names(form[: s.max_name_scan_chars], index.indexed) if chinese else ()
        unmatched, share = ((), 0.0) if chinese else unmatched_words(subject, index.indexed)
        question = Question(text, script, form, terms, tokens, vector, search_vector, frozenset(expected_types(form)), subject, names, unmatched, share)
        return question if chinese or self.translator is None else self.translated(question)

    def translated(self, question: Question) -> Question:
        """An English question with its Chinese translation's tokens and vector, when the model gives one."""
        assert self.translator is not None
        translation = self.translator.translate(question.text[: self.settings.max_analysed_chars])
        if translation is None:
            return question
        form = normalize_query(translation)
        vector = self.embedder.embed_queries([form])[0]
        return replace(question, translation=translation, translation_tokens=tuple(self.index.tokenize(form)), translation_vector=vector)
