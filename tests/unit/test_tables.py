"""The columnar tables an index is stored in: what goes in comes back, read from mapped files."""

import numpy as np
import pytest

from rag.index.tables import ChunkTable, Documents, SentenceTable, Strings
from rag.ingest.chunking import chunk_document, split_sentences
from rag.ingest.normalize import SearchForms, search_form

TEXTS = {
    "a.txt": "長沙市簽約了１２個項目。\n海口也簽約了57个项目，总投资𠮷100亿元。",
    "b.md": "",
    "c.txt": "English words, and 中文。Another sentence here!",
}


def test_strings_round_trip_through_mapped_files(tmp_path):
    values = ["", "長沙", "𠮷 outside the BMP", "x" * 1000, ""]
    Strings.write(tmp_path, "s", values)
    loaded = Strings.load(tmp_path, "s")
    assert isinstance(loaded.codes, np.memmap)
    assert list(loaded) == values and len(loaded) == 5
    assert loaded[-1] == "" and loaded[1:3] == values[1:3]
    with pytest.raises(IndexError):
        loaded[5]


def test_documents_is_a_mapping_read_on_demand(tmp_path):
    assert Documents.write(tmp_path, TEXTS) == list(TEXTS)
    documents = Documents.load(tmp_path)
    assert dict(documents) == TEXTS and list(documents) == list(TEXTS)
    assert "b.md" in documents and "z.txt" not in documents
    with pytest.raises(KeyError):
        documents["z.txt"]


def test_chunk_and_sentence_tables_give_back_the_rows(tmp_path):
    forms = {doc_id: search_form(text) for doc_id, text in TEXTS.items()}
    chunks = [c for doc_id, form in forms.items() for c in chunk_document(doc_id, form, 20, 5)]
    sentences = [s for doc_id, form in forms.items() for s in split_sentences(doc_id, form)]
    stored = SearchForms.of(forms)
    stored.save(tmp_path)
    ids = list(TEXTS)
    ChunkTable.write(tmp_path, chunks, ids)
    SentenceTable.write(tmp_path, sentences, ids)
    loaded_forms = SearchForms.load(tmp_path)
    chunk_table, sentence_table = ChunkTable.load(tmp_path, ids, loaded_forms), SentenceTable.load(tmp_path, ids)
    assert len(chunks) > 3 and list(chunk_table) == chunks and chunk_table[-1] == chunks[-1]
    assert list(sentence_table) == sentences and sentence_table[1:3] == sentences[1:3]
    assert list(chunk_table.ids) == [c.chunk_id for c in chunks]
    assert isinstance(chunk_table.columns, np.memmap) and isinstance(sentence_table.columns, np.memmap)
