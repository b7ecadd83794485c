"""Is the evidence strong enough to answer? The hand rules, kept beside the reader's learned
decision (rag/answering/reader.py) because on the held-out seed set they catch unanswerable news
questions it misses (see README, "Answers"). Five signals, thresholds chosen on the dev set
(`abstain_*` settings); the question-side ones come from rag/analysis/.

- Dense standout: how far the best cosine rises above this query's cosine with typical passages
  (a z-score against a fixed sample of the index). Raw cosines are not comparable across queries:
  an English question scores ~0.1 lower against Chinese text than a Chinese one does.
- Term support, for Chinese questions: the idf-weighted share of the question's content words that
  the cited passage actually contains. Zero means the passage shares no subject with the question,
  however close its vector. English questions reach Chinese words only through the dictionary
  bridge, whose sense choice is too rough to judge by (`capacity` -> 潜力), so a low share does
  not make them abstain.
- Either way, a passage holding most of the question's subject words (`abstain_support_override`)
  answers even when its vector does not stand out: found words are firm evidence, missing ones
  are not (an English word may have been bridged to the wrong sense). An English question's
  vector stands out less against Chinese text anyway, so it abstains on that ground only when
  one of its subject words also reaches nothing in the corpus ("population", "Paris"), and even
  then answers when the sentence carries the count, amount or date asked for and the passage
  holds some of the subject (`abstain_support`): the dictionary lacks many words ("subsidy" for
  奖补, "delivery" for 直达), and a value of the asked-for kind beside the subject is evidence too.
- Unknown names, for Chinese questions: a place, person, organisation or Latin word of the question
  that no indexed passage contains ("东京", "GDP") means the corpus cannot answer it, however
  well the rest matches. English names reach the corpus only through a dictionary or a
  transliteration, and the corpus may spell them another way ("Yangtze River" is 长江, which the
  dictionary glosses otherwise), so their absence proves too little (tried: it declined 3 of 36
  answerable held-out questions).
- Unmatched words, for English questions: when at least half of the subject words reach nothing in
  the corpus (no translation it uses, no pinyin name, not indexed as written: "won", "FIFA",
  "cup", "2022"), the question is about something else. One missing word proves little (the
  dictionary lacks many), a majority does.
"""

from __future__ import annotations

import numpy as np

from rag.analysis.question import Question
from rag.results import Evidence
from rag.settings import Settings


def gather_evidence(question: Question, best_cosine: float, background: np.ndarray, passage: str) -> Evidence:
    """The signals for one answer: the question's own (names, unmatched words) and how well the
    best-matching hit and `passage` support it."""
    return Evidence(
        standout=standout(best_cosine, question.vector, background),
        support=question.subject.support(passage),
        by_terms=question.chinese,
        unknown_names=list(question.unknown_names),
        unmatched_words=list(question.unmatched),
        unmatched_share=question.unmatched_share,
    )


def too_weak(evidence: Evidence, settings: Settings, value_found: bool = False) -> bool:
    """Should the answer be withheld? `value_found`: the answer sentence carries the count, amount
    or date the question asks for."""
    s = settings
    if evidence.standout < s.abstain_standout:
        if evidence.support >= s.abstain_support_override:  # the passage holds most of the subject
            return False
        if evidence.by_terms:
            return True
        if not evidence.unmatched_words:  # an English question's vector is weaker against Chinese text: alone it proves little
            return False
        # nor do a few untranslated English words, when the sentence says the kind of value asked
        # for and the passage holds some of the subject
        return not (value_found and evidence.support >= s.abstain_support)
    return evidence.by_terms and evidence.support < s.abstain_support


def standout(best: float, query: np.ndarray, background: np.ndarray) -> float:
    cosines = background @ query
    return float((best - cosines.mean()) / max(float(cosines.std()), 1e-6))


def background_sample(vectors, size: int, sample: int) -> np.ndarray:
    """`sample` evenly spaced stored vectors: deterministic, and cheap to score against every query."""
    ids = np.unique(np.linspace(0, size - 1, num=min(size, sample)).astype(np.int64)).tolist()
    return vectors(ids)
