"""spaCy text handling: a registered slang/lemma normaliser component and sentence splitting."""

from __future__ import annotations

import functools
from importlib import resources

import spacy
from spacy.language import Language
from spacy.tokens import Doc

NORMALISER = "berakhlak_normaliser"


@functools.cache
def slang_table() -> dict[str, str]:
    """The project's informal-spelling table (``model/resources/slang_id.tsv``)."""
    text = resources.files("model").joinpath("resources/slang_id.tsv").read_text(encoding="utf-8")
    rows = (line.split("\t") for line in text.splitlines() if line.strip() and not line.startswith("#"))
    return {informal: standard for informal, standard in rows}


@functools.cache
def lemma_table():
    """Indonesian lemma lookup table from ``spacy-lookups-data`` (installed, read offline).

    A spaCy ``Table``: it is keyed by string hashes, so look words up with ``.get(word, default)``.
    """
    from spacy.lookups import load_lookups

    return load_lookups("id", ["lemma_lookup"]).get_table("lemma_lookup")


@Language.factory(NORMALISER)
def make_normaliser(nlp: Language, name: str):
    """spaCy factory: sets ``token.norm_`` from the slang table and ``token.lemma_`` from the lookup."""
    return SlangLemmaNormaliser(slang_table(), lemma_table())


class SlangLemmaNormaliser:
    """Pipeline component: informal spelling -> standard form -> lemma."""

    def __init__(self, slang: dict[str, str], lemmas):
        self.slang = slang
        self.lemmas = lemmas

    def __call__(self, doc: Doc) -> Doc:
        for token in doc:
            norm = self.slang.get(token.lower_, token.lower_)
            token.norm_ = norm
            token.lemma_ = " ".join(self.lemmas.get(part, part) for part in norm.split())
        return doc


@functools.cache
def normaliser_pipeline() -> Language:
    """``spacy.blank("id")`` with the normaliser (one per process)."""
    nlp = spacy.blank("id")
    nlp.add_pipe(NORMALISER)
    return nlp


@functools.cache
def sentence_pipeline() -> Language:
    """``spacy.blank("id")`` with the rule-based sentencizer (one per process)."""
    nlp = spacy.blank("id")
    nlp.add_pipe("sentencizer")
    return nlp


def normalise_text(text: str) -> str:
    """Lemmatised, slang-normalised lowercase tokens joined by spaces (input to lexical features)."""
    doc = normaliser_pipeline()(text)
    return " ".join(t.lemma_ for t in doc if not t.is_punct and not t.is_space)


def split_sentences(text: str) -> list[str]:
    """The sentences of a text, as spaCy's sentencizer cuts them (never empty for a non-empty text)."""
    sentences = [s.text.strip() for s in sentence_pipeline()(text).sents]
    return [s for s in sentences if s] or [text]
